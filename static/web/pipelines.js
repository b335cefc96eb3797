// The pipeline builder: steps (add, drag or arrow-button reorder, remove), each step's
// settings form from its tool's schema, live validation (each form first, then the server's
// own step-named errors), saved pipelines (save, load, delete), JSON import and export.
// The unsaved pipeline is kept in localStorage, so a reload loses nothing.
import { api, el, pageData, toast, t as common, copyText } from "./api.js";
import { schemaForm } from "./schema-form.js";
import { setupRun } from "./pipelines-run.js";
import { enableDrag } from "./pipelines-drag.js";

const data = pageData("pipeline-data");
const tools = new Map(data.tools.map((tool) => [tool.id, tool]));
const user = document.querySelector(".whoami")?.textContent || "anonymous";
const draftKey = `pixelsmith-pipeline-draft:${user}`;
const phone = matchMedia("(max-width: 760px)");

const $ = (selector) => document.querySelector(selector);
const list = $("[data-steps]");
const nameInput = $("[data-name]");
const descriptionInput = $("[data-description]");
const validity = $("[data-validity]");
const pipelineError = $("[data-pipeline-error]");
const announcer = $("[data-announce]");

/** A translated text of this page ({n}-style placeholders), else a common one. */
export function t(key, values = {}) {
  let text = data.strings[key];
  if (text === undefined) return common(key, values);
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

export function announce(message) {
  announcer.textContent = "";
  setTimeout(() => { announcer.textContent = message; }, 30);
}

const state = { steps: [], savedId: null, saved: data.saved, runInputs: 1 };
let stepCount = 0;

// --- Steps ---------------------------------------------------------------------------

const ICONS = {
  up: "M12 19V5m0 0-6 6m6-6 6 6",
  down: "M12 5v14m0 0-6-6m6 6 6-6",
  remove: "M6 6l12 12M18 6 6 18",
  chevron: "m6 9 6 6 6-6",
};
function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2.2");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

function toolName(toolId) {
  return tools.get(toolId)?.name || toolId;
}

/** One step's list item, with its form built from the tool's settings schema. */
function createStep(toolId, settings = {}, { collapsed = false } = {}) {
  const uid = `step${++stepCount}`;
  const tool = tools.get(toolId);
  const title = el("h3", { class: "pl-step-title", id: `${uid}-title` });
  const badge = el("span", { class: "pl-num", "aria-hidden": "true" });
  const handle = el("span", { class: "pl-handle", "aria-hidden": "true", title: t("dragHint") },
    el("span"), el("span"), el("span"));
  const toggle = el("button", { type: "button", class: "icon-button pl-toggle", "aria-controls": `${uid}-body` }, icon("chevron"));
  const up = el("button", { type: "button", class: "icon-button" }, icon("up"));
  const down = el("button", { type: "button", class: "icon-button" }, icon("down"));
  const remove = el("button", { type: "button", class: "icon-button pl-remove" }, icon("remove"));
  const summary = el("p", { class: "pl-summary muted small" });
  const error = el("p", { class: "alert error pl-step-error", id: `${uid}-error`, hidden: true });
  const body = el("div", { class: "pl-step-body", id: `${uid}-body` });
  const item = el("li", { class: "pl-step", "aria-labelledby": `${uid}-title`, "aria-describedby": `${uid}-error`, "data-tool": toolId },
    el("div", { class: "pl-step-head" }, handle, badge, title, el("div", { class: "pl-step-tools" }, toggle, up, down, remove)),
    summary, error, body);
  const step = { uid, toolId, item, title, badge, toggle, up, down, remove, summary, error, body, form: null, raw: settings };
  if (tool) {
    step.form = schemaForm(body, tool.settings, { values: settings, onChange: () => changed() });
    if (!Object.keys(tool.settings.properties || {}).length && !tool.settings.oneOf) body.replaceChildren(el("p", { class: "muted small" }, t("noSettings")));
  } else {
    body.replaceChildren(el("p", { class: "muted small" }, toolId));
  }
  toggle.addEventListener("click", () => setCollapsed(step, toggle.getAttribute("aria-expanded") === "true"));
  up.addEventListener("click", () => move(step, -1, up));
  down.addEventListener("click", () => move(step, 1, down));
  remove.addEventListener("click", () => removeStep(step));
  enableDrag(handle, item, list, () => reorderFromDom(step));
  setCollapsed(step, collapsed);
  return step;
}

function setCollapsed(step, collapsed) {
  step.toggle.setAttribute("aria-expanded", String(!collapsed));
  step.body.hidden = collapsed;
  step.item.classList.toggle("collapsed", collapsed);
  step.summary.hidden = !collapsed;
  if (collapsed) step.summary.textContent = summaryOf(step);
}

/** "width 200 · fit cover": the settings of a collapsed step at a glance. */
function summaryOf(step) {
  const values = settingsOf(step);
  const parts = Object.entries(values).filter(([, v]) => v !== false && v !== null && v !== "")
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return parts.join(" · ") || t("defaults");
}

function settingsOf(step) {
  return step.form ? step.form.read() : step.raw || {};
}

function renumber() {
  const total = state.steps.length;
  state.steps.forEach((step, index) => {
    const n = index + 1;
    const name = toolName(step.toolId);
    step.title.replaceChildren(el("span", { class: "visually-hidden" }, t("stepTitle", { n, tool: "" })), name);
    step.badge.textContent = String(n);
    step.toggle.setAttribute("aria-label", t("toggle", { n }));
    step.up.setAttribute("aria-label", t("moveUp", { n }));
    step.down.setAttribute("aria-label", t("moveDown", { n }));
    step.remove.setAttribute("aria-label", t("remove", { n, tool: name }));
    step.up.disabled = index === 0;
    step.down.disabled = index === total - 1;
    if (step.item.classList.contains("collapsed")) step.summary.textContent = summaryOf(step);
  });
  $("[data-empty]").hidden = total > 0;
  list.hidden = total === 0;
}

export function addStep(toolId, settings = {}, options = {}) {
  const step = createStep(toolId, settings, options);
  state.steps.push(step);
  list.append(step.item);
  return step;
}

function move(step, delta, button) {
  const from = state.steps.indexOf(step);
  const to = from + delta;
  if (to < 0 || to >= state.steps.length) return;
  state.steps.splice(from, 1);
  state.steps.splice(to, 0, step);
  if (delta < 0) state.steps[to + 1].item.before(step.item);
  else state.steps[to - 1].item.after(step.item);
  changed();
  (button.disabled ? (delta < 0 ? step.down : step.up) : button).focus();
  announce(t("movedTo", { tool: toolName(step.toolId), n: to + 1 }));
}

function reorderFromDom(step) {
  const order = [...list.children];
  const before = state.steps.indexOf(step);
  state.steps.sort((a, b) => order.indexOf(a.item) - order.indexOf(b.item));
  const after = state.steps.indexOf(step);
  if (before === after) return;
  changed();
  announce(t("movedTo", { tool: toolName(step.toolId), n: after + 1 }));
}

function removeStep(step) {
  const index = state.steps.indexOf(step);
  state.steps.splice(index, 1);
  step.item.remove();
  changed();
  announce(t("removed", { n: index + 1, tool: toolName(step.toolId) }));
  const next = state.steps[index] || state.steps[index - 1];
  (next ? next.remove : $("[data-add-step]")).focus();
}

function clearSteps() {
  for (const step of state.steps) step.item.remove();
  state.steps = [];
}

export function stepsJson() {
  return state.steps.map((step) => ({ toolId: step.toolId, settings: settingsOf(step) }));
}

// --- Validation ----------------------------------------------------------------------

let timer = null;
let checkSeq = 0;
let valid = false;

/** Something changed: renumber, keep the draft, check again shortly. */
function changed() {
  renumber();
  saveDraft();
  valid = false;
  clearTimeout(timer);
  timer = setTimeout(validate, 450);
  document.dispatchEvent(new CustomEvent("pipeline:changed"));
}

function showStepError(step, message) {
  step.error.textContent = message || "";
  step.error.hidden = !message;
  step.item.classList.toggle("invalid", Boolean(message));
}

/** Problems found in the browser: tools that cannot be steps, order, each step's form. */
function clientProblems() {
  const problems = [];
  state.steps.forEach((step, index) => {
    const n = index + 1;
    const tool = tools.get(step.toolId);
    if (!tool) problems.push([step, t("notAStep", { n, tool: step.toolId })]);
    else if (tool.lastOnly && n < state.steps.length) problems.push([step, t("lastOnly", { n, tool: step.toolId })]);
    else {
      const errors = step.form.validate();
      const [field, message] = Object.entries(errors)[0] || [];
      if (field) problems.push([step, t("fieldError", { n, tool: step.toolId, field, message })]);
    }
  });
  return problems;
}

/** The server's answer to these steps (POST /pipeline/validate runs nothing): null when
 * valid, else its step-named error. */
async function serverProblem() {
  try {
    await api("/api/v1/pipeline/validate", { method: "POST", json: { steps: stepsJson(), eachFile: state.runInputs > 1 } });
    return null;
  } catch (error) {
    return error;
  }
}

/** The step a server message names ("Step 2 (rotate): ..."), and the rest of it. */
export function stepOfMessage(message) {
  const match = /^Step (\d+)(?: \([^)]*\))?: (.*)$/s.exec(message || "");
  if (!match) return [null, message];
  return [state.steps[Number(match[1]) - 1] || null, match[2]];
}

