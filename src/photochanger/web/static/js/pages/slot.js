// The slot page: what the booth's photos go through. General fields, the
// provider's settings as a form generated from its schema, a fallback, template
// images, a test run with unsaved values, save with the version, recent results
// and the change history.

import { api, ApiError, errorText } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { clearMarks, markField } from "../field-errors.js";
import { t, titleOf } from "../i18n.js";
import { copyButton, notify, pageHeading, startPage } from "../layout.js";
import { schemaForm } from "../schema-form.js";
import { historyList, recentResults } from "../slot/history.js";
import { templateZones } from "../slot/templates.js";
import { testPanel } from "../slot/test-run.js";

const slotId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());

function field(label, input, help) {
  const id = input.id || uid("slot");
  input.id = id;
  const helpNode = help ? h("p", { class: "help", id: `${id}-help`, text: help }) : null;
  if (helpNode) input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
  else input.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field", dataset: { field: input.name } },
    h("label", { for: id, text: label }), input, helpNode,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function select(name, options, value) {
  const element = h("select", { name });
  for (const [optionValue, label] of options) {
    element.append(h("option", { value: optionValue, text: label }));
  }
  element.value = value;
  return element;
}

/** Provider + operation pickers and the generated settings form under them. */
function providerBlock({ providers, provider, operation, settings, prefix, onChange, onOperation }) {
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

startPage(async (main) => {
  const [slot, providerList] = await Promise.all([
    api(`/api/slots/${encodeURIComponent(slotId)}`),
    api("/api/providers"),
  ]);
  const providers = providerList.providers;
  document.title = `${slot.name} · PhotoChanger`;
  let version = slot.version;
  let baseline = "";
  let saving = false;

  const heading = pageHeading(slot.name);
  const saveButton = h("button", { type: "button", class: "primary", text: t("slot.save") });
  const versionNote = h("span", { class: "muted small" });
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });

  const name = h("input", { name: "name", required: true, maxlength: 200, value: slot.name });
  const active = h("input", { name: "active", type: "checkbox", role: "switch", class: "toggle", checked: slot.active });
  const activeId = uid("active");
  active.id = activeId;
  const sizeLimit = h("input", { name: "size_limit_mb", type: "number", min: 1, max: 20, step: 1,
    required: true, value: slot.size_limit_mb });
  const megapixels = h("input", { name: "max_input_megapixels", type: "number", min: 0.1, max: 100,
    step: 0.1, required: true, value: slot.max_input_megapixels });
  const onFailure = select("on_failure", [["error", t("slot.on_failure_error")],
    ["original", t("slot.on_failure_original")]], slot.on_failure);

  const markDirty = () => updateDirty();
  const templates = templateZones({ slotId, current: slot.template_media, onChange: markDirty });
  const primary = providerBlock({
    providers, provider: slot.provider, operation: slot.operation, settings: slot.settings,
    prefix: "", onChange: markDirty,
    onOperation: (op) => templates.setRoles(op?.template_roles || []),
  });

  const useFallback = h("input", { type: "checkbox", id: uid("fallback"), checked: Boolean(slot.fallback) });
  const fallbackBox = h("div", { hidden: !slot.fallback });
  const fallback = providerBlock({
    providers,
    provider: slot.fallback?.provider || "local",
    operation: slot.fallback?.operation || "enhance",
    settings: slot.fallback?.settings || {},
    prefix: "fallback.",
    onChange: markDirty,
  });
  fallbackBox.append(fallback.element);
  useFallback.addEventListener("change", () => {
    fallbackBox.hidden = !useFallback.checked;
    markDirty();
  });

  function values() {
    return {
      name: name.value.trim(),
      active: active.checked,
      ...primary.value(),
      fallback: useFallback.checked ? fallback.value() : null,
      on_failure: onFailure.value,
      size_limit_mb: Number(sizeLimit.value),
      max_input_megapixels: Number(megapixels.value),
      template_media: templates.changes(),
    };
  }

  function updateDirty() {
    const dirty = JSON.stringify(values()) !== baseline;
    saveButton.classList.toggle("dirty", dirty);
    versionNote.textContent = dirty ? t("slot.unsaved", { version }) : t("slot.version", { version });
    return dirty;
  }

  function clearErrors() {
    formError.hidden = true;
    primary.form().clearErrors();
    fallback.form().clearErrors();
    clearMarks(main);
  }

  function showFieldErrors(errors) {
    let placed = primary.form().showErrors(errors, "settings.");
    placed += fallback.form().showErrors(errors, "fallback.settings.");
    const rest = [];
    for (const problem of errors) {
      const path = problem.field || "";
      if (path.startsWith("settings") || path.startsWith("fallback.settings")) continue;
      const input = markField(main, path, problem.message);
      if (input) {
        if (!placed) input.focus();
        placed += 1;
      } else {
        rest.push(`${path}: ${problem.message}`);
      }
    }
    if (rest.length) {
      formError.textContent = `${t("error.validation_error")} ${rest.join("; ")}`;
      formError.hidden = false;
    }
  }

  async function save() {
    if (saving) return;
    clearErrors();
    const basics = [name, sizeLimit, megapixels];
    if (!basics.every((input) => input.reportValidity())) return;
    if (![...main.querySelectorAll(".schema-form input, .schema-form textarea, .schema-form select")]
      .filter((input) => !input.closest("[hidden]"))
      .every((input) => input.reportValidity())) return;
    saving = true;
    saveButton.disabled = true;
    try {
      const saved = await api(`/api/slots/${encodeURIComponent(slotId)}`, {
        method: "PUT", json: { ...values(), version },
      });
      version = saved.version;
      templates.saved();
      baseline = JSON.stringify(values());
      heading.querySelector("h1").textContent = saved.name;
      document.title = `${saved.name} · PhotoChanger`;
      updateDirty();
      notify(t("slot.saved", { version }), "ok");
      refreshSide(saved);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        showFieldErrors(error.fields);
        notify(errorText(error), "error");
      } else if (error instanceof ApiError && error.status === 409) {
        const reload = h("button", { type: "button", class: "chip", text: t("slot.reload"),
          onclick: () => { baseline = JSON.stringify(values()); location.reload(); } });
        const item = notify(t("slot.conflict"), "error");
        item.querySelector("span").append(" ", reload);
      } else {
        notify(errorText(error), "error");
      }
    } finally {
      saving = false;
      saveButton.disabled = false;
    }
  }
  saveButton.addEventListener("click", save);

  const copy = copyButton(slot.ingest_url, t("dashboard.copy_url", { name: slot.name }));

  const general = h("section", { class: "card", "aria-labelledby": "general-heading" },
    h("h2", { id: "general-heading", text: t("slot.general") }),
    field(t("slot.name"), name),
    h("div", { class: "check toggle-field", dataset: { field: "active" } }, active,
      h("label", { for: activeId, text: t("slot.active") })),
    h("div", { class: "grid-2" },
      field(t("slot.size_limit"), sizeLimit, t("slot.size_limit_help")),
      field(t("slot.megapixels"), megapixels, t("slot.megapixels_help"))),
    h("div", { class: "copy-row" }, h("span", { class: "muted", text: `${t("slot.ingest_url")}: ` }),
      h("code", { class: "url", text: slot.ingest_url }), copy));

  const settingsCard = h("section", { class: "card", "aria-labelledby": "settings-heading" },
    h("h2", { id: "settings-heading", text: t("slot.processing") }), primary.element);
  const templatesCard = h("section", { class: "card", "aria-labelledby": "templates-heading" },
    h("h2", { id: "templates-heading", text: t("slot.templates") }), templates.element);
  const fallbackCard = h("section", { class: "card", "aria-labelledby": "fallback-heading" },
    h("h2", { id: "fallback-heading", text: t("slot.failure") }),
    field(t("slot.on_failure"), onFailure, t("slot.on_failure_help")),
    h("div", { class: "check" }, useFallback, h("label", { for: useFallback.id, text: t("slot.use_fallback") })),
    h("p", { class: "help", text: t("slot.fallback_help") }),
    fallbackBox);
  const test = testPanel({
    slotId,
    onDone: async () => refreshSide(await api(`/api/slots/${encodeURIComponent(slotId)}`)),
    payload: () => {
      const current = values();
      return { provider: current.provider, operation: current.operation, settings: current.settings,
        fallback: current.fallback, template_media: current.template_media };
    },
  });
  const resultsBox = h("div");
  const historyBox = h("div");
  const side = h("div", { class: "stack" },
    test.element,
    h("section", { class: "card", "aria-labelledby": "results-heading" },
      h("h2", { id: "results-heading", text: t("slot.results") }), resultsBox),
    h("section", { class: "card", "aria-labelledby": "history-heading" },
      h("h2", { id: "history-heading", text: t("slot.history") }), historyBox));

  async function refreshSide(detail) {
    fill(resultsBox, recentResults(detail.recent_results || []));
    historyList(await api(`/api/slots/${encodeURIComponent(slotId)}/audit`), historyBox);
  }

  heading.querySelector(".actions").append(versionNote, saveButton);
  main.append(heading, formError,
    h("div", { class: "slot-layout" },
      h("div", { class: "stack" }, general, settingsCard, templatesCard, fallbackCard),
      side));
  baseline = JSON.stringify(values());
  updateDirty();
  await refreshSide(slot);

  window.addEventListener("beforeunload", (event) => {
    if (updateDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}, { title: "slot.title" });
