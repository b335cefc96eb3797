// The tool page's inputs: files from the picker, a drop or the clipboard, and library files.
// Files over the server's upload limit and files that are no images (no videos, for a tool
// that takes videos) are refused here, before anything is sent, each with its own message.
import { el, formatBytes, limits, oversized, t } from "./api.js";

const IMAGE_EXTENSIONS = new Set([
  "jpg", "jpeg", "jpe", "png", "webp", "avif", "gif", "tif", "tiff", "heic", "heif", "bmp", "ico", "svg", "jxl",
]);

const VIDEO_EXTENSIONS = new Set(["mp4", "m4v", "mov", "mkv", "webm", "gif"]);

/** Whether the browser's idea of the file says "video" (its type, else its extension). */
export function looksLikeVideo(file) {
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return (file.type || "").startsWith("video/") || VIDEO_EXTENSIONS.has(extension);
}

/** Whether the browser's idea of the file says "image" (its type, else its extension). */
export function looksLikeImage(file, allowPdf) {
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  if (allowPdf && (file.type === "application/pdf" || extension === "pdf")) return true;
  if (file.type && file.type.startsWith("image/")) return true;
  const unknownType = !file.type || file.type === "application/octet-stream";
  return unknownType && IMAGE_EXTENSIONS.has(extension);
}

/**
 * The list of chosen inputs: {kind: "file", file, url} or {kind: "library", id, name, size,
 * version, url}. `onChange(items)` runs after every change.
 */
export function inputList({ tool, text, listEl, errorsEl, onChange }) {
  let items = [];
  const single = tool.inputs === "optional";
  const most = tool.inputs === "two" ? 2 : single ? 1 : limits.maxBatchSize || 100;
  const allowPdf = tool.id.startsWith("pdf-");

  const showErrors = (messages) => {
    errorsEl.replaceChildren(...messages.map((message) => el("p", { class: "alert error" }, message)));
  };
  const changed = () => { render(); onChange(items); };

  const accept = (incoming) => {
    const messages = [];
    if (incoming.length > most && (single || tool.inputs === "two")) incoming = incoming.slice(0, most);
    for (const message of oversized(incoming)) messages.push(message);
    const fine = incoming.filter((file) => {
      if (file.size > limits.maxUploadBytes) return false;
      const fits = tool.takesVideo ? looksLikeVideo(file) : looksLikeImage(file, allowPdf);
      if (!fits) { messages.push(t(tool.takesVideo ? "notVideo" : "notImage", { name: file.name })); return false; }
      return true;
    });
    return { fine, messages };
  };

  const add = (files) => {
    const { fine, messages } = accept([...files]);
    const fresh = fine.map((file) => ({ kind: "file", file, name: file.name || "pasted.png", size: file.size, url: URL.createObjectURL(file) }));
    put(fresh, messages);
  };
  const addLibrary = (entries) => {
    put(entries.map((entry) => ({
      kind: "library", id: entry.id, name: entry.name, size: entry.size, version: entry.version,
      url: `/api/v1/files/${entry.id}/download?version=${entry.version}`, thumb: `/api/v1/files/${entry.id}/thumbnail`,
    })), []);
  };
  const put = (fresh, messages) => {
    if (single || tool.inputs === "none") items = fresh.slice(0, 1);
    else items = [...items, ...fresh];
    if (items.length > most) {
      messages.push(text.tooMany.replace("{n}", most));
      items = items.slice(0, most);
    }
    showErrors(messages);
    if (fresh.length || messages.length === 0) changed();
  };
  const remove = (index) => {
    const [gone] = items.splice(index, 1);
    if (gone && gone.kind === "file") URL.revokeObjectURL(gone.url);
    changed();
  };

  const render = () => {
    listEl.replaceChildren(...items.map((item, index) => {
      const role = tool.inputs === "two" ? (index === 0 ? text.base : text.second) : null;
      const remover = el("button", { type: "button", class: "icon-button", "aria-label": text.remove.replace("{name}", item.name) }, "✕");
      remover.addEventListener("click", () => remove(index));
      const thumb = tool.takesVideo
        ? el("video", { src: item.url, class: "mini-thumb", width: "40", height: "40", muted: "", preload: "metadata", "aria-hidden": "true" })
        : el("img", { src: item.thumb || item.url, alt: "", class: "mini-thumb", width: "40", height: "40" });
      return el("li", {},
        thumb,
        el("span", { class: "file-name" }, role ? el("strong", {}, `${role}: `) : null, item.name),
        el("span", { class: "muted small file-size" }, item.kind === "library" ? `${formatBytes(item.size)} · ${text.fromLibrary}` : formatBytes(item.size)),
        remover);
    }));
  };

  return {
    add, addLibrary, remove, showErrors,
    items: () => items,
    clear: () => { items = []; changed(); },
  };
}

/** Drop, paste and picker wiring for `list` (paste: anywhere on the page but in text fields). */
export function wireSources(list, { dropzone, picker }) {
  if (picker) {
    picker.addEventListener("change", () => { list.add(picker.files); picker.value = ""; });
  }
  if (!dropzone) return;
  dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.classList.add("dragging"); });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("dragging");
    if (event.dataTransfer?.files?.length) list.add(event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const target = event.target;
    if (target && target.matches && target.matches("input[type=text], input[type=number], textarea")) return;
    const files = [...(event.clipboardData?.items || [])].filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter(Boolean);
    if (!files.length) return;
    event.preventDefault();
    list.add(files.map((file, i) => (file.name && file.name !== "image.png" ? file : new File([file], `pasted-${Date.now()}-${i}.${(file.type.split("/")[1] || "png")}`, { type: file.type }))));
  });
}
