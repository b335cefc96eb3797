// Running the pipeline being built: uploaded images (picker or drag-and-drop, refused over
// the upload limit before any byte is sent) and/or library files. One file goes to
// /pipeline/execute, several to /pipeline/batch (their files staged one request each, so no
// request limit caps a batch), both async; then the job's progress card,
// its result preview and a Download link. The running job's id is kept, so a reload
// picks the job up again.
import { api, el, formatBytes, limits, oversized, stageFiles, t as common, upload } from "./api.js";
import { progressCard } from "./jobs-watch.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);
const PAGE_SIZE = 12;
const $ = (selector) => document.querySelector(selector);

export function setupRun(builder) {
  const { t } = builder;
  const user = document.querySelector(".whoami")?.textContent || "anonymous";
  const jobKey = `pixelsmith-pipeline-job:${user}`;
  const fileInput = $("[data-files]");
  const dropzone = $("[data-dropzone]");
  const inputsList = $("[data-inputs]");
  const runButton = $("[data-run]");
  const runError = $("[data-run-error]");
  const progress = $("[data-progress]");
  const result = $("[data-result]");
  const uploads = [];
  const library = new Map();
  let running = false;

  const count = () => uploads.length + library.size;

  function showError(messages) {
    const list = [].concat(messages || []).filter(Boolean);
    runError.replaceChildren(...list.map((m) => el("div", {}, m)));
    runError.hidden = list.length === 0;
  }

  function renderInputs() {
    const rows = [
      ...uploads.map((file, index) => [file.name, formatBytes(file.size), null, () => uploads.splice(index, 1)]),
      ...[...library.values()].map((file) => [file.name, formatBytes(file.size), t("fromLibrary"), () => library.delete(file.id)]),
    ];
    inputsList.replaceChildren(...rows.map(([name, size, badge, drop]) => el("li", {},
      el("span", { class: "pl-input-name" }, name),
      badge ? el("span", { class: "badge accent" }, badge) : null,
      el("span", { class: "muted small" }, size),
      el("button", { type: "button", class: "icon-button", "aria-label": t("removeFile", { name }), onclick: () => { drop(); renderInputs(); syncLibraryChecks(); } }, "✕"))));
    const n = count();
    runButton.textContent = n > 1 ? t("runOn", { n }) : t("run");
    runButton.disabled = running || n === 0 || !builder.hasSteps();
    $("[data-library-note]").hidden = library.size === 0;
    builder.setInputs(Math.max(n, 1));
  }

  function addFiles(files) {
    const chosen = [...files];
    const problems = oversized(chosen);
    const images = chosen.filter((file) => file.size <= limits.maxUploadBytes);
    const notImages = images.filter((file) => file.type && !file.type.startsWith("image/") && file.type !== "application/pdf");
    problems.push(...notImages.map((file) => common("notImage", { name: file.name })));
    const accepted = images.filter((file) => !notImages.includes(file));
    if (count() + accepted.length > limits.maxBatchSize) problems.push(t("tooMany", { n: limits.maxBatchSize }));
    else uploads.push(...accepted);
    showError(problems);
    renderInputs();
  }

  fileInput.addEventListener("change", () => {
    addFiles(fileInput.files);
    fileInput.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => { event.preventDefault(); dropzone.classList.add("dragging"); });
  }
  for (const name of ["dragleave", "drop"]) {
    dropzone.addEventListener(name, () => dropzone.classList.remove("dragging"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer?.files?.length) addFiles(event.dataTransfer.files);
  });
  document.addEventListener("pipeline:changed", renderInputs);

  // --- Library files ------------------------------------------------------------------
  const libraryToggle = $("[data-library-toggle]");
  const libraryPanel = $("#library-picker");
  const librarySearch = $("#library-search");
  const libraryList = $("[data-library-list]");
  const libraryPages = $("[data-library-pages]");
  let libraryPage = 1;
  let searchTimer = null;

  function syncLibraryChecks() {
    for (const box of libraryList.querySelectorAll("input[data-file-id]")) box.checked = library.has(box.dataset.fileId);
  }

  async function loadLibrary() {
    const query = new URLSearchParams({ page: String(libraryPage), pageSize: String(PAGE_SIZE), sort: "-date" });
    if (librarySearch.value.trim()) query.set("search", librarySearch.value.trim());
    try {
      const answer = await api(`/api/v1/files?${query}`);
      libraryList.replaceChildren(...(answer.files.length ? answer.files.map(libraryTile) : [el("p", { class: "muted" }, t("noFiles"))]));
      syncLibraryChecks();
      renderPages(answer);
    } catch (error) {
      libraryList.replaceChildren(el("p", { class: "alert error" }, error.message));
    }
  }

  function libraryTile(file) {
    const id = `lib-${file.id}`;
    const box = el("input", { type: "checkbox", id, "data-file-id": file.id });
    box.addEventListener("change", () => {
      if (box.checked) library.set(file.id, file);
      else library.delete(file.id);
      renderInputs();
    });
    return el("div", { class: "pl-lib-tile" }, box,
      el("label", { for: id },
        el("img", { src: file.thumbnailUrl, alt: "", loading: "lazy", class: "checker" }),
        el("span", { class: "pl-lib-name" }, el("span", { class: "visually-hidden" }, t("selectFile", { name: "" })), file.name)));
  }

  function renderPages(answer) {
    libraryPages.replaceChildren();
    if (answer.totalPages <= 1) return;
    const go = (page) => { libraryPage = page; loadLibrary(); };
    libraryPages.append(
      el("button", { type: "button", class: "button", disabled: answer.page <= 1, onclick: () => go(answer.page - 1) }, "‹ ", t("previous")),
      el("span", { class: "muted small" }, t("page", { page: answer.page, pages: answer.totalPages })),
      el("button", { type: "button", class: "button", disabled: answer.page >= answer.totalPages, onclick: () => go(answer.page + 1) }, t("next"), " ›"));
  }

  libraryToggle.addEventListener("click", () => {
    const open = libraryPanel.hidden;
    libraryPanel.hidden = !open;
    libraryToggle.setAttribute("aria-expanded", String(open));
    if (open) loadLibrary();
  });
  librarySearch.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { libraryPage = 1; loadLibrary(); }, 300);
  });

  // --- Running ------------------------------------------------------------------------
  async function requestForm(onStaged) {
    const form = new FormData();
    form.append("pipeline", JSON.stringify(builder.stepsJson()));
    form.append("async", "true");
    const batch = count() > 1;
    if (!batch) {
      if (uploads.length) form.append("file", uploads[0]);
      else form.append("fileId", [...library.keys()][0]);
      return ["/api/v1/pipeline/execute", form];
    }
    if (uploads.length) form.append("uploadIds", JSON.stringify(await stageFiles(uploads, onStaged)));
    if (library.size) form.append("fileIds", JSON.stringify([...library.keys()]));
    return ["/api/v1/pipeline/batch", form];
  }

  async function run() {
    showError([]);
    if (!(await builder.validate())) {
      showError(t("invalid"));
      document.querySelector(".pl-step.invalid")?.scrollIntoView({ behavior: "smooth", block: "center" });
      return;
    }
    running = true;
    renderInputs();
    result.replaceChildren();
    const bar = el("progress", { max: "100", value: "0", "aria-label": t("uploading", { n: 0 }) });
    const label = el("p", { class: "job-status" }, t("uploading", { n: 0 }));
    progress.replaceChildren(el("div", { class: "card progress-card" }, label, bar));
    const sending = (fraction) => {
      const percent = Math.round(fraction * 100);
      bar.value = percent;
      label.textContent = t("uploading", { n: percent });
    };
    try {
      const [path, form] = await requestForm(sending);
      const answer = await upload(path, form, count() > 1 ? null : sending);
      try { localStorage.setItem(jobKey, answer.jobId); } catch (e) { /* not kept */ }
      await follow(answer.jobId);
    } catch (error) {
      progress.replaceChildren();
      showError(error.message);
      builder.showServerError(error.message);
    } finally {
      running = false;
      renderInputs();
    }
  }

  async function follow(jobId) {
    const job = await progressCard(progress, jobId);
    try { localStorage.removeItem(jobKey); } catch (e) { /* nothing kept */ }
    showResult(job);
  }

  function showResult(job) {
    if (job.status === "cancelled") {
      result.replaceChildren(el("p", { class: "alert warn", role: "status" }, common("cancelled")));
      return;
    }
    if (job.status !== "completed") {
      const message = job.error?.message || common("failed");
      result.replaceChildren(el("p", { class: "alert error", role: "alert" }, message));
      builder.showServerError(message);
      return;
    }
    const info = job.result || {};
    const type = info.mediaType || "";
    const url = job.downloadUrl || `/api/v1/jobs/${job.id}/download`;
    const meta = el("p", { class: "muted small pl-result-meta" }, [info.name, formatBytes(info.size)].filter(Boolean).join(" · "));
    let preview = null;
    if (type.startsWith("image/")) {
      preview = el("img", { src: url, alt: `${t("result")}: ${info.name || ""}`, class: "checker pl-result-image" });
      preview.addEventListener("load", () => {
        meta.textContent = [info.name, `${preview.naturalWidth} × ${preview.naturalHeight} px`, formatBytes(info.size)].filter(Boolean).join(" · ");
      });
    } else if (type.includes("json")) {
      preview = el("pre", { class: "pl-result-json" });
      api(url).then((body) => { preview.textContent = JSON.stringify(body, null, 2); }).catch(() => null);
    }
    const files = info.info?.files || [];
    const failed = files.filter((f) => f.status === "failed");
    const summary = job.kind?.includes("batch") || files.length
      ? el("p", {}, t("batchSummary", { done: job.items?.done ?? files.length, total: job.items?.total ?? files.length, failed: failed.length }))
      : null;
    const failures = failed.length
      ? el("ul", { class: "pl-failures" }, failed.map((f) => el("li", {}, el("strong", {}, f.name), ": ", f.error?.message || common("failed"))))
      : null;
    result.replaceChildren(el("div", { class: "card pl-result" },
      el("h3", {}, t("result")), preview, summary, failures, meta,
      el("a", { class: "button primary", href: url, download: info.name || "" }, common("download"))));
  }

  runButton.addEventListener("click", run);
  renderInputs();

  // ?file=<id> (a library version's recipe run again): that file is the input.
  if (builder.fileId) {
    api(`/api/v1/files/${encodeURIComponent(builder.fileId)}`).then((file) => {
      library.set(file.id, file);
      renderInputs();
    }).catch((error) => showError(error.message));
  }

  // A job that was running when the page went away: follow it again.
  let pending = null;
  try { pending = localStorage.getItem(jobKey); } catch (e) { pending = null; }
  if (pending) {
    api(`/api/v1/jobs/${pending}`).then((job) => {
      if (FINAL.has(job.status)) { localStorage.removeItem(jobKey); return; }
      follow(pending);
    }).catch(() => localStorage.removeItem(jobKey));
  }
}
