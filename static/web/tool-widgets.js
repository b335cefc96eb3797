// Custom widgets for settings a schema cannot say well: a crop box drawn on the image
// (crop), a mask brush (erase-object), a split grid preview (split) and a collage template
// picker (collage). Each gets the preview frame (the image in a positioned box) and the form.
import { el } from "./api.js";

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** A point of a pointer event in the image's own pixels. */
function imagePoint(img, event) {
  const box = img.getBoundingClientRect();
  return {
    x: clamp(((event.clientX - box.left) / box.width) * img.naturalWidth, 0, img.naturalWidth),
    y: clamp(((event.clientY - box.top) / box.height) * img.naturalHeight, 0, img.naturalHeight),
  };
}

/** Crop: drag to draw the box, drag inside it to move it, arrow keys nudge it. */
function cropWidget({ frame, img, form, text, note }) {
  const box = el("div", { class: "crop-box", tabindex: "0", role: "img", "aria-label": text.cropBox });
  frame.append(box);
  frame.classList.add("drawable");
  note.textContent = text.cropHelp;
  let rect = null;
  let drag = null;

  const draw = () => {
    box.hidden = !rect || !img.naturalWidth;
    if (box.hidden) return;
    box.style.left = `${(rect.left / img.naturalWidth) * 100}%`;
    box.style.top = `${(rect.top / img.naturalHeight) * 100}%`;
    box.style.width = `${(rect.width / img.naturalWidth) * 100}%`;
    box.style.height = `${(rect.height / img.naturalHeight) * 100}%`;
    box.setAttribute("aria-label", `${text.cropBox}: ${rect.left}, ${rect.top}, ${rect.width} × ${rect.height}`);
  };
  const commit = () => {
    if (!rect) return;
    for (const key of ["left", "top", "width", "height"]) form.setValue(key, rect[key]);
  };
  frame.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !img.naturalWidth) return;
    event.preventDefault();
    const at = imagePoint(img, event);
    frame.setPointerCapture(event.pointerId);
    drag = event.target === box && rect ? { move: true, dx: at.x - rect.left, dy: at.y - rect.top } : { move: false, x: at.x, y: at.y };
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const at = imagePoint(img, event);
    if (drag.move) {
      rect.left = Math.round(clamp(at.x - drag.dx, 0, img.naturalWidth - rect.width));
      rect.top = Math.round(clamp(at.y - drag.dy, 0, img.naturalHeight - rect.height));
    } else {
      const left = Math.round(Math.min(drag.x, at.x));
      const top = Math.round(Math.min(drag.y, at.y));
      rect = { left, top, width: Math.max(1, Math.round(Math.abs(at.x - drag.x))), height: Math.max(1, Math.round(Math.abs(at.y - drag.y))) };
    }
    draw();
  });
  const end = () => { if (drag) { drag = null; commit(); } };
  frame.addEventListener("pointerup", end);
  frame.addEventListener("pointercancel", end);
  box.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (!rect || !(event.key in moves)) return;
    event.preventDefault();
    rect.left = clamp(rect.left + moves[event.key][0], 0, img.naturalWidth - rect.width);
    rect.top = clamp(rect.top + moves[event.key][1], 0, img.naturalHeight - rect.height);
    draw();
    commit();
  });
  return {
    settingsChanged(values) {
      const { left, top, width, height } = values;
      if ([left, top, width, height].every((v) => Number.isFinite(v))) rect = { left, top, width, height };
      draw();
    },
    imageLoaded: draw,
  };
}

