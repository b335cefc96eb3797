// Branding: upload or remove the logo (POST/DELETE /api/v1/branding/logo), with previews.
import { api, el, pageData, toast } from "./api.js";
import { confirmDialog, s, showError } from "./admin-ui.js";

const maxKb = pageData("logo-max-kb");
const form = document.getElementById("logo-form");
const input = document.getElementById("logo-file");
const chosen = form.querySelector("[data-chosen]");
const error = form.querySelector("[data-error]");
const current = document.querySelector("[data-current]");
const noLogo = document.querySelector("[data-no-logo]");
const removeButton = document.querySelector("[data-remove]");
let previewUrl = null;

function showCurrent(present) {
  const image = present
    ? el("img", { src: `/api/v1/branding/logo?t=${Date.now()}`, alt: s("logoAlt"), width: "128", height: "128" })
    : null;
  current.replaceChildren(...(image ? [image] : []));
  current.hidden = !present;
  noLogo.hidden = present;
  removeButton.hidden = !present;
}

input.addEventListener("change", () => {
  const file = input.files[0];
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = file ? URL.createObjectURL(file) : null;
  chosen.replaceChildren(...(file ? [el("img", { src: previewUrl, alt: file.name, width: "128", height: "128" })] : []));
  chosen.hidden = !file;
  showError(error, file && file.size > maxKb * 1024 ? s("logoTooLarge", { kb: maxKb }) : "");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = input.files[0];
  if (!file) { input.focus(); return; }
  if (file.size > maxKb * 1024) { showError(error, s("logoTooLarge", { kb: maxKb })); return; }
  const data = new FormData();
  data.append("file", file);
  try {
    await api("/api/v1/branding/logo", { method: "POST", form: data });
    showError(error, "");
    form.reset();
    chosen.hidden = true;
    showCurrent(true);
    toast(s("logoUploaded"));
  } catch (problem) {
    showError(error, problem.message);
  }
});

removeButton.addEventListener("click", async () => {
  const ok = await openRemove();
  if (ok) { showCurrent(false); toast(s("logoRemoved")); }
});

function openRemove() {
  return confirmDialog(s("confirmRemoveLogo"), s("removeLogo"), () => api("/api/v1/branding/logo", { method: "DELETE" }));
}

showCurrent(!current.hidden && Boolean(current.querySelector("img")));
