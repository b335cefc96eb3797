// A settings form generated from a tool's JSON schema (pydantic's): numbers with their
// ranges (a slider beside the box when the range is small), enums as selects, colours as
// colour pickers, booleans as switches, text as inputs; a discriminated union (a tool whose
// settings depend on a mode) as a select of modes showing only that mode's fields. Invalid
// values are marked inline before anything is sent; server errors can be shown on a field.
import { el } from "./api.js";

const COLOUR_PATTERN = "#?([0-9a-fA-F]";
let formCount = 0;

function resolve(schema, root) {
  if (schema && schema.$ref) return root.$defs[schema.$ref.split("/").pop()];
  return schema;
}

/** The non-null branch of `anyOf: [X, {type: null}]`, and whether null is allowed. */
function unwrap(schema, root) {
  schema = resolve(schema, root);
  if (schema.anyOf) {
    const branches = schema.anyOf.map((s) => resolve(s, root));
    const real = branches.filter((s) => s.type !== "null");
    const nullable = real.length < branches.length;
    if (real.length === 1) return { ...real[0], ...pick(schema), nullable };
    return { ...schema, nullable, anyOfReal: real };
  }
  return { ...schema, nullable: false };
}

function pick(schema) {
  const out = {};
  for (const key of ["title", "description", "default"]) if (key in schema) out[key] = schema[key];
  return out;
}

/** "withoutEnlargement" -> "Without enlargement" (pydantic's default titles run words together). */
export function labelOf(name, schema) {
  const auto = name.replace(/[_-]/g, "").toLowerCase();
  if (schema.title && schema.title.replace(/[\s_-]/g, "").toLowerCase() !== auto) return schema.title;
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]/g, " ").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kindOf(schema) {
  if (schema.enum) return "enum";
  if (schema.const !== undefined) return "const";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return "number";
  if (schema.type === "string" && schema.pattern && schema.pattern.includes(COLOUR_PATTERN)) return "colour";
  if (schema.type === "string" && !schema.anyOfReal) return (schema.maxLength || 0) > 2000 ? "longtext" : "text";
  // number | string (an aspect ratio: 1.5 or "16:9"): one text box, numbers sent as numbers.
  if (schema.anyOfReal && schema.anyOfReal.every((s) => ["number", "integer", "string"].includes(s.type))) return "numtext";
  return "json"; // objects, arrays, mixed unions: JSON, checked by the server
}

