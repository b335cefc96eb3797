// Small pieces shared by the settings and administration pages: their translated texts,
// dates, inline errors, and a modal <dialog> for confirmations and short forms.
import { el, pageData } from "./api.js";

const texts = pageData("admin-texts") || {};

/** A translated text of these pages with {placeholders} filled in. */
export function s(key, values = {}) {
  let text = texts[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : s("never");
}

/** Show (or with an empty message, hide) an inline error box: role=alert, so it is read out. */
export function showError(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}

/** A button whose accessible name says what it acts on: "Delete" + hidden " alice". */
export function actionButton(label, target, { kind = "", onclick } = {}) {
  return el("button", { type: "button", class: `button small-button ${kind}`.trim(), onclick },
    label, el("span", { class: "visually-hidden" }, ` ${target}`));
}

/**
 * A modal dialog with a title, some content and two buttons. `onSubmit` runs on the main
 * button; what it throws is shown in the dialog, which stays open. Resolves true when the
 * main action succeeded, false when cancelled.
 */
export function openDialog({ title, body = [], submitLabel, danger = false, onSubmit = async () => {} }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const error = el("p", { class: "alert error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", class: `button ${danger ? "danger-fill" : "primary"}` }, submitLabel);
    const cancel = el("button", { type: "button", class: "button" }, s("cancel"));
    const form = el("form", { class: "dialog-form", method: "dialog" },
      el("h2", { id: titleId }, title), ...body, error, el("div", { class: "dialog-actions" }, cancel, submit));
    const dialog = el("dialog", { class: "admin-dialog", "aria-labelledby": titleId }, form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(false); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        await onSubmit(form);
        finish(true);
      } catch (problem) {
        showError(error, problem.message);
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select") || submit;
    first.focus();
  });
}

/** Ask before something that cannot be undone. */
export function confirmDialog(message, confirmLabel, action) {
  return openDialog({ title: message, submitLabel: confirmLabel || s("delete"), danger: true, onSubmit: action });
}

/** A labelled field for dialogs and forms: {wrapper, input}. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const parts = [el("label", { for: id }, label)];
  if (hint) {
    const hintId = `${id}-hint`;
    parts.push(el("span", { class: "hint", id: hintId }, hint));
    input.setAttribute("aria-describedby", hintId);
  }
  return { wrapper: el("div", { class: "field" }, ...parts, input), input };
}

/** A <select> of options [{value, label}] with one chosen. */
export function select(options, chosen, attributes = {}) {
  return el("select", attributes, ...options.map((o) => el("option", { value: o.value, selected: o.value === chosen }, o.label)));
}
