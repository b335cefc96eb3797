// Runtime settings: every key of GET /api/v1/settings with a control that fits its value
// (the disabled tools as a checklist, booleans as switches, numbers as number inputs),
// saved all at once with PUT /api/v1/settings.
import { api, el, pageData, toast } from "./api.js";
import { s, showError } from "./admin-ui.js";

const meta = pageData("settings-meta");
const form = document.getElementById("runtime-settings");
const box = form.querySelector("[data-fields]");
const error = form.querySelector("[data-error]");
const status = form.querySelector("[data-status]");
const readers = {}; // key -> () => value

function describeOf(info) {
  return info.help ? el("span", { class: "hint", id: `help-${info.key}` }, info.help) : null;
}

function toolChecklist(info, value) {
  const chosen = new Set(value || []);
  const count = el("span", { class: "badge" });
  const boxes = [];
  const recount = () => { count.textContent = s("disabledCount", { n: boxes.filter((b) => b.checked).length }); };
  const groups = meta.toolGroups.map((group) => el("fieldset", { class: "tool-checks" },
    el("legend", {}, group.name),
    el("div", { class: "check-grid" }, ...group.tools.map((tool) => {
      const input = el("input", { type: "checkbox", value: tool.id, checked: chosen.has(tool.id), id: `dt-${tool.id}`, onchange: recount });
      boxes.push(input);
      return el("label", { class: "check", for: `dt-${tool.id}` }, input, el("span", {}, tool.name),
        tool.experimental ? el("span", { class: "badge warn" }, "β") : null);
    }))));
  recount();
  readers[info.key] = () => boxes.filter((b) => b.checked).map((b) => b.value);
  return el("fieldset", { class: "setting setting-tools", "aria-describedby": `help-${info.key}` },
    el("legend", {}, info.label, " ", count), describeOf(info), ...groups);
}

function switchControl(info, value) {
  const input = el("input", { type: "checkbox", role: "switch", id: `set-${info.key}`, checked: Boolean(value), "aria-describedby": info.help ? `help-${info.key}` : null });
  readers[info.key] = () => input.checked;
  return el("div", { class: "setting" },
    el("label", { class: "switch", for: input.id }, input, el("span", {}, info.label)), describeOf(info));
}

function numberControl(info, value) {
  const limits = info.key === "loginAttemptLimit" ? { min: "0", max: "1000", step: "1" } : {};
  const input = el("input", { type: "number", id: `set-${info.key}`, value: String(value), inputmode: "numeric", ...limits, "aria-describedby": info.help ? `help-${info.key}` : null });
  readers[info.key] = () => Number(input.value);
  return el("div", { class: "setting field narrow-field" }, el("label", { for: input.id }, info.label), input, describeOf(info));
}

function jsonControl(info, value) {
  const input = el("textarea", { id: `set-${info.key}`, spellcheck: "false" }, JSON.stringify(value, null, 1));
  readers[info.key] = () => JSON.parse(input.value);
  return el("div", { class: "setting field" }, el("label", { for: input.id }, info.label), input, describeOf(info));
}

function readOnly(info, value) {
  const shown = typeof value === "boolean" ? s(value ? "yes" : "no") : JSON.stringify(value);
  return el("div", { class: "setting readonly" },
    el("p", {}, el("strong", {}, info.label), ": ", shown), describeOf(info));
}

function control(info, value) {
  if (!info.writable) return readOnly(info, value);
  if (info.key === "disabledTools") return toolChecklist(info, value);
  if (typeof value === "boolean") return switchControl(info, value);
  if (typeof value === "number") return numberControl(info, value);
  return jsonControl(info, value);
}

async function load() {
  const { settings } = await api("/api/v1/settings");
  const known = new Map(meta.fields.map((f) => [f.key, f]));
  const keys = [...new Set([...known.keys(), ...Object.keys(settings)])].filter((k) => k in settings);
  const infos = keys.map((key) => known.get(key) || { key, label: key, help: "", writable: true });
  // The checklist is long: the short controls first.
  infos.sort((a, b) => (a.key === "disabledTools") - (b.key === "disabledTools") || (!a.writable) - (!b.writable));
  box.replaceChildren(...infos.map((info) => control(info, settings[info.key])));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  let values;
  try {
    values = Object.fromEntries(Object.entries(readers).map(([key, read]) => [key, read()]));
  } catch (problem) {
    showError(error, problem.message);
    return;
  }
  try {
    await api("/api/v1/settings", { method: "PUT", json: values });
    showError(error, "");
    status.textContent = s("settingsSaved");
    toast(s("settingsSaved"));
  } catch (problem) {
    showError(error, problem.message);
  }
});

load().catch((problem) => showError(error, problem.message));