export function showServerError(message) {
  const [step, rest] = stepOfMessage(message);
  if (step) {
    showStepError(step, message);
    if (step.form && !step.body.hidden) step.form.showServerError(rest);
  } else {
    pipelineError.textContent = message;
    pipelineError.hidden = false;
  }
}

function setValidity(kind, message) {
  validity.className = `pl-validity ${kind}`;
  validity.textContent = message;
}

/** Check now: returns true when the server accepts the steps as they are. */
export async function validate() {
  clearTimeout(timer);
  const seq = ++checkSeq;
  for (const step of state.steps) showStepError(step, "");
  pipelineError.hidden = true;
  if (!state.steps.length) {
    setValidity("", t("empty"));
    return false;
  }
  const problems = clientProblems();
  if (problems.length) {
    for (const [step, message] of problems) showStepError(step, message);
    setValidity("bad", t("invalid"));
    return false;
  }
  setValidity("busy", t("checking"));
  const problem = await serverProblem();
  if (seq !== checkSeq) return valid;
  valid = !problem;
  if (problem) {
    showServerError(problem.message);
    setValidity("bad", t("invalid"));
  } else {
    const n = state.steps.length;
    setValidity("ok", n === 1 ? t("validOne") : t("valid", { n }));
  }
  return valid;
}

