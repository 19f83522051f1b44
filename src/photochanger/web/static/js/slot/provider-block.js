// A provider + operation picker with the operation's settings form under it
// (generated from its JSON Schema); the slot's own provider and its fallback
// each have one. Values typed for one operation are kept while another is tried.

import { fill, h } from "../dom.js";
import { t, titleOf } from "../i18n.js";
import { schemaForm } from "../schema-form.js";
import { field, select } from "./fields.js";

/** Provider + operation pickers and the generated settings form under them. */
export function providerBlock({ providers, provider, operation, settings, prefix, onChange, onOperation }) {
  const cache = new Map([[`${provider}/${operation}`, settings || {}]]);
  const providerSelect = select(`${prefix}provider`,
    providers.map((item) => [item.name, titleOf(item)]), provider);
  const operationSelect = h("select", { name: `${prefix}operation` });
  const formBox = h("div");
  let form = null;
  let current = { provider, operation };

  const ops = () => providers.find((item) => item.name === providerSelect.value)?.operations || [];
  const op = () => ops().find((item) => item.name === operationSelect.value);

  function fillOperations(wanted) {
    fill(operationSelect, ops().map((item) => h("option", { value: item.name, text: titleOf(item) })));
    operationSelect.value = ops().some((item) => item.name === wanted) ? wanted : ops()[0]?.name || "";
  }

  function drawForm() {
    if (form) cache.set(`${current.provider}/${current.operation}`, form.read());
    current = { provider: providerSelect.value, operation: operationSelect.value };
    const schema = op()?.settings_schema || { properties: {} };
    form = schemaForm(schema, cache.get(`${current.provider}/${current.operation}`) || {}, { onChange });
    fill(formBox, form.element);
    onOperation?.(op());
  }

  providerSelect.addEventListener("change", () => {
    fillOperations(null);
    drawForm();
    onChange();
  });
  operationSelect.addEventListener("change", () => {
    drawForm();
    onChange();
  });
  fillOperations(operation);
  drawForm();
  const element = h("div", { class: "provider-block" },
    h("div", { class: "grid-2" },
      field(t("slot.provider"), providerSelect),
      field(t("slot.operation"), operationSelect)),
    formBox);
  return {
    element,
    value: () => ({ provider: providerSelect.value, operation: operationSelect.value, settings: form.read() }),
    operation: op,
    form: () => form,
    controls: { provider: providerSelect, operation: operationSelect },
  };
}
