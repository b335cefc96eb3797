// The tool page: inputs (picker, drop, paste, library), the settings form generated from the
// tool's schema (with its custom widget), Run (a batch with several files), the progress card
// (SSE) and the result. `?job=` recovers a job after a reload; `?file=` preselects a library
// file; `?settings=` (URL-encoded JSON) fills in the form.
import { api, el, formatBytes, limits, pageData, stageFiles, upload } from "./api.js";
import { progressCard } from "./jobs-watch.js";
import { schemaForm } from "./schema-form.js";
import { inputList, wireSources } from "./tool-input.js";
import { libraryPicker } from "./tool-library.js";
import { showResult } from "./tool-result.js";
import { collagePicker, imageWidget } from "./tool-widgets.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);
const tool = pageData("tool-data");
const text = pageData("tool-strings");
const params = new URLSearchParams(location.search);
const $ = (selector) => document.querySelector(selector);

const runButton = $("[data-run]");
const runError = $("[data-run-error]");
const preview = $("[data-preview]");
const previewBody = $("[data-preview-body]");
const progressBox = $("[data-progress]");
const resultBox = $("[data-result]");
const resultBody = $("[data-result-body]");
const emptyStage = $("[data-empty]");
const blocked = !tool.enabled || Boolean(tool.readiness && !tool.readiness.available);
let widget = null;
let collage = null;
let running = false;

