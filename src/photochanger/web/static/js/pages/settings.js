// Settings: the sync window and the margin before it for an `on_failure:
// original` answer, result retention, concurrency limits, the ingest password
// (shown in clear, changed only after a confirm), the providers' API keys
// (write-only: configured / last 4 / when; an empty field keeps the key, only
// "Remove" erases it) and the price table jobs are costed by.

import { api, ApiError, errorText } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { clearMarks, markField } from "../field-errors.js";
import { formatDateTime, t, titleOf } from "../i18n.js";
import { copyButton, notify, pageHeading, startPage } from "../layout.js";
import { pricesCard } from "../settings/prices.js";

const NUMBERS = [
  { name: "sync_response_seconds", min: 10, max: 60, slider: true },
  { name: "on_failure_margin_seconds", min: 1, max: 9, slider: true },
  { name: "result_ttl_hours", min: 1, max: 2160 },
  { name: "slot_concurrency_limit", min: 1, max: 1000 },
  { name: "provider_concurrency_limit", min: 1, max: 5000 },
];
const LABELS = {
  sync_response_seconds: ["settings.sync", "settings.sync_help"],
  on_failure_margin_seconds: ["settings.margin", "settings.margin_help"],
  result_ttl_hours: ["settings.ttl", "settings.ttl_help"],
  slot_concurrency_limit: ["settings.slot_limit", "settings.slot_limit_help"],
  provider_concurrency_limit: ["settings.provider_limit", "settings.provider_limit_help"],
};

function stamp(setting) {
  if (!setting?.updated_at) return t("settings.default_value");
  return t("settings.changed", { time: formatDateTime(setting.updated_at), who: setting.updated_by || "—" });
}

/** PUT /api/settings with `change`; 422 fields shown in `container`. */
async function send(change, container) {
  clearMarks(container);
  try {
    const view = await api("/api/settings", { method: "PUT", json: change });
    notify(t("settings.saved"), "ok");
    return view;
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) {
      const marked = error.fields.map((item) => markField(container, item.field, item.message));
      marked.find(Boolean)?.focus();
      const rest = error.fields.filter((item, index) => !marked[index]);
      notify(rest.length ? `${errorText(error)} ${rest.map((i) => `${i.field}: ${i.message}`).join("; ")}`
        : errorText(error), "error");
    } else {
      notify(errorText(error), "error");
    }
    return null;
  }
}

function numberField(spec, setting) {
  const id = uid(spec.name);
  const [labelKey, helpKey] = LABELS[spec.name];
  const input = h("input", { id, name: spec.name, type: "number", min: spec.min, max: spec.max, step: 1,
    required: true, inputmode: "numeric", value: setting.value,
    "aria-describedby": `${id}-help ${id}-error` });
  const parts = [input];
  if (spec.slider) {
    const slider = h("input", { type: "range", min: spec.min, max: spec.max, step: 1, class: "slider",
      value: setting.value, tabindex: "-1", "aria-label": t("form.slider", { title: t(labelKey) }) });
    slider.addEventListener("input", () => { input.value = slider.value; });
    input.addEventListener("input", () => { slider.value = input.value; });
    parts.unshift(slider);
  }
  return h("div", { class: "field", dataset: { field: spec.name } },
    h("label", { for: id, text: t(labelKey) }),
    spec.slider ? h("div", { class: "number-slider" }, parts) : input,
    h("p", { class: "help", id: `${id}-help` }, t(helpKey), " · ", h("span", { class: "muted", text: stamp(setting) })),
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function limitsCard(view, redraw) {
  const form = h("form", { class: "card", "aria-labelledby": "limits-heading", novalidate: false },
    h("h2", { id: "limits-heading", text: t("settings.limits") }),
    NUMBERS.map((spec) => numberField(spec, view[spec.name])),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: t("settings.save") })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const change = {};
    for (const spec of NUMBERS) {
      const value = Number(form.elements[spec.name].value);
      if (value !== view[spec.name].value) change[spec.name] = value;
    }
    if (!Object.keys(change).length) {
      notify(t("settings.nothing_changed"), "info");
      return;
    }
    const next = await send(change, form);
    if (next) redraw(next);
  });
  return form;
}