function hexOf(value) {
  const text = String(value || "").replace(/^#?/, "");
  if (/^[0-9a-f]{6}([0-9a-f]{2})?$/i.test(text)) return `#${text.slice(0, 6)}`;
  if (/^[0-9a-f]{3,4}$/i.test(text)) return `#${[...text.slice(0, 3)].map((c) => c + c).join("")}`;
  return "#000000";
}

/** One field: {element, read() -> value|undefined, check() -> message|"" , show(message)}. */
function field(name, rawSchema, root, value, uid, onChange) {
  const schema = unwrap(rawSchema, root);
  const kind = kindOf(schema);
  const id = `${uid}-${name}`;
  const label = labelOf(name, schema);
  const hint = schema.description ? el("span", { class: "hint", id: `${id}-hint` }, schema.description) : ""; // not null: DOM append() would print "null"
  const error = el("span", { class: "error-text", id: `${id}-error`, hidden: true });
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  const initial = value !== undefined ? value : schema.default;
  let input;
  let read;
  const wrap = el("div", { class: "field", "data-setting": name });

  if (kind === "const") {
    return { name, element: null, read: () => schema.const, check: () => "", show() {} };
  }
  if (kind === "boolean") {
    input = el("input", { type: "checkbox", role: "switch", id, "aria-describedby": describedBy });
    input.checked = Boolean(initial);
    read = () => input.checked;
    wrap.append(el("label", { class: "switch", for: id }, input, el("span", {}, label)), hint, error);
  } else if (kind === "enum") {
    input = el("select", { id, "aria-describedby": describedBy });
    if (schema.nullable || initial === undefined || initial === null) input.append(el("option", { value: "" }, "—"));
    for (const option of schema.enum) input.append(el("option", { value: String(option) }, String(option)));
    input.value = initial === null || initial === undefined ? "" : String(initial);
    read = () => (input.value === "" ? undefined : schema.enum.find((o) => String(o) === input.value));
    wrap.append(el("label", { for: id }, label), input, hint, error);
  } else if (kind === "number") {
    const step = schema.type === "integer" ? "1" : "any";
    input = el("input", { type: "number", id, step, inputmode: schema.type === "integer" ? "numeric" : "decimal", "aria-describedby": describedBy });
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
    if (initial !== null && initial !== undefined) input.value = initial;
    read = () => (input.value === "" ? undefined : Number(input.value));
    const small = schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum - schema.minimum <= 1000;
    if (small) {
      // The slider is a pointer shortcut for the number box (which carries the label and
      // the keyboard): hidden from screen readers so the setting has one named control.
      const slider = el("input", { type: "range", min: schema.minimum, max: schema.maximum, step: schema.type === "integer" ? 1 : (schema.maximum - schema.minimum) / 100, "aria-hidden": "true", tabindex: "-1" });
      slider.value = input.value || schema.minimum;
      slider.addEventListener("input", () => { input.value = slider.value; input.dispatchEvent(new Event("input", { bubbles: true })); });
      input.addEventListener("input", () => { if (input.value !== "") slider.value = input.value; });
      wrap.append(el("label", { for: id }, label), el("div", { class: "range-row" }, slider, input), hint, error);
    } else {
      wrap.append(el("label", { for: id }, label), input, hint, error);
    }
  } else if (kind === "colour") {
    input = el("input", { type: "text", id, "aria-describedby": describedBy, autocomplete: "off", spellcheck: "false" });
    input.value = initial ?? "";
    const picker = el("input", { type: "color", "aria-label": `${label} (picker)`, value: hexOf(initial) });
    picker.addEventListener("input", () => { input.value = picker.value; input.dispatchEvent(new Event("input", { bubbles: true })); });
    input.addEventListener("input", () => { picker.value = hexOf(input.value); });
    read = () => (input.value.trim() === "" ? undefined : input.value.trim());
    wrap.append(el("label", { for: id }, label), el("div", { class: "range-row" }, picker, input), hint, error);
  } else if (kind === "numtext") {
    input = el("input", { type: "text", id, "aria-describedby": describedBy, autocomplete: "off" });
    input.value = initial ?? "";
    read = () => {
      const text = input.value.trim();
      if (text === "") return undefined;
      return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    };
    wrap.append(el("label", { for: id }, label), input, hint, error);
  } else if (kind === "text" || kind === "longtext") {
    input = el(kind === "text" && (schema.maxLength || 200) <= 500 ? "input" : "textarea", { id, "aria-describedby": describedBy });
    if (input.tagName === "INPUT") input.type = "text";
    input.value = initial ?? "";
    read = () => (input.value === "" ? undefined : input.value);
    wrap.append(el("label", { for: id }, label), input, hint, error);
  } else {
    input = el("textarea", { id, "aria-describedby": describedBy, spellcheck: "false", rows: "3" });
    input.value = initial === undefined || initial === null ? "" : JSON.stringify(initial);
    read = () => {
      if (input.value.trim() === "") return undefined;
      try { return JSON.parse(input.value); } catch (e) { return input.value; }
    };
    wrap.append(el("label", { for: id }, `${label} (JSON)`), input, hint, error);
  }
  input.addEventListener("input", onChange);
  input.addEventListener("change", onChange);

  const show = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  };
  const check = () => {
    const current = read();
    if (current === undefined) return schema.nullable || schema.default !== undefined || !rawSchema.__required ? "" : "Required";
    if (kind === "number") {
      if (Number.isNaN(current)) return "Enter a number";
      if (schema.type === "integer" && !Number.isInteger(current)) return "Enter a whole number";
      if (schema.minimum !== undefined && current < schema.minimum) return `At least ${schema.minimum}`;
      if (schema.maximum !== undefined && current > schema.maximum) return `At most ${schema.maximum}`;
      if (schema.exclusiveMinimum !== undefined && current <= schema.exclusiveMinimum) return `More than ${schema.exclusiveMinimum}`;
    }
    if (typeof current === "string" && kind !== "json") {
      if (schema.minLength && current.length < schema.minLength) return `At least ${schema.minLength} characters`;
      if (schema.maxLength && current.length > schema.maxLength) return `At most ${schema.maxLength} characters`;
      if (schema.pattern && !new RegExp(schema.pattern).test(current)) return kind === "colour" ? "A colour like #ff8800, #ff880080 or transparent" : "Not in the expected form";
    }
    if (kind === "json" && typeof current === "string") return "Not valid JSON";
    return "";
  };
  return { name, element: wrap, input, read, check, show };
}

