// Drag a list item by its handle to reorder (pointer events: mouse, pen and touch alike).
// The dragged item never leaves the DOM while it moves (its neighbours hop over it), so
// the pointer capture on the handle holds to the end. Keyboard users have the Move buttons.

const EDGE = 56; // px from the viewport's edge where dragging scrolls the page

/** Make `handle` drag `item` within `list`; `onDrop()` runs after the pointer is released. */
export function enableDrag(handle, item, list, onDrop) {
  handle.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    item.classList.add("dragging");
    list.classList.add("sorting");
    let lastY = event.clientY;
    let scroller = null;

    const follow = (y) => {
      let previous = item.previousElementSibling;
      while (previous && y < middle(previous)) {
        item.after(previous);
        previous = item.previousElementSibling;
      }
      let next = item.nextElementSibling;
      while (next && y > middle(next)) {
        item.before(next);
        next = item.nextElementSibling;
      }
    };
    const autoScroll = () => {
      const step = lastY < EDGE ? -12 : lastY > innerHeight - EDGE ? 12 : 0;
      if (step) { scrollBy(0, step); follow(lastY); }
    };
    const moved = (e) => {
      lastY = e.clientY;
      follow(lastY);
    };
    const done = () => {
      handle.removeEventListener("pointermove", moved);
      handle.removeEventListener("pointerup", done);
      handle.removeEventListener("pointercancel", done);
      clearInterval(scroller);
      item.classList.remove("dragging");
      list.classList.remove("sorting");
      onDrop();
    };
    handle.addEventListener("pointermove", moved);
    handle.addEventListener("pointerup", done);
    handle.addEventListener("pointercancel", done);
    scroller = setInterval(autoScroll, 30);
  });
}

function middle(node) {
  const box = node.getBoundingClientRect();
  return box.top + box.height / 2;
}
