// The user's settings: API keys (create -> shown once with Copy, list, delete).
import { api, copyText, el, t, toast } from "./api.js";
import { actionButton, confirmDialog, formatDate, s, showError } from "./admin-ui.js";

const form = document.getElementById("create-key");
const error = document.querySelector("[data-error]");
const reveal = document.querySelector("[data-new-key]");
const revealInput = document.getElementById("new-key-value");
const copyButton = reveal.querySelector("[data-copy]");
const body = document.querySelector("[data-keys]");
const ownerColumn = document.querySelector("[data-owner-col]");

function row(key, withOwner) {
  return el("tr", { "data-key": key.name },
    el("th", { scope: "row", "data-label": s("name") }, key.name),
    withOwner ? el("td", { "data-label": s("owner") }, key.owner ? key.owner.username : "—") : null,
    el("td", { "data-label": s("key") }, el("code", {}, `${key.prefix}…`)),
    el("td", { "data-label": s("created") }, formatDate(key.createdAt)),
    el("td", { "data-label": s("lastUsed") }, formatDate(key.lastUsedAt)),
    el("td", { class: "actions-cell" }, actionButton(s("delete"), key.name, { kind: "danger", onclick: () => remove(key) })));
}

async function load() {
  const { apiKeys } = await api("/api/v1/api-keys");
  const withOwner = apiKeys.some((k) => k.owner);
  ownerColumn.hidden = !withOwner;
  body.replaceChildren(...(apiKeys.length
    ? apiKeys.map((k) => row(k, withOwner))
    : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, s("noKeys")))]));
}

async function remove(key) {
  const ok = await confirmDialog(s("confirmDeleteKey", { name: key.name }), s("delete"),
    () => api(`/api/v1/api-keys/${key.id}`, { method: "DELETE" }));
  if (ok) {
    toast(t("deleted"));
    if (revealInput.dataset.keyId === key.id) reveal.hidden = true;
    load();
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = form.elements.name.value.trim();
  try {
    const created = await api("/api/v1/api-keys", { method: "POST", json: name ? { name } : {} });
    showError(error, "");
    revealInput.value = created.key;
    revealInput.dataset.keyId = created.id;
    reveal.hidden = false;
    reveal.focus();
    form.reset();
    toast(s("keyCreated"));
    load();
  } catch (problem) {
    showError(error, problem.message);
  }
});

copyButton.addEventListener("click", async () => {
  revealInput.select();
  try {
    await copyText(revealInput.value, copyButton);
  } catch (problem) {
    document.execCommand("copy"); // http:// pages have no Clipboard API: the old way
    toast(t("copied"));
  }
});

load().catch((problem) => showError(error, problem.message));
