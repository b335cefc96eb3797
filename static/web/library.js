// The library grid: upload (drop or pick, refused over the size limit before sending),
// search/sort/format applied as you type (htmx swaps the results; plain links work
// without it), and multi-select download and delete through /api/v1/files.
import { api, csrfToken, el, limits, oversized, toast, upload } from "./api.js";
import { confirmDialog, downloadAll, localTimes, say } from "./library-confirm.js";

const input = document.getElementById("library-files");
const zone = document.querySelector("[data-dropzone]");
const errors = document.querySelector("[data-upload-errors]");
const list = document.querySelector("[data-upload-list]");
const filters = document.querySelector("[data-filters]");

function refreshResults() {
  if (window.htmx) {
    const url = location.pathname + location.search;
    window.htmx.ajax("GET", url, { target: "#library-results", select: "#library-results", swap: "outerHTML" });
  } else {
    location.reload();
  }
}

async function uploadOne(file) {
  const bar = el("progress", { max: "1", value: "0", "aria-label": file.name });
  const state = el("span", { class: "muted small lib-up-state" }, say("uploading"));
  const item = el("li", {}, el("span", { class: "lib-up-name" }, file.name), bar, state);
  list.append(item);
  list.hidden = false;
  const form = new FormData();
  form.append("files", file, file.name);
  try {
    await upload("/api/v1/upload", form, (share) => { bar.value = share; });
    bar.value = 1;
    state.textContent = say("uploaded");
    item.classList.add("done");
    setTimeout(() => { item.remove(); list.hidden = !list.children.length; }, 4000);
    return true;
  } catch (error) {
    bar.remove();
    state.className = "error-text small lib-up-state";
    state.textContent = error.message;
    return false;
  }
}

async function addFiles(files) {
  const chosen = [...files];
  if (!chosen.length) return;
  errors.replaceChildren(...oversized(chosen).map((message) => el("p", { class: "alert error" }, message)));
  let added = 0;
  for (const file of chosen.filter((f) => f.size <= limits.maxUploadBytes)) {
    if (await uploadOne(file)) added++;
  }
  input.value = "";
  if (added) {
    toast(added === 1 ? say("uploaded") : say("uploadedN", { n: added }));
    refreshResults();
  }
}

input.addEventListener("change", () => addFiles(input.files));
zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("dragging");
  addFiles(event.dataTransfer.files);
});

// --- Selection -------------------------------------------------------------------------
const boxes = () => [...document.querySelectorAll(".lib-select")];
const chosenBoxes = () => boxes().filter((box) => box.checked);

function updateSelection() {
  const all = boxes();
  const chosen = chosenBoxes();
  const count = document.querySelector("[data-selected-count]");
  if (count) {
    count.hidden = chosen.length === 0;
    count.textContent = say("selected", { n: chosen.length });
  }
  for (const button of document.querySelectorAll("[data-download-selected], [data-delete-selected]")) {
    button.disabled = chosen.length === 0;
  }
  const selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.checked = all.length > 0 && chosen.length === all.length;
    selectAll.indeterminate = chosen.length > 0 && chosen.length < all.length;
  }
  for (const box of all) box.closest(".lib-card").classList.toggle("is-selected", box.checked);
}

async function deleteSelected() {
  const chosen = chosenBoxes();
  const names = chosen.map((box) => box.dataset.name);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(", ")}, …` : names.join(", ");
  const title = chosen.length === 1 ? say("deleteOneTitle") : say("deleteTitle", { n: chosen.length });
  if (!(await confirmDialog(title, say("deleteText", { names: shown })))) return;
  let deleted = 0;
  for (const box of chosen) {
    try {
      await api(`/api/v1/files/${box.value}`, { method: "DELETE" });
      deleted++;
    } catch (error) {
      toast(`${box.dataset.name}: ${error.message}`, "error");
    }
  }
  if (deleted) toast(say("deleted", { n: deleted }));
  refreshResults();
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-select-all]")) {
    for (const box of boxes()) box.checked = event.target.checked;
  }
  if (event.target.matches(".lib-select, [data-select-all]")) updateSelection();
});
/** Several files: one ZIP from POST /api/v1/files/download, sent by a form so the browser
 * saves the answer as it streams (a fetch would hold the whole ZIP in the page). */
function downloadZip(ids) {
  const form = el("form", { method: "post", action: "/api/v1/files/download", hidden: true },
    el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() }),
    ...ids.map((id) => el("input", { type: "hidden", name: "fileIds", value: id })));
  document.body.append(form);
  form.submit();
  form.remove();
  toast(say("downloading", { n: ids.length }));
}

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-download-selected]")) {
    const chosen = chosenBoxes();
    if (chosen.length === 1) downloadAll([chosen[0].dataset.download]);
    else downloadZip(chosen.map((box) => box.value));
  }
  if (event.target.closest("[data-delete-selected]")) deleteSelected();
});
document.body.addEventListener("htmx:afterSettle", () => { updateSelection(); localTimes(); });

// --- Filters: applied as they change when htmx can swap the results in place -------------
if (window.htmx && filters) {
  filters.classList.add("auto-apply");
  let typing;
  filters.addEventListener("change", (event) => {
    if (event.target.matches("select")) filters.requestSubmit();
  });
  filters.querySelector("input[type=search]").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => filters.requestSubmit(), 350);
  });
}

updateSelection();
localTimes();