// --- The step picker -------------------------------------------------------------------

const addButton = $("[data-add-step]");
const picker = $("#step-picker");
const search = $("#step-search");
const pickerList = $("[data-picker-list]");

function renderPicker() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  const groups = new Map();
  for (const tool of data.tools) {
    const text = `${tool.name} ${tool.id} ${tool.description}`.toLowerCase();
    if (!words.every((word) => text.includes(word))) continue;
    if (!groups.has(tool.category)) groups.set(tool.category, []);
    groups.get(tool.category).push(tool);
  }
  const nodes = [];
  let index = 0;
  for (const [category, members] of groups) {
    const id = `pick-cat-${index++}`;
    nodes.push(el("h3", { class: "pl-pick-cat", id }, category));
    nodes.push(el("ul", { class: "pl-pick-list", "aria-labelledby": id }, members.map((tool) => el("li", {},
      el("button", { type: "button", class: "pl-pick", "data-pick": tool.id, "aria-describedby": `pick-${tool.id}-desc` },
        el("span", { class: "pl-pick-name" }, tool.name),
        tool.lastOnly ? el("span", { class: "badge" }, t("lastOnlyBadge")) : null),
      el("span", { class: "pl-pick-desc muted small", id: `pick-${tool.id}-desc` }, tool.description)))));
  }
  pickerList.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "muted" }, t("noMatch"))]));
}

function openPicker(open) {
  picker.hidden = !open;
  addButton.setAttribute("aria-expanded", String(open));
  if (open) {
    search.value = "";
    renderPicker();
    search.focus();
  }
}

addButton.addEventListener("click", () => openPicker(picker.hidden));
search.addEventListener("input", renderPicker);
picker.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { openPicker(false); addButton.focus(); }
});
search.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    pickerList.querySelector("[data-pick]")?.click();
  }
});
pickerList.addEventListener("click", (event) => {
  const button = event.target.closest("[data-pick]");
  if (!button) return;
  const step = addStep(button.dataset.pick);
  openPicker(false);
  changed();
  announce(t("added", { tool: toolName(step.toolId), n: state.steps.length }));
  step.item.scrollIntoView({ block: "nearest", behavior: "smooth" });
  (step.form?.fields()[0]?.input || step.remove).focus({ preventScroll: true });
});

