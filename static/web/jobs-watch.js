// Follow a job: Server-Sent Events from /api/v1/jobs/<id>/progress, with the job's detail
// (queue position, ETA) polled while it waits. A dropped connection is retried by the
// EventSource itself; the final state always comes from GET /api/v1/jobs/<id>.
import { api, el, t } from "./api.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);

/** Calls onUpdate(state) on every change; resolves with the finished job's detail. */
export function watchJob(jobId, onUpdate) {
  return new Promise((resolve) => {
    let finished = false;
    let state = { status: "queued", progress: 0 };
    const source = new EventSource(`/api/v1/jobs/${jobId}/progress`);
    const finish = async () => {
      if (finished) return;
      finished = true;
      source.close();
      clearInterval(poller);
      const job = await api(`/api/v1/jobs/${jobId}`).catch(() => state);
      onUpdate({ ...job, lost: false });
      resolve(job);
    };
    const update = (data) => {
      state = { ...state, ...data, lost: false };
      onUpdate(state);
      if (FINAL.has(state.status)) finish();
    };
    source.addEventListener("message", (event) => update(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      if (!finished) onUpdate({ ...state, lost: source.readyState !== EventSource.OPEN });
    });
    // Queue position and ETA are not in the stream's events: ask while the job waits or runs.
    const poller = setInterval(async () => {
      try {
        const job = await api(`/api/v1/jobs/${jobId}`);
        update({ queuePosition: job.queuePosition, etaSeconds: job.etaSeconds, status: job.status, progress: job.progress, stage: job.stage, items: job.items, files: job.files });
      } catch (error) { /* the stream says what it knows */ }
    }, 3000);
  });
}

const SHOWN_FILES = 100; // the latest ones; a batch of thousands keeps the page light

/** A batch's files as they finish: name and done, or failed with the reason. */
function renderFiles(list, lines) {
  list.hidden = lines.length === 0;
  const shown = lines.slice(-SHOWN_FILES).reverse();
  list.replaceChildren(...shown.map((line) => el("li", {},
    el("span", { class: `badge ${line.status === "completed" ? "ok" : "error"}` }, t(line.status === "completed" ? "completed" : "failed")),
    " ", line.name,
    line.error ? el("span", { class: "muted small" }, ` — ${line.error.message}`) : null)));
}

/** A progress card (bar, status, stage, queue position, ETA, Cancel) inside `container`. */
export function progressCard(container, jobId) {
  const bar = el("progress", { max: "100", value: "0", "aria-label": t("processing") });
  const status = el("p", { class: "job-status", "aria-live": "polite" }, t("queued"));
  const detail = el("p", { class: "muted small job-detail" });
  const files = el("ul", { class: "file-status", "aria-label": t("finishedFiles") });
  const cancel = el("button", { type: "button", class: "button danger" }, t("cancel"));
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try { await api(`/api/v1/jobs/${jobId}/cancel`, { method: "POST" }); } catch (error) { cancel.disabled = false; }
  });
  const card = el("div", { class: "card progress-card", "data-job-id": jobId }, status, bar, detail, files, cancel);
  container.replaceChildren(card);
  const render = (state) => {
    bar.value = Number(state.progress || 0);
    const label = t(state.status === "processing" ? "processing" : state.status) || state.status;
    status.textContent = state.lost ? t("networkLost") : `${label} · ${Math.round(state.progress || 0)}%`;
    const bits = [];
    if (state.stage) bits.push(state.stage);
    if (state.message && state.message !== state.stage) bits.push(state.message);
    if (state.items && state.items.total > 1) bits.push(`${state.items.done}/${state.items.total}`);
    if (state.status === "queued" && state.queuePosition) bits.push(t("queuePosition", { n: state.queuePosition }));
    if (state.etaSeconds) bits.push(t("eta", { s: Math.round(state.etaSeconds) }));
    detail.textContent = bits.join(" · ");
    cancel.hidden = FINAL.has(state.status);
    renderFiles(files, state.files || []);
  };
  return watchJob(jobId, render).then((job) => { card.remove(); return job; });
}
