// The tool grid: search as you type, favourites and recently used tools (kept in this
// browser, per user), Escape clears the search.
import { el } from "./api.js";

const search = document.getElementById("tool-search");
const cards = [...document.querySelectorAll(".tool-group .tool-card-wrap")];
const groups = [...document.querySelectorAll(".tool-group")];
const noMatch = document.querySelector("[data-no-match]");
const user = document.querySelector(".whoami")?.textContent || "anonymous";
const favKey = `pixelsmith-favourites:${user}`;
const recentKey = `pixelsmith-recent:${user}`;

function stored(key) {
  try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
}

function filter() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const card of cards) {
    const match = words.every((word) => card.dataset.search.includes(word));
    card.hidden = !match;
    if (match) shown++;
  }
  for (const group of groups) group.hidden = !group.querySelector(".tool-card-wrap:not([hidden])");
  noMatch.hidden = shown > 0;
}

function copyCard(id) {
  const original = cards.find((card) => card.dataset.toolId === id);
  if (!original) return null;
  const card = original.querySelector(".tool-card").cloneNode(true);
  // The copy's description id must not repeat the grid's.
  for (const node of card.querySelectorAll("[id]")) node.id = `${node.id}-copy`;
  card.querySelector("a").setAttribute("aria-describedby", `td-${id}-copy`);
  return el("div", { class: "tool-card-wrap" }, card);
}

function renderLists() {
  const favourites = stored(favKey);
  const favBox = document.querySelector("[data-favourites]");
  favBox.replaceChildren(...favourites.map(copyCard).filter(Boolean));
  document.getElementById("favourites").hidden = favBox.children.length === 0;
  const recent = stored(recentKey).filter((id) => !favourites.includes(id)).slice(0, 6);
  const recentBox = document.querySelector("[data-recent]");
  recentBox.replaceChildren(...recent.map(copyCard).filter(Boolean));
  document.getElementById("recent").hidden = recentBox.children.length === 0;
  for (const button of document.querySelectorAll("[data-fav]")) {
    button.setAttribute("aria-pressed", String(favourites.includes(button.dataset.fav)));
  }
}

for (const button of document.querySelectorAll("[data-fav]")) {
  button.addEventListener("click", () => {
    const favourites = stored(favKey);
    const id = button.dataset.fav;
    const next = favourites.includes(id) ? favourites.filter((f) => f !== id) : [...favourites, id];
    localStorage.setItem(favKey, JSON.stringify(next));
    renderLists();
  });
}
search.addEventListener("input", filter);
search.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { search.value = ""; filter(); }
  if (event.key === "Enter") {
    const first = cards.find((card) => !card.hidden);
    if (first) location.href = first.querySelector("a.stretched").href;
  }
});
if (new URLSearchParams(location.search).has("search")) search.focus();
renderLists();