function passwordCard(view, redraw) {
  const current = view.ingest_password.value;
  const id = uid("ingest-password");
  const input = h("input", { id, name: "ingest_password", type: "text", required: true, maxlength: 1024,
    autocomplete: "off", spellcheck: "false", "aria-describedby": `${id}-help ${id}-error` });
  const form = h("form", { class: "card", "aria-labelledby": "password-heading" },
    h("h2", { id: "password-heading", text: t("settings.password") }),
    h("p", { class: "help", text: t("settings.password_help") }),
    h("div", { class: "copy-row" },
      h("code", { class: "secret", text: current }),
      copyButton(current, t("dashboard.copy_password"))),
    h("p", { class: "muted small", text: stamp(view.ingest_password) }),
    h("div", { class: "field", dataset: { field: "ingest_password" } },
      h("label", { for: id, text: t("settings.password_new") }), input,
      h("p", { class: "help", id: `${id}-help`, text: t("settings.password_new_help") }),
      h("p", { class: "field-error", id: `${id}-error`, hidden: true })),
    h("div", { class: "actions" }, h("button", { type: "submit", text: t("settings.password_change") })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      input.setCustomValidity(t("settings.password_empty"));
      input.reportValidity();
      input.setCustomValidity("");
      return;
    }
    if (value === current) {
      notify(t("settings.nothing_changed"), "info");
      return;
    }
    if (!window.confirm(t("settings.password_confirm"))) return;
    const next = await send({ ingest_password: value }, form);
    if (next) redraw(next);
  });
  return form;
}

function keyState(state) {
  if (!state.configured) return h("span", { class: "pill warn", text: t("settings.key_missing") });
  const where = state.source === "environment" ? t("settings.key_from_env") : t("settings.key_from_settings");
  return h("span", {},
    h("span", { class: "pill ok", text: t("settings.key_set") }), " ",
    state.last4 ? h("code", { text: `…${state.last4}` }) : null, " ",
    h("span", { class: "muted small", text: state.source === "settings" ? `${where} · ${stamp(state)}` : where }));
}

function keysCard(view, titles, redraw) {
  const rows = Object.entries(view.provider_keys).map(([name, state]) => {
    const id = uid(`key-${name}`);
    const input = h("input", { id, name: `provider_keys.${name}`, type: "password", autocomplete: "off",
      maxlength: 1024, placeholder: state.configured ? t("settings.key_keep") : "",
      "aria-describedby": `${id}-state ${id}-error` });
    const remove = state.source === "settings"
      ? h("button", { type: "button", class: "danger", text: t("settings.key_remove"),
        "aria-label": t("settings.key_remove_named", { provider: titles[name] || name }),
        onclick: async () => {
          if (!window.confirm(t("settings.key_remove_confirm", { provider: titles[name] || name }))) return;
          const next = await send({ provider_keys: { [name]: null } }, form);
          if (next) redraw(next);
        } })
      : null;
    return h("div", { class: "field key-row", dataset: { field: `provider_keys.${name}`, provider: name } },
      h("label", { for: id, text: titles[name] || name }),
      h("p", { class: "key-state", id: `${id}-state` }, keyState(state)),
      input,
      h("p", { class: "field-error", id: `${id}-error`, hidden: true }),
      remove ? h("div", { class: "actions" }, remove) : null);
  });
  const form = h("form", { class: "card", "aria-labelledby": "keys-heading" },
    h("h2", { id: "keys-heading", text: t("settings.keys") }),
    h("p", { class: "help", text: t("settings.keys_help") }),
    rows.length ? rows : h("p", { class: "muted", text: t("settings.keys_none") }),
    rows.length ? h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: t("settings.keys_save") })) : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const keys = {};
    for (const name of Object.keys(view.provider_keys)) {
      const value = form.elements[`provider_keys.${name}`].value.trim();
      if (value) keys[name] = value; // empty means "keep", never "erase"
    }
    if (!Object.keys(keys).length) {
      notify(t("settings.keys_nothing"), "info");
      return;
    }
    const next = await send({ provider_keys: keys }, form);
    if (next) redraw(next);
  });
  return form;
}

startPage(async (main) => {
  const [view, providers] = await Promise.all([api("/api/settings"), api("/api/providers")]);
  const titles = Object.fromEntries(providers.providers.map((item) => [item.name, titleOf(item)]));
  const body = h("div", { class: "grid-2 settings" });
  const wide = h("div");
  main.append(pageHeading(t("settings.heading")), body, wide);
  const redraw = (next) => {
    fill(body,
      h("div", { class: "stack" }, limitsCard(next, redraw), passwordCard(next, redraw)),
      h("div", { class: "stack" }, keysCard(next, titles, redraw)));
    fill(wide, pricesCard(next, { send, redraw, stamp }));
  };
  redraw(view);
  // The slot page links to the price table; it exists only now.
  if (location.hash === "#prices") document.getElementById("prices")?.scrollIntoView();
}, { title: "settings.title" });