/** The variants of a discriminated union: [{value, title, schema}], or null. */
function variantsOf(schema) {
  const branches = schema.oneOf || (schema.discriminator ? schema.anyOf : null);
  if (!branches || !schema.discriminator) return null;
  const key = schema.discriminator.propertyName;
  return branches.map((branch) => {
    const resolved = resolve(branch, schema);
    return { value: resolved.properties[key].const, title: resolved.description || resolved.title, schema: resolved };
  });
}

/**
 * Build the form for `schema` inside `container`. Returns {read(), validate(), showErrors(map),
 * showServerError(err), setValue(name, value)}; onChange(values) runs after every edit.
 */
export function schemaForm(container, schema, { values = {}, onChange = () => {}, exclude = [] } = {}) {
  const uid = `sf${++formCount}`;
  const body = el("div", { class: "schema-form" });
  container.replaceChildren(body);
  let fields = [];
  const variants = variantsOf(schema);
  const changed = () => onChange(read());

  const buildFields = (objectSchema, current) => {
    const required = new Set(objectSchema.required || []);
    return Object.entries(objectSchema.properties || {})
      .filter(([name]) => !exclude.includes(name))
      .map(([name, property]) => field(name, { ...property, __required: required.has(name) }, schema, current[name], uid, changed));
  };

  const render = (current) => {
    const holder = el("div", { class: "schema-fields" });
    let objectSchema = schema;
    if (variants) {
      const key = schema.discriminator.propertyName;
      const chosen = variants.find((v) => v.value === current[key]) || variants.find((v) => v.schema.description?.includes("default")) || variants[0];
      const select = el("select", { id: `${uid}-${key}` });
      for (const variant of variants) select.append(el("option", { value: variant.value }, variant.value));
      select.value = chosen.value;
      select.addEventListener("change", () => {
        const keep = read();
        keep[key] = select.value;
        render(keep);
        changed();
      });
      const description = el("span", { class: "hint" }, chosen.title || "");
      body.replaceChildren(el("div", { class: "field", "data-setting": key }, el("label", { for: select.id }, labelOf(key, {})), select, description), holder);
      objectSchema = chosen.schema;
    } else {
      body.replaceChildren(holder);
    }
    fields = buildFields(objectSchema, current);
    for (const item of fields) if (item.element) holder.append(item.element);
  };

  const read = () => {
    const out = {};
    for (const item of fields) {
      const value = item.read();
      if (value !== undefined) out[item.name] = value;
    }
    return out;
  };
  const validate = () => {
    const errors = {};
    for (const item of fields) {
      const message = item.check();
      item.show(message);
      if (message) errors[item.name] = message;
    }
    return errors;
  };
  /** A server INVALID_SETTINGS error names the field first ("width: ..."): show it there. */
  const showServerError = (message) => {
    const match = /^(?:step \d+[^:]*: )?([A-Za-z0-9_]+)(?:[.:])/.exec(message || "");
    const target = match && fields.find((f) => f.name === match[1]);
    if (target) { target.show(message); target.input?.focus(); return true; }
    return false;
  };
  const setValue = (name, value) => {
    const target = fields.find((f) => f.name === name);
    if (!target || !target.input) return;
    target.input.value = value;
    target.input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  render(values);
  body.addEventListener("input", () => { for (const item of fields) if (item.input?.getAttribute("aria-invalid") === "true") item.show(item.check()); });
  return { read, validate, showServerError, setValue, fields: () => fields };
}
