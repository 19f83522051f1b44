// The slot page's hand-built fields: a label, the control, its help and the
// hidden `.field-error` paragraph a 422 fills (field-errors.js), all in a
// `[data-field=<API path>]` box.

import { h, uid } from "../dom.js";

/** A labelled field; `help` is a text or a list of nodes. */
export function field(label, input, help) {
  const id = input.id || uid("slot");
  input.id = id;
  const helpNode = help ? h("p", { class: "help", id: `${id}-help` }, help) : null;
  input.setAttribute("aria-describedby", helpNode ? `${id}-help ${id}-error` : `${id}-error`);
  return h("div", { class: "field", dataset: { field: input.name } },
    h("label", { for: id, text: label }), input, helpNode,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

/** A switch (a checkbox with role=switch) with its label beside it and the help under both. */
export function switchField(label, input, help) {
  const id = input.id || uid("slot");
  input.id = id;
  input.setAttribute("aria-describedby", help ? `${id}-help ${id}-error` : `${id}-error`);
  return h("div", { class: "field toggle-field", dataset: { field: input.name } },
    input, h("label", { for: id, text: label }),
    help ? h("p", { class: "help", id: `${id}-help` }, help) : null,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

export function select(name, options, value) {
  const element = h("select", { name });
  for (const [optionValue, label] of options) {
    element.append(h("option", { value: optionValue, text: label }));
  }
  element.value = value;
  return element;
}
