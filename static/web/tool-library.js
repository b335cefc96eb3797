// "From library": a dialog of the library's thumbnails (GET /api/v1/files), searchable,
// several selectable; "Use selected" hands the chosen files to `onPick`.
import { api, el } from "./api.js";

export function libraryPicker({ dialog, text, multiple, onPick }) {
  const grid = dialog.querySelector("[data-library-grid]");
  const empty = dialog.querySelector("[data-library-empty]");
  const more = dialog.querySelector("[data-library-more]");
  const search = dialog.querySelector("#library-search");
  const chosen = new Map();
  let page = 1;
  let timer = null;

  const tile = (file) => {
    const button = el("button", {
      type: "button", class: "thumb pick", "aria-pressed": String(chosen.has(file.id)),
      "aria-label": text.selectFile.replace("{name}", file.name),
    },
    el("img", { src: file.thumbnailUrl, alt: "", loading: "lazy", width: "160", height: "160" }),
    el("span", { class: "thumb-meta" }, file.name));
    button.addEventListener("click", () => {
      if (chosen.has(file.id)) chosen.delete(file.id);
      else {
        if (!multiple) {
          chosen.clear();
          for (const other of grid.querySelectorAll("[aria-pressed=true]")) other.setAttribute("aria-pressed", "false");
        }
        chosen.set(file.id, file);
      }
      button.setAttribute("aria-pressed", String(chosen.has(file.id)));
    });
    return button;
  };

  const load = async (append) => {
    const query = new URLSearchParams({ page: String(page), pageSize: "24", sort: "-date" });
    if (search.value.trim()) query.set("search", search.value.trim());
    try {
      const answer = await api(`/api/v1/files?${query}`);
      const tiles = answer.files.map(tile);
      if (append) grid.append(...tiles); else grid.replaceChildren(...tiles);
      empty.hidden = grid.children.length > 0;
      more.hidden = answer.page >= answer.totalPages;
    } catch (error) {
      grid.replaceChildren(el("p", { class: "alert error" }, text.libraryError.replace("{message}", error.message)));
    }
  };

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { page = 1; load(false); }, 250);
  });
  more.addEventListener("click", () => { page += 1; load(true); });
  for (const closer of dialog.querySelectorAll("[data-close-library]")) closer.addEventListener("click", () => dialog.close());
  dialog.querySelector("[data-use-library]").addEventListener("click", () => {
    onPick([...chosen.values()]);
    dialog.close();
  });

  return {
    open() {
      chosen.clear();
      page = 1;
      load(false);
      dialog.showModal();
    },
  };
}
