// The before/after view of an image result: a slider over the two pictures (mouse, touch
// and pen through pointer events; ←/→, Home/End on the focused handle), a side-by-side
// view, and zoom to fit or to 100 %. A checkerboard shows through transparent pixels.
import { el } from "./api.js";

/** Builds the viewer for (before, after) URLs; `before` may be null (after only). */
export function compareView({ before, after, text }) {
  const frame = el("div", { class: "compare-frame checker" });
  const afterImg = el("img", { src: after, alt: text.after, class: "compare-after", draggable: "false" });
  frame.append(afterImg);
  const scroller = el("div", { class: "compare-scroll" }, frame);
  const root = el("div", { class: "compare" });
  const bar = el("div", { class: "row compare-tools" });
  let mode = "slider";
  let zoom = "fit";
  let position = 50;

  let handle = null;
  let beforeImg = null;
  const side = el("div", { class: "side-by-side", hidden: true });
  if (before) {
    beforeImg = el("img", { src: before, alt: text.before, class: "compare-before", draggable: "false" });
    handle = el("div", {
      class: "compare-handle", role: "slider", tabindex: "0", "aria-label": text.compareSlider,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "50", "aria-valuetext": `${text.before} 50%`,
    }, el("span", { class: "compare-grip", "aria-hidden": "true" }, "⟷"));
    frame.append(beforeImg, handle,
      el("span", { class: "compare-label left", "aria-hidden": "true" }, text.before),
      el("span", { class: "compare-label right", "aria-hidden": "true" }, text.after));
    const figure = (src, caption) => el("figure", { class: "checker-figure" },
      el("div", { class: "checker" }, el("img", { src, alt: caption })), el("figcaption", {}, caption));
    side.append(figure(before, text.before), figure(after, text.after));
  }

  const place = (value) => {
    position = Math.min(100, Math.max(0, value));
    if (!beforeImg) return;
    beforeImg.style.clipPath = `inset(0 ${100 - position}% 0 0)`;
    handle.style.left = `${position}%`;
    handle.setAttribute("aria-valuenow", String(Math.round(position)));
    handle.setAttribute("aria-valuetext", `${text.before} ${Math.round(position)}%`);
  };
  const fromPointer = (event) => {
    const box = frame.getBoundingClientRect();
    place(((event.clientX - box.left) / box.width) * 100);
  };
  if (beforeImg) {
    let dragging = false;
    frame.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      dragging = true;
      frame.setPointerCapture(event.pointerId);
      fromPointer(event);
      handle.focus({ preventScroll: true });
    });
    frame.addEventListener("pointermove", (event) => { if (dragging) fromPointer(event); });
    const stop = () => { dragging = false; };
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);
    handle.addEventListener("keydown", (event) => {
      const step = event.shiftKey ? 10 : 2;
      const moves = { ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step };
      if (event.key in moves) place(position + moves[event.key]);
      else if (event.key === "Home") place(0);
      else if (event.key === "End") place(100);
      else return;
      event.preventDefault();
    });
    place(50);
  }

  const toggle = (label, pressed, onClick) => {
    const button = el("button", { type: "button", class: "button small-button", "aria-pressed": String(pressed) }, label);
    button.addEventListener("click", onClick);
    return button;
  };
  const sliderButton = toggle(text.slider, true, () => setMode("slider"));
  const sideButton = toggle(text.sideBySide, false, () => setMode("side"));
  const fitButton = toggle(text.fit, true, () => setZoom("fit"));
  const actualButton = toggle(text.actual, false, () => setZoom("actual"));
  const setMode = (next) => {
    mode = next;
    sliderButton.setAttribute("aria-pressed", String(mode === "slider"));
    sideButton.setAttribute("aria-pressed", String(mode === "side"));
    scroller.hidden = mode !== "slider";
    side.hidden = mode !== "side";
  };
  const setZoom = (next) => {
    zoom = next;
    fitButton.setAttribute("aria-pressed", String(zoom === "fit"));
    actualButton.setAttribute("aria-pressed", String(zoom === "actual"));
    root.classList.toggle("actual-size", zoom === "actual");
    if (zoom === "actual") frame.style.width = `${afterImg.naturalWidth}px`;
    else frame.style.width = "";
  };
  afterImg.addEventListener("load", () => {
    frame.style.aspectRatio = `${afterImg.naturalWidth} / ${afterImg.naturalHeight}`;
    if (zoom === "actual") setZoom("actual");
  });
  if (before) {
    bar.append(el("div", { class: "segmented", role: "group", "aria-label": text.view }, sliderButton, sideButton));
  }
  bar.append(el("div", { class: "segmented", role: "group", "aria-label": text.zoom }, fitButton, actualButton));
  root.append(bar, scroller, side);
  return root;
}