function parsedSettings() {
  try {
    const value = JSON.parse(params.get("settings") || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch (error) {
    return {};
  }
}

const form = schemaForm($("[data-settings-fields]"), tool.settings, {
  values: parsedSettings(),
  exclude: tool.id === "erase-object" ? ["maskData"] : [],
  onChange: (values) => {
    widget?.settingsChanged?.(values);
    collage?.settingsChanged?.(values);
  },
});
if (tool.id === "collage" && tool.widgets?.collageTemplates) {
  collage = collagePicker({ container: $("[data-widget-controls]"), templates: tool.widgets.collageTemplates, form, text });
  collage.settingsChanged(form.read());
}

const inputs = tool.inputs === "none" ? null : inputList({
  tool, text, listEl: $("[data-file-list]"), errorsEl: $("[data-input-errors]"), onChange: inputsChanged,
});
if (inputs) {
  wireSources(inputs, { dropzone: $("[data-dropzone]"), picker: $("#tool-files") });
  const picker = libraryPicker({
    dialog: $("[data-library-dialog]"), text, multiple: tool.inputs !== "optional",
    onPick: (files) => inputs.addLibrary(files),
  });
  $("[data-open-library]")?.addEventListener("click", () => picker.open());  // none for videos
}

function isBatch(items) {
  return tool.inputs === "one" && items.length > 1;
}

function updateRun() {
  const items = inputs ? inputs.items() : [];
  runButton.textContent = isBatch(items) ? text.runOn.replace("{n}", items.length) : text.run;
  runButton.disabled = blocked || running;
}

/** A chosen video, playable (a video tool's inputs are no images to draw on). */
function videoPreview(item) {
  return el("video", { src: item.url, controls: "", preload: "metadata", class: "preview-video", "aria-label": item.name });
}

function singleImage(item) {
  if (tool.takesVideo) { previewBody.replaceChildren(videoPreview(item)); return; }
  const img = el("img", { src: item.url, alt: item.name, class: "preview-image", draggable: "false" });
  const frame = el("div", { class: "preview-frame checker" }, img);
  const note = el("p", { class: "muted small widget-note" });
  const controls = el("div", { class: "widget-controls" });
  widget = imageWidget(tool.id, { frame, img, form, text, note, controls });
  img.addEventListener("load", () => {
    widget?.imageLoaded?.();
    widget?.settingsChanged?.(form.read());
  });
  previewBody.replaceChildren(frame, note.textContent ? note : "", controls);
}

function inputsChanged(items) {
  updateRun();
  widget = null;
  preview.hidden = items.length === 0;
  emptyStage.hidden = items.length > 0 || !resultBox.hidden || progressBox.childElementCount > 0;
  if (!items.length) { previewBody.replaceChildren(); return; }
  if (items.length === 1 || tool.inputs === "optional") { singleImage(items[0]); return; }
  previewBody.replaceChildren(el("div", { class: "preview-grid" }, ...items.map((item) => el("figure", { class: "checker-figure" },
    tool.takesVideo ? videoPreview(item) : el("div", { class: "checker" }, el("img", { src: item.thumb || item.url, alt: item.name, loading: "lazy" })),
    el("figcaption", { class: "small" }, item.name)))));
}

function showRunError(message) {
  runError.textContent = message;
  runError.hidden = !message;
}

/** The bytes one request would send: a run is one request, and the limit is per request. */
function sentBytes(items) {
  const sent = tool.inputs === "one" || tool.inputs === "optional" ? items.filter((i) => i.kind === "file") : items;
  return sent.reduce((total, item) => total + (item.size || 0), 0);
}

function inputProblem(items) {
  const total = sentBytes(items);
  // A batch sends each file on its own (stageFiles): only one-request runs meet the limit.
  if (!isBatch(items) && total + 64 * 1024 > limits.maxUploadBytes) {
    return text.requestTooLarge.replace("{total}", formatBytes(total)).replace("{mb}", limits.maxUploadMb);
  }
  if (tool.inputs === "one" && items.length === 0) return text.needFile;
  if (tool.inputs === "two" && items.length !== 2) return text.needTwo;
  if (tool.inputs === "many" && items.length < Math.max(1, tool.minInputs || 1)) return text.needMore.replace("{n}", Math.max(1, tool.minInputs || 1));
  return "";
}

async function asFile(item) {
  if (item.kind === "file") return item.file;
  const response = await api(item.url, { raw: true });
  return new File([await response.blob()], item.name, { type: response.headers.get("Content-Type") || "" });
}

/** The request for the chosen inputs: [path, FormData]. A batch's files are staged first
 * (one request each, onStaged reporting the bytes sent), then named by their ids. */
async function request(items, settings, onStaged) {
  const data = new FormData();
  data.append("async", "true");
  let path = `/api/v1/tools/${tool.id}`;
  const uploads = items.filter((i) => i.kind === "file");
  const library = items.filter((i) => i.kind === "library");
  if (tool.inputs === "one" && isBatch(items)) {
    path += "/batch";
    if (uploads.length) {
      const ids = await stageFiles(uploads.map((i) => i.file), onStaged, uploads.map((i) => i.name));
      data.append("uploadIds", JSON.stringify(ids));
    }
    if (library.length) settings.fileIds = library.map((i) => i.id);
  } else if (tool.inputs === "one" || tool.inputs === "optional") {
    if (library.length) settings.fileId = library[0].id;
    else if (uploads.length) data.append("file", uploads[0].file, uploads[0].name);
  } else if (tool.inputs === "two") {
    data.append("file", await asFile(items[0]), items[0].name);
    data.append("overlay", await asFile(items[1]), items[1].name);
  } else if (tool.inputs === "many") {
    for (const item of items) data.append("files", await asFile(item), item.name);
  }
  data.append("settings", JSON.stringify(settings));
  return [path, data];
}

function uploadCard() {
  const bar = el("progress", { max: "100", value: "0", "aria-label": text.uploading.replace("{p}", "0") });
  const label = el("p", { class: "job-status" }, text.uploading.replace("{p}", "0"));
  progressBox.replaceChildren(el("div", { class: "card progress-card" }, label, bar));
  return (fraction) => {
    const percent = Math.round(fraction * 100);
    bar.value = percent;
    label.textContent = text.uploading.replace("{p}", percent);
  };
}

function rememberTool() {
  const user = document.querySelector(".whoami")?.textContent || "anonymous";
  const key = `pixelsmith-recent:${user}`;
  try {
    const before = JSON.parse(localStorage.getItem(key) || "[]");
    const next = [tool.id, ...before.filter((id) => id !== tool.id)].slice(0, 12);
    localStorage.setItem(key, JSON.stringify(next));
  } catch (error) { /* not remembered */ }
}

async function run() {
  showRunError("");
  const errors = form.validate();
  if (Object.keys(errors).length) {
    showRunError(text.fixSettings);
    document.querySelector("[data-settings-fields] [aria-invalid=true]")?.focus();
    return;
  }
  const items = inputs ? inputs.items() : [];
  const problem = inputProblem(items);
  if (problem) { showRunError(problem); return; }
  const settings = form.read();
  const extra = !isBatch(items) && widget?.extraSettings ? widget.extraSettings() : null;
  if (extra?.error) { showRunError(extra.error); return; }
  Object.assign(settings, extra?.settings || {});
  const single = items.length === 1 && !isBatch(items) ? items[0] : null;
  const before = single ? { url: single.url, size: single.size, source: single } : null;
  running = true;
  updateRun();
  try {
    const progress = uploadCard();
    const [path, data] = await request(items, settings, progress);
    const answer = await upload(path, data, isBatch(items) ? null : progress);
    rememberTool();
    await follow(answer.jobId, before);
  } catch (error) {
    progressBox.replaceChildren();
    if (error.code === "INVALID_SETTINGS") form.showServerError(error.message);
    showRunError(error.message);
  } finally {
    running = false;
    updateRun();
  }
}

/** Watch a job (its id goes into the URL first) and show how it ended. */
async function follow(jobId, before) {
  const url = new URL(location.href);
  url.searchParams.set("job", jobId);
  history.replaceState(null, "", url);
  resultBox.hidden = true;
  emptyStage.hidden = true;
  const job = await progressCard(progressBox, jobId);
  await present(job, before);
}

async function present(job, before) {
  progressBox.replaceChildren();
  emptyStage.hidden = true;
  resultBox.hidden = false;
  try {
    await showResult(resultBody, job, { tool, text, before });
  } catch (error) {
    resultBody.replaceChildren(el("p", { class: "alert error", role: "alert" }, error.message));
  }
  $("#result-title").focus({ preventScroll: false });
}

async function recover(jobId) {
  let job;
  try {
    job = await api(`/api/v1/jobs/${encodeURIComponent(jobId)}`);
  } catch (error) {
    showRunError(text.jobGone);
    return;
  }
  emptyStage.hidden = true;
  if (FINAL.has(job.status)) { await present(job, null); return; }
  running = true;
  updateRun();
  try { await present(await progressCard(progressBox, job.id), null); } finally { running = false; updateRun(); }
}

async function preselect(fileId) {
  try {
    const file = await api(`/api/v1/files/${encodeURIComponent(fileId)}`);
    inputs.addLibrary([file]);
  } catch (error) {
    inputs.showErrors([error.message]);
  }
}

/** On a phone the preview goes right under the input card; beside it on wider screens. */
function placePreview(narrow) {
  const inputCard = $("[data-dropzone]")?.closest("section");
  if (narrow && inputCard) inputCard.after(preview);
  else resultBox.after(preview);
}
const narrowScreen = matchMedia("(max-width: 860px)");
narrowScreen.addEventListener("change", () => placePreview(narrowScreen.matches));
placePreview(narrowScreen.matches);

$("[data-settings-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!running && !blocked) run();
});
updateRun();
if (inputs && params.get("file")) preselect(params.get("file"));
if (params.get("job")) recover(params.get("job"));