// --- Builder contents: draft, load, new -----------------------------------------------

function saveDraft() {
  const draft = { name: nameInput.value, description: descriptionInput.value, savedId: state.savedId, steps: stepsJson() };
  try { localStorage.setItem(draftKey, JSON.stringify(draft)); } catch (e) { /* not kept */ }
}

/** Replace the builder's contents (a loaded, imported or restored pipeline). */
export function setPipeline({ name = "", description = "", steps = [], savedId = null }) {
  clearSteps();
  nameInput.value = name;
  descriptionInput.value = description;
  state.savedId = savedId;
  const collapse = phone.matches && steps.length > 1;
  for (const item of steps) addStep(item.toolId, item.settings || {}, { collapsed: collapse });
  showNameError("");
  changed();
  renderSaved();
}

nameInput.addEventListener("input", () => { showNameError(""); saveDraft(); });
descriptionInput.addEventListener("input", saveDraft);
$("[data-new]").addEventListener("click", () => {
  setPipeline({});
  nameInput.focus();
});

// --- Saved pipelines -------------------------------------------------------------------

const savedList = $("[data-saved]");

function stepsLabel(steps) {
  const count = steps.length === 1 ? t("oneStep") : t("stepsCount", { n: steps.length });
  return `${count} · ${steps.map((s) => toolName(s.toolId)).join(" → ")}`;
}

function renderSaved() {
  if (!state.saved.length) {
    savedList.replaceChildren(el("li", { class: "muted pl-saved-empty" }, t("noSaved")));
    return;
  }
  savedList.replaceChildren(...state.saved.map((item) => el("li", { class: `pl-saved-item${item.id === state.savedId ? " current" : ""}` },
    el("div", { class: "pl-saved-text" },
      el("span", { class: "pl-saved-name" }, item.name, item.id === state.savedId ? el("span", { class: "badge accent" }, t("open")) : null),
      item.description ? el("span", { class: "muted small" }, item.description) : null,
      el("span", { class: "muted small pl-saved-steps" }, stepsLabel(item.steps))),
    el("div", { class: "pl-saved-actions" },
      el("button", { type: "button", class: "button", "aria-label": t("loadName", { name: item.name }), "data-load": item.id }, t("load")),
      el("button", { type: "button", class: "button danger", "aria-label": t("deleteName", { name: item.name }), "data-delete": item.id }, t("delete"))))));
}

async function refreshSaved() {
  try {
    state.saved = (await api("/api/v1/pipeline/list")).pipelines;
  } catch (error) {
    toast(error.message, "error");
  }
  renderSaved();
}

function loadSaved(item) {
  setPipeline({ name: item.name, description: item.description, steps: item.steps, savedId: item.id });
  toast(t("loaded", { name: item.name }));
  document.getElementById("builder-title").scrollIntoView({ behavior: "smooth" });
}

savedList.addEventListener("click", async (event) => {
  const load = event.target.closest("[data-load]");
  const remove = event.target.closest("[data-delete]");
  if (load) {
    const item = state.saved.find((p) => p.id === load.dataset.load);
    if (item) loadSaved(item);
  } else if (remove) {
    const item = state.saved.find((p) => p.id === remove.dataset.delete);
    if (!item || !confirm(common("confirmDelete", { name: item.name }))) return;
    try {
      await api(`/api/v1/pipeline/${item.id}`, { method: "DELETE" });
      if (state.savedId === item.id) { state.savedId = null; saveDraft(); }
      toast(common("deleted"));
      await refreshSaved();
      savedList.querySelector("button")?.focus();
    } catch (error) {
      toast(error.message, "error");
    }
  }
});

function showNameError(message) {
  const error = $("#pl-name-error");
  error.textContent = message;
  error.hidden = !message;
  nameInput.setAttribute("aria-invalid", message ? "true" : "false");
}

