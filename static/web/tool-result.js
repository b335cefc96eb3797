// A finished job on the tool page: an image (before/after, sizes, Download, Save to library,
// continue with another tool), JSON shown readably with a Copy button, a document or ZIP to
// download, or a batch's per-file table with its failures.
import { api, copyText, el, formatBytes, toast, upload } from "./api.js";
import { compareView } from "./compare.js";

const LIMIT_ROWS = 200;

function downloadLink(job, text) {
  return el("a", { class: "button primary", href: job.downloadUrl, download: job.result?.name || "" }, text.download);
}

function facts(job, text) {
  const rows = [[text.engine, job.engine], [text.model, job.model], [text.device, job.device],
    [text.duration, job.durationS != null ? `${job.durationS.toFixed(2)} s` : null]].filter(([, v]) => v);
  if (!rows.length) return null;
  return el("dl", { class: "facts" }, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function sizeLine(before, after, text) {
  if (!after) return null;
  const bits = [el("strong", {}, formatBytes(after))];
  if (before) {
    const change = Math.round((1 - after / before) * 100);
    bits.unshift(`${formatBytes(before)} → `);
    const badge = change >= 0 ? el("span", { class: "badge ok" }, text.saved.replace("{p}", change)) : el("span", { class: "badge warn" }, text.bigger.replace("{p}", -change));
    bits.push(" ", badge);
  }
  return el("p", { class: "size-line" }, `${text.size}: `, ...bits);
}

/** An object as key/value rows (nested objects as nested tables, long arrays as JSON). */
function table(data, text, depth = 0) {
  const rows = Object.entries(data).slice(0, LIMIT_ROWS).map(([key, value]) => {
    let cell;
    if (value && typeof value === "object" && !Array.isArray(value) && depth < 2) cell = table(value, text, depth + 1);
    else if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) cell = value.join(", ");
    else if (value && typeof value === "object") cell = el("pre", { class: "json-cell" }, JSON.stringify(value, null, 2));
    else cell = value === null ? "—" : String(value);
    return el("tr", {}, el("th", { scope: "row" }, key), el("td", {}, cell));
  });
  return el("div", { class: "table-wrap" }, el("table", { class: "kv" }, el("tbody", {}, ...rows)));
}

function swatches(colors, text) {
  return el("ul", { class: "swatches", "aria-label": text.colour },
    ...colors.map((c) => el("li", {},
      el("span", { class: "swatch", style: `background:${c.color}`, "aria-hidden": "true" }),
      el("code", {}, c.color), c.percent != null ? el("span", { class: "muted small" }, ` ${c.percent}%`) : null)));
}

function copyButton(getText, label) {
  const button = el("button", { type: "button", class: "button" }, label);
  button.addEventListener("click", () => copyText(getText(), button).catch(() => toast(label, "error")));
  return button;
}

/** JSON results: colours as swatches, text as a block, the rest as tables; Copy copies it. */
export function jsonView(data, text) {
  const parts = [];
  const rest = { ...data };
  if (Array.isArray(data.colors)) { parts.push(swatches(data.colors, text)); delete rest.colors; }
  if (typeof data.text === "string") {
    parts.push(el("h3", {}, text.text), el("pre", { class: "ocr-text" }, data.text || "—"),
      el("div", { class: "row" }, copyButton(() => data.text, `${text.copy} · ${text.text}`)));
    delete rest.text;
    delete rest.lines;
  }
  if (Object.keys(rest).length) parts.push(table(rest, text));
  const raw = JSON.stringify(data, null, 2);
  parts.push(el("div", { class: "row" }, copyButton(() => raw, text.copy)),
    el("details", { class: "raw-json" }, el("summary", {}, "JSON"), el("pre", {}, raw)));
  return el("div", { class: "json-result stack" }, ...parts);
}

function batchView(job, text) {
  const info = job.result?.info || {};
  const files = info.files || [];
  const failed = files.filter((f) => f.status !== "completed");
  const badge = (f) => el("span", { class: `badge ${f.status === "completed" ? "ok" : "error"}` }, f.status === "completed" ? text.done : text.failed);
  const rows = files.map((f) => el("tr", {}, el("td", {}, f.name), el("td", {}, badge(f)), el("td", {}, f.output || f.error?.message || "")));
  const summary = text.batchSummary.replace("{done}", info.completed ?? job.items.done).replace("{total}", info.total ?? job.items.total).replace("{failed}", info.failed ?? job.items.failed);
  return el("div", { class: "stack" },
    el("p", { class: "batch-summary" }, summary),
    el("div", { class: "row" }, downloadLink(job, text), el("span", { class: "muted small" }, `${job.result?.name || ""} · ${formatBytes(job.result?.size)} · ${text.zipReady}`)),
    failed.length ? el("div", { class: "alert error failed-files" }, el("strong", {}, text.failedFiles),
      el("ul", {}, ...failed.map((f) => el("li", {}, `${f.name}: ${f.error?.message || f.error?.code || ""}`)))) : null,
    el("div", { class: "table-wrap" }, el("table", { class: "batch-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, text.files), el("th", { scope: "col" }, text.status), el("th", { scope: "col" }, text.output))),
      el("tbody", {}, ...rows))),
    facts(job, text));
}

/** "Save to library" and "Continue with another tool" for one image result. */
function libraryActions({ job, blob, text, source, nextTools }) {
  const box = el("div", { class: "stack library-actions" });
  const status = el("p", { class: "small", "aria-live": "polite" });
  let savedId = source?.kind === "library" ? source.id : null;
  const link = (id) => el("a", { href: `/library/${id}` }, text.openInLibrary);
  const save = el("button", { type: "button", class: "button" }, text.saveToLibrary);
  const ensureSaved = async () => {
    if (savedId) return savedId;
    const form = new FormData();
    form.append("files", new File([blob], job.result.name, { type: job.result.mediaType || blob.type }));
    const answer = await upload("/api/v1/upload", form);
    savedId = answer.files[0].id;
    status.replaceChildren(text.savedAs.replace("{name}", answer.files[0].name), " · ", link(savedId));
    save.hidden = true;
    return savedId;
  };
  if (savedId) {
    status.replaceChildren(text.savedVersion.replace("{name}", source.name), " · ", link(savedId));
    save.hidden = true;
  }
  save.addEventListener("click", async () => {
    save.disabled = true;
    try { await ensureSaved(); } catch (error) { toast(error.message, "error"); save.disabled = false; }
  });
  const picker = el("select", { id: "next-tool" }, ...nextTools.map((t) => el("option", { value: t.id }, t.name)));
  const go = el("button", { type: "button", class: "button" }, text.continueGo);
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      const id = await ensureSaved();
      location.href = `/tools/${picker.value}?file=${encodeURIComponent(id)}`;
    } catch (error) { toast(error.message, "error"); go.disabled = false; }
  });
  box.append(el("div", { class: "row" }, save), status,
    el("div", { class: "field continue" }, el("label", { for: "next-tool" }, text.continueWith),
      el("div", { class: "row" }, picker, go)));
  return box;
}

