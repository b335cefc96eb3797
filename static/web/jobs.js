// The jobs page: running and queued rows follow their jobs (one request per state every
// 1.5 s, whatever the number of rows), a finished job's row is fetched again from the
// server (Download link, error, duration), Cancel asks /api/v1/jobs/<id>/cancel, and the
// queue summary follows GET /api/v1/queue/status; new jobs appear at the top of page 1.
import { api, t, toast } from "./api.js";
import { localTimes, say } from "./library-confirm.js";

const POLL_MS = 1500;
const QUEUE_MS = 5000;

const activeRows = () => [...document.querySelectorAll("tr[data-active]")];

/** A job's row as the server renders it (Download link, error, duration). */
async function rowOf(jobId) {
  const response = await fetch(`/jobs/${jobId}/row`, { credentials: "same-origin" });
  if (!response.ok) return null;
  const html = new DOMParser().parseFromString(await response.text(), "text/html");
  return html.querySelector("tr[data-job-id]");
}

async function replaceRow(row) {
  try {
    const fresh = await rowOf(row.dataset.jobId);
    if (!fresh || !row.isConnected) return;
    const focused = row.contains(document.activeElement);
    row.replaceWith(fresh);
    localTimes(fresh);
    if (focused) (fresh.querySelector("a.button, button") || fresh.querySelector("a"))?.focus();
  } catch (error) { /* the next round tries again */ }
}

function showProgress(row, job) {
  const bar = row.querySelector("[data-bar]");
  const text = row.querySelector("[data-progress-text]");
  const percent = Math.round(job.progress || 0);
  if (bar) bar.value = percent;
  if (text) {
    const bits = [`${percent}%`];
    if (job.stage) bits.push(job.stage);
    if (job.items && job.items.total > 1) bits.push(`${job.items.done}/${job.items.total}`);
    text.textContent = bits.join(" · ");
  }
  if (row.dataset.status !== job.status) {
    row.dataset.status = job.status;
    const badge = row.querySelector("[data-status-badge]");
    if (badge && !row.dataset.cancelling) {
      badge.textContent = t(job.status);
      badge.className = `badge ${job.status === "processing" ? "processing" : ""}`;
    }
  }
}

async function listOf(status) {
  const answer = await api(`/api/v1/jobs?status=${status}&pageSize=200`);
  return answer.jobs;
}

async function poll() {
  const rows = activeRows();
  if (!rows.length) return;
  try {
    const [running, waiting] = await Promise.all([listOf("processing"), listOf("queued")]);
    const live = new Map([...running, ...waiting].map((job) => [job.id, job]));
    for (const row of rows) {
      const job = live.get(row.dataset.jobId);
      if (job) showProgress(row, job);
      else await replaceRow(row);
    }
  } catch (error) { /* offline for a moment: the next round tries again */ }
}

async function refreshQueue() {
  try {
    const queue = await api("/api/v1/queue/status");
    const set = (key, value) => {
      const node = document.querySelector(`[data-queue-${key}]`);
      if (node) node.textContent = value;
    };
    const seconds = (value) => (value === null || value === undefined ? "—" : say("seconds", { s: Math.round(value * 10) / 10 }));
    set("length", queue.queueLength);
    set("processing", queue.processing);
    set("workers", queue.workers);
    set("average", seconds(queue.averageDurationS));
    set("wait", queue.queueLength ? seconds(queue.estimatedWaitS) : say("none"));
  } catch (error) { /* keep what is shown */ }
}

/** On the first page, jobs started elsewhere (another tab, a script) appear at the top. */
async function addNewJobs() {
  const params = new URLSearchParams(location.search);
  const body = document.querySelector("table[data-jobs] tbody");
  if (!body || Number(params.get("page") || 1) !== 1) return;
  const status = params.get("status");
  try {
    const answer = await api(`/api/v1/jobs?pageSize=10${status ? `&status=${encodeURIComponent(status)}` : ""}`);
    const shown = new Set([...body.querySelectorAll("tr[data-job-id]")].map((row) => row.dataset.jobId));
    for (const job of answer.jobs.filter((j) => !shown.has(j.id)).reverse()) {
      const row = await rowOf(job.id);
      if (row) { body.prepend(row); localTimes(row); }
    }
  } catch (error) { /* the next round tries again */ }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-cancel]");
  if (!button) return;
  const row = button.closest("tr[data-job-id]");
  button.disabled = true;
  try {
    const answer = await api(`/api/v1/jobs/${row.dataset.jobId}/cancel`, { method: "POST" });
    toast(answer.status === "cancelled" ? t("cancelled") : say("cancelRequested"));
    row.dataset.cancelling = "1";
    const badge = row.querySelector("[data-status-badge]");
    if (badge) badge.textContent = say("cancelling");
    await replaceRow(row);
  } catch (error) {
    toast(error.message, "error");
    await replaceRow(row);
  }
});

localTimes();
refreshQueue();
setInterval(() => { if (!document.hidden) poll(); }, POLL_MS);
setInterval(() => { if (!document.hidden) { refreshQueue(); addNewJobs(); } }, QUEUE_MS);