/** Save: a new saved pipeline; under the open one's name (and yours), it is updated in place. */
async function save() {
  const name = nameInput.value.trim();
  if (!name) {
    showNameError(t("nameRequired"));
    nameInput.focus();
    return;
  }
  if (!(await validate())) return;
  const replaces = state.saved.find((p) => p.id === state.savedId && p.name === name && (!p.owner || p.owner.username === user));
  try {
    const body = { name, description: descriptionInput.value.trim(), steps: stepsJson() };
    const created = replaces
      ? await api(`/api/v1/pipeline/${replaces.id}`, { method: "PUT", json: body })
      : await api("/api/v1/pipeline/save", { method: "POST", json: body });
    state.savedId = created.id;
    saveDraft();
    toast(t("savedAs", { name }));
    await refreshSaved();
  } catch (error) {
    if (/^name\b/i.test(error.message)) showNameError(error.message);
    else showServerError(error.message);
    toast(error.message, "error");
  }
}
$("[data-save]").addEventListener("click", save);

// --- Import and export -----------------------------------------------------------------

function exported() {
  return { name: nameInput.value.trim(), description: descriptionInput.value.trim(), steps: stepsJson() };
}

function fileNameOf(name) {
  return `${(name || "pipeline").replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "") || "pipeline"}.pipeline.json`;
}

$("[data-export]").addEventListener("click", () => {
  const blob = new Blob([JSON.stringify(exported(), null, 2)], { type: "application/json" });
  const link = el("a", { href: URL.createObjectURL(blob), download: fileNameOf(nameInput.value.trim()), hidden: true });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
});
$("[data-copy-json]").addEventListener("click", (event) => {
  copyText(JSON.stringify(exported(), null, 2), event.currentTarget).catch((error) => toast(error.message, "error"));
});

/** Parsed and checked pipeline JSON: {name, description, steps}; throws Error(message). */
export function parseImport(text) {
  let parsed;
  try { parsed = JSON.parse(text); } catch (error) { throw new Error(t("importBad", { message: error.message })); }
  const steps = Array.isArray(parsed) ? parsed : parsed?.steps;
  if (!Array.isArray(steps) || !steps.length) throw new Error(t("importShape"));
  if (steps.length > data.maxSteps) throw new Error(t("importTooMany", { n: data.maxSteps }));
  steps.forEach((step, index) => {
    const okSettings = step?.settings === undefined || step?.settings === null || (typeof step.settings === "object" && !Array.isArray(step.settings));
    if (!step || typeof step.toolId !== "string" || !okSettings) throw new Error(t("importStep", { n: index + 1 }));
    if (!tools.has(step.toolId)) throw new Error(t("importUnknown", { n: index + 1, tool: step.toolId }));
  });
  const text_ = (value) => (typeof value === "string" ? value : "");
  return { name: text_(parsed.name), description: text_(parsed.description), steps: steps.map((s) => ({ toolId: s.toolId, settings: s.settings || {} })) };
}

const importText = $("[data-import-text]");
const importError = $("[data-import-error]");
function runImport() {
  try {
    const pipeline = parseImport(importText.value);
    importError.hidden = true;
    importText.setAttribute("aria-invalid", "false");
    setPipeline(pipeline);
    toast(t("imported", { n: pipeline.steps.length }));
    validate();
  } catch (error) {
    importError.textContent = error.message;
    importError.hidden = false;
    importText.setAttribute("aria-invalid", "true");
    importText.focus();
  }
}
$("[data-import]").addEventListener("click", runImport);
$("[data-import-file]").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  importText.value = await file.text();
  event.target.value = "";
  runImport();
});

// --- Start -----------------------------------------------------------------------------

function restore() {
  const wanted = data.load && data.saved.find((p) => p.id === data.load);
  if (wanted) return setPipeline({ ...wanted, savedId: wanted.id });
  if (data.steps) { // a library version's recipe, from its file page
    try {
      return setPipeline({ steps: parseImport(data.steps).steps });
    } catch (error) { toast(error.message, "error"); }
  }
  let draft = null;
  try { draft = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { draft = null; }
  const steps = (draft?.steps || []).filter((s) => s && typeof s.toolId === "string");
  setPipeline({ name: draft?.name || "", description: draft?.description || "", steps, savedId: draft?.savedId || null });
}

restore();
setupRun({
  stepsJson,
  validate,
  showServerError,
  setInputs(count) {
    const before = state.runInputs > 1;
    state.runInputs = count;
    if (before !== count > 1 && state.steps.length) changed();
  },
  hasSteps: () => state.steps.length > 0,
  fileId: data.file,
  t,
});
