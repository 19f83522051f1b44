// A form generated from an operation's JSON Schema (GET /api/providers): no
// hand-written form per provider, so a new provider's settings model appears in
// the slot page without a change here (SPEC §7, STYLE rule 7).
//
//   enum → select · number → number input with min/max/step, plus a slider when
//   the range is small · boolean → toggle · pattern #RRGGBB → colour input ·
//   long text → textarea · anyOf [X, null] → X with an empty "default" choice ·
//   array of enum → checkboxes. Titles and descriptions are the labels and help,
//   in the page's language when the model gives `x-i18n: {ru: {title, description,
//   enum: {value: label}}}` for a field.

import { h, uid } from "./dom.js";
import { lang, t } from "./i18n.js";

const COLOUR = "^#[0-9A-Fa-f]{6}$";
const LONG_TEXT = 200;
const SLIDER_SPAN = 100;
/** A slider beside the number when min..max spans at most this much. */

function resolve(schema, root) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return { ...(root.$defs?.[name] || {}), ...schema, $ref: undefined };
  }
  return schema || {};
}

/** A property's own schema and whether null is allowed (`anyOf [X, null]`). */
export function unwrap(schema, root) {
  let own = resolve(schema, root);
  let nullable = false;
  if (Array.isArray(own.anyOf)) {
    const options = own.anyOf.map((item) => resolve(item, root));
    const real = options.filter((item) => item.type !== "null");
    nullable = real.length < options.length;
    if (real.length === 1) {
      const { anyOf, ...rest } = own;
      own = { ...real[0], ...rest };
    }
  }
  return { own, nullable };
}

function localized(own, field) {
  return own["x-i18n"]?.[lang]?.[field] ?? own[field];
}

function enumLabel(own, value) {
  return own["x-i18n"]?.[lang]?.enum?.[value] ?? own["x-enum-labels"]?.[value] ?? String(value);
}

function numberStep(own) {
  if (own.type === "integer") return 1;
  if (own.multipleOf) return own.multipleOf;
  if (own.minimum !== undefined && own.maximum !== undefined) {
    const span = own.maximum - own.minimum;
    return span <= 1 ? 0.01 : span <= 20 ? 0.1 : 1;
  }
  return "any";
}

function isSmallRange(own) {
  return own.minimum !== undefined && own.maximum !== undefined
    && own.maximum - own.minimum <= SLIDER_SPAN;
}