async function imageResult(job, { text, before, nextTools }) {
  const response = await api(job.downloadUrl, { raw: true });
  const blob = await response.blob();
  const beforeSize = before?.size || Number(response.headers.get("X-Original-Size")) || null;
  const mediaType = job.result.mediaType || blob.type;
  const isImage = mediaType.startsWith("image/");
  const parts = [];
  if (mediaType.startsWith("video/")) {
    parts.push(el("video", { src: URL.createObjectURL(blob), controls: "", class: "result-video", "aria-label": job.result.name }));
  } else if (isImage) {
    const after = URL.createObjectURL(blob);
    parts.push(compareView({ before: before?.url || null, after, text }));
    if (!before) parts.push(el("p", { class: "muted small" }, text.beforeLost));
  } else {
    parts.push(el("p", {}, text.documentReady.replace("{name}", job.result.name)));
  }
  parts.push(sizeLine(beforeSize, job.result.size, text),
    el("div", { class: "row result-actions" }, downloadLink(job, text), el("span", { class: "muted small" }, job.result.name)));
  const info = { ...(job.result.info || {}) };
  if (Object.keys(info).length) parts.push(table(info, text));
  parts.push(facts(job, text));
  if (isImage) parts.push(libraryActions({ job, blob, text, source: before?.source, nextTools }));
  return parts;
}

/** Fills `body` with the finished job's result (or its error). */
export async function showResult(body, job, { tool, text, before }) {
  if (job.status === "cancelled") {
    body.replaceChildren(el("p", { class: "alert warn", role: "status" }, text.cancelled));
    return;
  }
  if (job.status !== "completed") {
    const message = job.error?.message || job.status;
    body.replaceChildren(el("p", { class: "alert error", role: "alert" }, text.jobFailed.replace("{message}", message)));
    return;
  }
  const isBatch = String(job.kind || "").includes("batch");
  if (isBatch) { body.replaceChildren(batchView(job, text)); return; }
  if ((job.result.mediaType || "").includes("json")) {
    const data = await api(job.downloadUrl);
    body.replaceChildren(jsonView(data, text), el("div", { class: "row" }, downloadLink(job, text)), facts(job, text) || "");
    return;
  }
  body.replaceChildren(...(await imageResult(job, { text, before, nextTools: tool.nextTools })).filter(Boolean));
}
