// Every page: the phone menu, the theme toggle, Ctrl/⌘+K to search tools.
const nav = document.getElementById("main-nav");
const toggle = document.querySelector("[data-nav-toggle]");
if (nav && toggle) {
  toggle.addEventListener("click", () => {
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen) return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}
const themeButton = document.querySelector("[data-theme-toggle]");
if (themeButton) {
  const label = () => themeButton.setAttribute("aria-pressed", String(currentTheme() === "dark"));
  label();
  themeButton.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("pixelsmith-theme", next); } catch (e) { /* not saved */ }
    label();
  });
}

document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    const search = document.getElementById("tool-search");
    if (search) search.focus();
    else location.href = "/?search=1";
  }
});