/** One field: its element, how to read it, and how to show an error on it. */
function control(name, schema, root, value, required) {
  const { own, nullable } = unwrap(schema, root);
  const id = uid(`setting-${name}`);
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const title = localized(own, "title") || name;
  const description = localized(own, "description");
  const has = value !== undefined && value !== null;
  const initial = has ? value : own.default;
  const describedBy = [description ? helpId : null, errorId].filter(Boolean).join(" ");
  let input;
  let read;
  let focusable;
  let labelTarget = true;

  if (own.enum && own.type !== "array") {
    input = h("select", { id, name, "aria-describedby": describedBy });
    if (nullable || !required && own.default === undefined) {
      input.append(h("option", { value: "", text: t("form.default_choice") }));
    }
    for (const option of own.enum) {
      input.append(h("option", { value: String(option), text: enumLabel(own, option) }));
    }
    input.value = initial === undefined || initial === null ? "" : String(initial);
    read = () => (input.value === "" ? null : own.enum.find((o) => String(o) === input.value));
  } else if (own.type === "boolean") {
    input = h("input", { id, name, type: "checkbox", role: "switch", class: "toggle",
      "aria-describedby": describedBy });
    input.checked = Boolean(initial);
    read = () => input.checked;
  } else if (own.type === "integer" || own.type === "number") {
    const attrs = { id, name, type: "number", inputmode: own.type === "integer" ? "numeric" : "decimal",
      step: numberStep(own), min: own.minimum, max: own.maximum, "aria-describedby": describedBy,
      required: required && !nullable, placeholder: nullable ? t("form.default_placeholder") : null };
    const number = h("input", attrs);
    input = number;
    number.value = initial === undefined || initial === null ? "" : String(initial);
    read = () => (number.value === "" ? null : Number(number.value));
    if (isSmallRange(own)) {
      const slider = h("input", { type: "range", min: own.minimum, max: own.maximum,
        step: numberStep(own), "aria-label": t("form.slider", { title }), tabindex: "-1",
        class: "slider" });
      slider.value = number.value === "" ? String(own.default ?? own.minimum) : number.value;
      slider.addEventListener("input", () => {
        number.value = slider.value;
        number.dispatchEvent(new Event("input", { bubbles: true }));
      });
      number.addEventListener("input", () => {
        if (number.value !== "") slider.value = number.value;
      });
      focusable = number;
      input = h("div", { class: "number-slider" }, slider, number);
    }
  } else if (own.type === "string" && own.pattern === COLOUR) {
    input = h("input", { id, name, type: "color", "aria-describedby": describedBy });
    input.value = typeof initial === "string" ? initial.toLowerCase() : "#000000";
    read = () => input.value.toUpperCase();
  } else if (own.type === "array" && own.items) {
    const items = resolve(own.items, root);
    const chosen = new Set(Array.isArray(initial) ? initial : []);
    const boxes = (items.enum || []).map((option) => {
      const boxId = uid(`${name}-opt`);
      const box = h("input", { type: "checkbox", id: boxId, value: String(option) });
      box.checked = chosen.has(option);
      return { option, box, row: h("div", { class: "check" }, box,
        h("label", { for: boxId, text: enumLabel(items, option) })) };
    });
    input = h("fieldset", { class: "choices", id, "aria-describedby": describedBy },
      h("legend", { text: title }), boxes.map((item) => item.row));
    labelTarget = false;
    focusable = boxes[0]?.box;
    read = () => {
      const picked = boxes.filter((item) => item.box.checked).map((item) => item.option);
      return picked.length ? picked : null;
    };
  } else {
    const long = (own.maxLength ?? 0) > LONG_TEXT || /prompt/.test(name);
    const attrs = { id, name, "aria-describedby": describedBy, required: required && !nullable,
      minlength: own.minLength, maxlength: own.maxLength,
      pattern: own.pattern ? own.pattern.replace(/^\^|\$$/g, "") : null,
      placeholder: nullable ? t("form.default_placeholder") : null };
    input = long ? h("textarea", { ...attrs, rows: 5 }) : h("input", { ...attrs, type: "text" });
    input.value = initial === undefined || initial === null ? "" : String(initial);
    read = () => (input.value === "" && (nullable || !required) ? null : input.value);
  }

  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const help = description ? h("p", { class: "help", id: helpId, text: description }) : null;
  const label = labelTarget ? h("label", { for: id, text: title }) : null;
  const element = h("div", { class: own.type === "boolean" ? "field toggle-field" : "field",
    dataset: { field: name } }, label, input, help, error);
  const target = focusable || input;
  return {
    name,
    element,
    defaultValue: own.default,
    read,
    showError(message) {
      error.textContent = message;
      error.hidden = false;
      target.setAttribute("aria-invalid", "true");
    },
    clearError() {
      error.hidden = true;
      error.textContent = "";
      target.removeAttribute("aria-invalid");
    },
    focus() {
      target.focus();
    },
  };
}

/**
 * The form of one operation's settings.
 * `values` are the stored settings; `read()` gives back only keys of this schema:
 * those stored before, and those whose value differs from the schema's default.
 */
export function schemaForm(schema, values = {}, { onChange } = {}) {
  const root = schema || {};
  const required = new Set(root.required || []);
  const controls = Object.entries(root.properties || {}).map(([name, property]) =>
    control(name, property, root, values?.[name], required.has(name)),
  );
  const topError = h("p", { class: "form-error", role: "alert", hidden: true });
  const element = h("div", { class: "schema-form" }, topError, controls.map((c) => c.element));
  if (onChange) {
    element.addEventListener("input", onChange);
    element.addEventListener("change", onChange);
  }
  return {
    element,
    read() {
      const out = {};
      for (const item of controls) {
        const value = item.read();
        const stored = values && Object.prototype.hasOwnProperty.call(values, item.name);
        if (value === null || value === undefined) continue;
        if (!stored && JSON.stringify(value) === JSON.stringify(item.defaultValue)) continue;
        out[item.name] = value;
      }
      return out;
    },
    /** Show the API's 422 errors whose field path starts with `prefix`; returns
     * how many it placed. A path naming the object itself shows on top. */
    showErrors(errors, prefix) {
      let placed = 0;
      let first = null;
      const whole = [];
      for (const problem of errors) {
        const path = problem.field || "";
        if (path !== prefix.replace(/\.$/, "") && !path.startsWith(prefix)) continue;
        const rest = path.startsWith(prefix) ? path.slice(prefix.length) : "";
        const name = rest.split(".")[0];
        const item = controls.find((c) => c.name === name);
        if (item) {
          item.showError(problem.message);
          first = first || item;
        } else {
          whole.push(problem.message);
        }
        placed += 1;
      }
      if (whole.length) {
        topError.textContent = whole.join(" ");
        topError.hidden = false;
      }
      first?.focus();
      return placed;
    },
    clearErrors() {
      topError.hidden = true;
      controls.forEach((c) => c.clearError());
    },
  };
}
