// Shared by the library and jobs pages: the delete confirmation <dialog>, the pages' own
// translated texts, and <time data-local> shown in the browser's time zone and language.
import { pageData } from "./api.js";

const texts = pageData("library-strings") || {};

/** The page's own text `key` with {placeholders} filled in. */
export function say(key, values = {}) {
  let text = texts[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

/** Ask in the page's confirmation dialog; resolves true when the user confirms. */
export function confirmDialog(title, message) {
  const dialog = document.querySelector("[data-confirm]");
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(message));
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-text]").textContent = message;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Show every <time data-local> under `root` in the browser's zone and language. */
export function localTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-local]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) node.textContent = timeFormat.format(when);
  }
}

/** Start downloads one after another (a browser drops clicks that come too close). */
export async function downloadAll(urls) {
  for (const url of urls) {
    const link = document.createElement("a");
    link.href = url;
    link.download = "";
    document.body.append(link);
    link.click();
    link.remove();
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}
