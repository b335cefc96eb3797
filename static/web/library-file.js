// One library file's page: delete it (after a confirmation) through /api/v1/files/<id>;
// a preview the browser cannot draw falls back to the JPEG thumbnail.
import { api, pageData, toast } from "./api.js";
import { confirmDialog, localTimes, say } from "./library-confirm.js";

const file = pageData("library-file");
const preview = document.querySelector("[data-preview]");

if (preview) {
  preview.addEventListener("error", () => {
    if (preview.dataset.fallback && preview.src !== new URL(preview.dataset.fallback, location.href).href) {
      preview.src = preview.dataset.fallback;
    }
  });
}

document.querySelector("[data-delete-file]")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (!(await confirmDialog(say("deleteOneTitle"), say("deleteOneText", { name: file.name })))) return;
  button.disabled = true;
  try {
    await api(`/api/v1/files/${file.fileId}`, { method: "DELETE" });
    location.href = "/library";
  } catch (error) {
    button.disabled = false;
    toast(error.message, "error");
  }
});

localTimes();
