// System: queue, hardware, the doctor's checks and each AI tool's readiness, from the API.
import { api, el, formatBytes, pageData } from "./api.js";
import { s, showError } from "./admin-ui.js";

const error = document.querySelector("[data-error]");
const BADGE = { ok: "ok", warn: "warn", fail: "error" };
const toolNames = pageData("tool-names") || {};

function facts(box, pairs) {
  box.replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

async function queue() {
  const body = await api("/api/v1/queue/status");
  document.querySelector("[data-queue]").textContent = s("queueText", { waiting: body.queueLength, running: body.processing });
  document.querySelector("[data-workers]").textContent = String(body.workers);
  document.querySelector("[data-duration]").textContent = body.averageDurationS ? `${body.averageDurationS.toFixed(1)} s` : "—";
}

async function hardware() {
  const hw = await api("/api/v1/system/hardware");
  const gpus = hw.gpus.length
    ? hw.gpus.map((g) => `${g.name || g.model || "GPU"}${g.memoryTotalBytes ? ` (${formatBytes(g.memoryTotalBytes)})` : ""}`).join(", ")
    : `${s("noGpu")}${hw.gpuNote ? ` — ${hw.gpuNote}` : ""}`;
  const ort = hw.onnxruntime.available ? `${hw.onnxruntime.version} · ${hw.onnxruntime.providers.join(", ")}` : s("unavailable");
  facts(document.querySelector("[data-hardware]"), [
    [s("cpu"), `${hw.cpu.model || "—"} · ${s("cores", { n: hw.cpu.usableCores ?? hw.cpu.cores })}`],
    [s("memory"), `${formatBytes(hw.memory.availableBytes)} / ${formatBytes(hw.memory.totalBytes)}${hw.memory.limitBytes ? ` (≤ ${formatBytes(hw.memory.limitBytes)})` : ""}`],
    [s("gpus"), gpus],
    ["ONNX Runtime", ort],
    [s("os"), `${hw.system.os} · Python ${hw.system.python}`],
  ]);
}

function checkItem(title, status, label, ...details) {
  return el("li", { class: `check-item status-${status}` },
    el("div", { class: "check-title" }, el("span", { class: `badge ${BADGE[status] || ""}` }, label), el("strong", {}, title)),
    ...details);
}

async function doctor() {
  const body = await api("/api/v1/system/doctor");
  const overall = document.querySelector("[data-doctor-status]");
  overall.className = `badge ${BADGE[body.status]}`;
  overall.textContent = s(body.status);
  document.querySelector("[data-doctor]").replaceChildren(...body.checks.map((c) => checkItem(c.name, c.status, s(c.status),
    el("p", { class: "small check-detail" }, c.detail),
    c.fix ? el("p", { class: "small" }, el("strong", {}, `${s("fix")}: `), el("code", {}, c.fix)) : null)));
}

async function features() {
  const body = await api("/api/v1/system/features");
  document.querySelector("[data-features]").replaceChildren(...body.tools.map((tool) => {
    const status = tool.available ? "ok" : "fail";
    const name = toolNames[tool.tool] || tool.tool;
    const missing = tool.missing.length ? el("ul", { class: "small missing-list" }, ...tool.missing.map((m) => el("li", {}, m))) : null;
    const fixes = tool.fix.length ? el("p", { class: "small" }, el("strong", {}, `${s("fix")}: `), ...tool.fix.flatMap((f, i) => (i ? [el("br"), el("code", {}, f)] : [el("code", {}, f)]))) : null;
    const link = !tool.available ? el("a", { href: `/admin/models?for=${encodeURIComponent(tool.tool)}`, class: "small" }, s("openModels", { tool: name })) : null;
    return checkItem(name, status, s(tool.available ? "available" : "unavailable"), missing, fixes, link);
  }));
}

function refresh() {
  showError(error, "");
  for (const part of [queue, hardware, doctor, features]) part().catch((problem) => showError(error, problem.message));
}

document.querySelector("[data-refresh]").addEventListener("click", refresh);
refresh();