/** Erase-object: paint the mask with a brush; maskData is a white-on-black PNG of the image's size. */
function maskWidget({ frame, img, text, note, controls }) {
  const canvas = el("canvas", { class: "mask-canvas", "aria-hidden": "true" });
  frame.append(canvas);
  frame.classList.add("drawable");
  note.textContent = text.maskHelp;
  const size = el("input", { type: "range", id: "mask-brush", min: "4", max: "160", value: "32" });
  const clear = el("button", { type: "button", class: "button" }, text.clearMask);
  controls.replaceChildren(el("div", { class: "field mask-controls" },
    el("label", { for: "mask-brush" }, text.brushSize),
    el("div", { class: "range-row" }, size, clear)));
  let painted = false;
  let last = null;
  const pen = () => canvas.getContext("2d");

  const sizeCanvas = () => {
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    painted = false;
  };
  const stroke = (from, to) => {
    const ctx = pen();
    const scale = img.naturalWidth / img.getBoundingClientRect().width;
    ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--danger").trim() || "red";
    ctx.lineWidth = Number(size.value) * scale;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
    painted = true;
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = imagePoint(img, event);
    stroke(last, last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const at = imagePoint(img, event);
    stroke(last, at);
    last = at;
  });
  const end = () => { last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", () => { pen().clearRect(0, 0, canvas.width, canvas.height); painted = false; });
  return {
    imageLoaded: sizeCanvas,
    extraSettings() {
      if (!painted) return { error: text.maskNeeded };
      const out = el("canvas", { width: String(canvas.width), height: String(canvas.height) });
      const ctx = out.getContext("2d");
      ctx.drawImage(canvas, 0, 0);
      ctx.globalCompositeOperation = "source-in";
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, out.width, out.height);
      ctx.globalCompositeOperation = "destination-over";
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, out.width, out.height);
      return { settings: { maskData: out.toDataURL("image/png") } };
    },
  };
}

/** Split: the cut lines over the image, from the mode, rows, cols or fixed tile size. */
function splitWidget({ frame, img, text, note }) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "grid-lines");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("preserveAspectRatio", "none");
  frame.append(svg);
  note.textContent = text.splitHelp;
  let values = {};
  const cuts = (length, parts, tile) => {
    if (tile) { const out = []; for (let at = tile; at < length && out.length < 400; at += tile) out.push(at); return out; }
    return Array.from({ length: Math.max(0, parts - 1) }, (_, i) => Math.round(((i + 1) * length) / parts));
  };
  const draw = () => {
    const w = img.naturalWidth;
    const h = img.naturalHeight;
    if (!w) return;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    const fixed = values.tileWidth || values.tileHeight;
    const mode = values.mode || "grid";
    const cols = fixed ? cuts(w, 1, values.tileWidth) : cuts(w, mode === "rows" ? 1 : values.cols || 2, null);
    const rows = fixed ? cuts(h, 1, values.tileHeight) : cuts(h, mode === "cols" ? 1 : values.rows || 2, null);
    const line = (x1, y1, x2, y2) => {
      const node = document.createElementNS("http://www.w3.org/2000/svg", "line");
      for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) node.setAttribute(k, v);
      node.setAttribute("vector-effect", "non-scaling-stroke");
      return node;
    };
    svg.replaceChildren(...cols.map((x) => line(x, 0, x, h)), ...rows.map((y) => line(0, y, w, y)));
  };
  return { settingsChanged(next) { values = next; draw(); }, imageLoaded: draw };
}

/** Collage: the templates as tiles drawn from their cells; choosing one sets `template`. */
export function collagePicker({ container, templates, form, text }) {
  const names = ["auto", ...Object.keys(templates)];
  const group = el("div", { class: "template-tiles", role: "group", "aria-label": text.layouts });
  const svgFor = (cells) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 100 100");
    svg.setAttribute("aria-hidden", "true");
    for (const [x, y, w, h] of cells) {
      const r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      for (const [k, v] of Object.entries({ x: x * 100 + 2, y: y * 100 + 2, width: Math.max(1, w * 100 - 4), height: Math.max(1, h * 100 - 4), rx: 3 })) r.setAttribute(k, v);
      svg.append(r);
    }
    return svg;
  };
  const buttons = names.map((name) => {
    const button = el("button", { type: "button", class: "template-tile", "aria-pressed": "false", "data-template": name, title: name },
      name === "auto" ? el("span", { class: "auto-tile", "aria-hidden": "true" }, "A") : svgFor(templates[name]),
      el("span", { class: "tile-name" }, name));
    button.addEventListener("click", () => form.setValue("template", name));
    return button;
  });
  group.append(...buttons);
  container.replaceChildren(el("p", { class: "widget-label", "aria-hidden": "true" }, text.layouts), group);
  return {
    settingsChanged(values) {
      const current = values.template || "auto";
      for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.template === current));
    },
  };
}

/** The widget of `toolId` working on the preview image, or null when it has none. */
export function imageWidget(toolId, parts) {
  if (toolId === "crop") return cropWidget(parts);
  if (toolId === "erase-object") return maskWidget(parts);
  if (toolId === "split") return splitWidget(parts);
  return null;
}
