// The price table jobs are costed by (runtime setting `prices`, SPEC §10 "Spend
// in view"): one currency and, per `provider/model`, five prices. Rows are added
// and removed here; "Save" sends the whole table, which replaces the saved one
// (or the providers' list prices while none was saved).

import { h, uid } from "../dom.js";
import { lang, t } from "../i18n.js";
import { scrollTable } from "../outcomes.js";

/** The five prices of a model, in the API's order, with their column titles. */
const COLUMNS = [
  ["input_text_per_million", "settings.price_input_text"],
  ["input_image_per_million", "settings.price_input_image"],
  ["output_text_per_million", "settings.price_output_text"],
  ["output_image_per_million", "settings.price_output_image"],
  ["per_image", "settings.price_per_image"],
];
const MAX_PRICE = 1_000_000;
const KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]*\/\S+$/;

function asOfText(asOf) {
  if (!asOf) return "";
  const [year, month, day] = asOf.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB",
    { dateStyle: "long", timeZone: "UTC" });
}

/** One price input in its `[data-field]` box, so a 422 on it lands there. */
function priceCell(key, name, labelKey, value) {
  const id = uid("price");
  const input = h("input", { id, name: `prices.models.${key}.${name}`, type: "number", min: 0, max: MAX_PRICE,
    step: "any", required: true, inputmode: "decimal", value: String(value ?? 0),
    "aria-label": `${key}: ${t(labelKey)}`,
    "aria-describedby": `${id}-error` });
  return h("td", { dataset: { field: `prices.models.${key}.${name}`, label: t(labelKey) } }, input,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function priceRow(key, price, onRemove) {
  const row = h("tr", { dataset: { model: key } },
    h("th", { scope: "row" }, h("code", { text: key })),
    COLUMNS.map(([name, labelKey]) => priceCell(key, name, labelKey, price?.[name])),
    h("td", {}, h("button", { type: "button", class: "danger chip", text: t("settings.price_remove"),
      "aria-label": t("settings.price_remove_named", { model: key }),
      onclick: () => onRemove(row, key) })));
  return row;
}

/** The price table's card. `send(change, form)` PUTs and marks a 422's fields;
 * `redraw(view)` shows the settings saved; `stamp(setting)` says who changed it. */
export function pricesCard(view, { send, redraw, stamp }) {
  const table = view.prices.value;
  const currencyId = uid("currency");
  const currency = h("input", { id: currencyId, name: "prices.currency", type: "text", required: true,
    minlength: 3, maxlength: 3, pattern: "[A-Z]{3}", autocomplete: "off", spellcheck: "false",
    autocapitalize: "characters", value: table.currency, class: "currency-input",
    "aria-describedby": `${currencyId}-help ${currencyId}-error` });
  currency.addEventListener("input", () => {
    const upper = currency.value.toUpperCase();
    if (upper !== currency.value) currency.value = upper;
  });

  const body = h("tbody");
  const empty = h("p", { class: "empty", text: t("settings.prices_empty") });
  const keys = () => [...body.rows].map((row) => row.dataset.model);
  const showEmpty = () => { empty.hidden = body.rows.length > 0; };
  const remove = (row) => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    showEmpty();
    (next?.querySelector("button") || addInput).focus();
  };
  for (const [key, price] of Object.entries(table.models)) body.append(priceRow(key, price, remove));

  const addId = uid("price-key");
  const addInput = h("input", { id: addId, type: "text", autocomplete: "off", spellcheck: "false",
    autocapitalize: "none", placeholder: "turbotext/mix_images", maxlength: 200,
    "aria-describedby": `${addId}-help` });
  const add = () => {
    const key = addInput.value.trim();
    let problem = "";
    if (!KEY_PATTERN.test(key)) problem = t("settings.price_key_invalid");
    else if (keys().includes(key)) problem = t("settings.price_key_taken", { model: key });
    addInput.setCustomValidity(problem);
    if (problem) {
      addInput.reportValidity();
      return;
    }
    const row = priceRow(key, null, remove);
    body.append(row);
    showEmpty();
    addInput.value = "";
    row.querySelector("input").focus();
  };
  addInput.addEventListener("input", () => addInput.setCustomValidity(""));
  addInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  });

  const note = view.prices.defaults
    ? t("settings.prices_defaults", { date: asOfText(table.as_of) || "—" })
    : stamp(view.prices);
  const headRow = h("tr", {}, h("th", { scope: "col", text: t("settings.price_model") }),
    COLUMNS.map(([, labelKey]) => h("th", { scope: "col", class: "num", text: t(labelKey) })),
    h("td", {}));
  const form = h("form", { class: "card settings-wide", id: "prices", "aria-labelledby": "prices-heading",
    novalidate: true },
  h("h2", { id: "prices-heading", text: t("settings.prices") }),
  h("p", { class: "help", text: t("settings.prices_help") }),
  h("p", { class: view.prices.defaults ? "prices-note" : "muted small", text: note }),
  h("div", { class: "prices-head" },
    h("div", { class: "field", dataset: { field: "prices.currency" } },
      h("label", { for: currencyId, text: t("settings.currency") }), currency,
      h("p", { class: "help", id: `${currencyId}-help`, text: t("settings.currency_help") }),
      h("p", { class: "field-error", id: `${currencyId}-error`, hidden: true }))),
  scrollTable(t("settings.prices"), h("table", { class: "price-table" },
    h("thead", {}, headRow), body)),
  empty,
  h("div", { class: "field price-add" },
    h("label", { for: addId, text: t("settings.price_add_key") }),
    h("div", { class: "price-add-row" }, addInput,
      h("button", { type: "button", text: t("settings.price_add"), onclick: add })),
    h("p", { class: "help", id: `${addId}-help`, text: t("settings.price_add_help") })),
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: t("settings.prices_save") })));
  showEmpty();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const inputs = [currency, ...body.querySelectorAll("input")];
    const bad = inputs.find((input) => !input.checkValidity());
    if (bad) {
      bad.reportValidity();
      return;
    }
    const models = {};
    for (const row of body.rows) {
      const cells = row.querySelectorAll("td input");
      models[row.dataset.model] = Object.fromEntries(COLUMNS.map(([name], index) => [name, Number(cells[index].value)]));
    }
    const next = await send({ prices: { currency: currency.value, as_of: table.as_of, models } }, form);
    if (next) redraw(next);
  });
  return form;
}
