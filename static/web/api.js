// The REST API from the browser: the session cookie signs the request in, the CSRF token
// (from the page's <meta>) lets it change things. Errors come back as ApiError with the
// server's {error, code}, so pages show the server's own message.
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body || {};
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export const strings = JSON.parse(document.getElementById("ui-strings")?.textContent || "{}");
export const limits = JSON.parse(document.getElementById("ui-limits")?.textContent || "{}");

/** A translated text with {placeholders} filled in. */
export function t(key, values = {}) {
  let text = strings[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

/** Parsed JSON data of a <script type="application/json" id=...> element. */
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

/**
 * fetch() against the API. `json` sends a JSON body, `form` a FormData; the answer is the
 * parsed JSON (or the Response itself with raw: true). Non-2xx answers throw ApiError.
 */
export async function api(path, { method = "GET", json, form, raw = false, signal, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin", signal };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK_ERROR", t("networkLost"));
  }
  if (!response.ok) throw await errorOf(response);
  if (raw) return response;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response;
}

export async function errorOf(response) {
  let body = {};
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  return new ApiError(response.status, body.code || `HTTP_${response.status}`, body.error || `${response.status} ${response.statusText}`, body);
}

/** Upload with progress (fetch cannot report upload progress): resolves like api(). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(request.status, body.code || `HTTP_${request.status}`, body.error || request.statusText, body));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "NETWORK_ERROR", t("networkLost"))));
    request.send(form);
  });
}

/**
 * Send a batch's files one request each (POST /api/v1/uploads, two at a time) and resolve
 * with their upload ids in order: a batch then names them in `uploadIds`, so neither the
 * server's request limit nor a proxy's body limit caps the batch. onProgress(fraction)
 * follows the bytes sent.
 */
export async function stageFiles(files, onProgress, names = []) {
  const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
  const sent = new Array(files.length).fill(0);
  const ids = new Array(files.length);
  let next = 0;
  const report = () => onProgress && onProgress(sent.reduce((a, b) => a + b, 0) / total);
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const form = new FormData();
      form.append("file", files[index], names[index] || files[index].name);
      const answer = await upload("/api/v1/uploads", form, (fraction) => {
        sent[index] = fraction * files[index].size;
        report();
      });
      sent[index] = files[index].size;
      ids[index] = answer.uploadId;
      report();
    }
  };
  await Promise.all([worker(), worker()]);
  return ids;
}

/** document.createElement with attributes and children, for small bits of UI. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function toast(message, kind = "info") {
  const box = document.querySelector("[data-toasts]");
  if (!box) return;
  const item = el("div", { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Files over the server's upload limit, refused before any byte is sent. */
export function oversized(files) {
  return [...files].filter((file) => file.size > limits.maxUploadBytes)
    .map((file) => t("tooLarge", { name: file.name, mb: limits.maxUploadMb }));
}

export async function copyText(text, button) {
  await navigator.clipboard.writeText(text);
  if (button) {
    const before = button.textContent;
    button.textContent = t("copied");
    setTimeout(() => { button.textContent = before; }, 1500);
  }
}
