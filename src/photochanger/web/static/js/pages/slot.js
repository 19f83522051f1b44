// The slot page: what the booth's photos go through. General fields, the photo
// limits and the guests' privacy, the provider's settings as a form generated
// from its schema, template images, what the booth gets when that fails (a
// fallback, then `on_failure`), a daily budget, a test run with unsaved values,
// save with the version, recent results and the change history.

import { api, ApiError, errorText } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { clearMarks, markField } from "../field-errors.js";
import { t } from "../i18n.js";
import { copyButton, notify, pageHeading, startPage } from "../layout.js";
import { field } from "../slot/fields.js";
import { historyList, recentResults } from "../slot/history.js";
import { budgetField, failureChoice, photoFields } from "../slot/policy.js";
import { providerBlock } from "../slot/provider-block.js";
import { templateZones } from "../slot/templates.js";
import { testPanel } from "../slot/test-run.js";

const slotId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());

startPage(async (main) => {
  const [slot, providerList, settings] = await Promise.all([
    api(`/api/slots/${encodeURIComponent(slotId)}`),
    api("/api/providers"),
    api("/api/settings"),
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
  const photos = photoFields(slot);
  const onFailure = failureChoice(slot.on_failure, {
    margin: settings.on_failure_margin_seconds.value, window: settings.sync_response_seconds.value,
  });
  const budget = budgetField(slot.daily_budget, settings.prices.value.currency);

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
      on_failure: onFailure.value(),
      ...photos.value(),
      daily_budget: budget.value(),
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
    const basics = [name, ...photos.inputs, budget.input];
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
    h("div", { class: "copy-row" }, h("span", { class: "muted", text: `${t("slot.ingest_url")}: ` }),
      h("code", { class: "url", text: slot.ingest_url }), copy));

  const photosCard = h("section", { class: "card", "aria-labelledby": "photos-heading" },
    h("h2", { id: "photos-heading", text: t("slot.photos") }), photos.element);
  const settingsCard = h("section", { class: "card", "aria-labelledby": "settings-heading" },
    h("h2", { id: "settings-heading", text: t("slot.processing") }), primary.element);
  const templatesCard = h("section", { class: "card", "aria-labelledby": "templates-heading" },
    h("h2", { id: "templates-heading", text: t("slot.templates") }), templates.element);
  const fallbackCard = h("section", { class: "card", "aria-labelledby": "fallback-heading" },
    h("h2", { id: "fallback-heading", text: t("slot.failure") }),
    h("div", { class: "check" }, useFallback, h("label", { for: useFallback.id, text: t("slot.use_fallback") })),
    h("p", { class: "help", text: t("slot.fallback_help") }),
    fallbackBox,
    onFailure.element);
  const budgetCard = h("section", { class: "card", "aria-labelledby": "budget-heading" },
    h("h2", { id: "budget-heading", text: t("slot.spend") }), budget.element);
  const test = testPanel({
    slotId,
    onDone: async () => refreshSide(await api(`/api/slots/${encodeURIComponent(slotId)}`)),
    payload: () => {
      const current = values();
      return { provider: current.provider, operation: current.operation, settings: current.settings,
        fallback: current.fallback, template_media: current.template_media,
        on_failure: current.on_failure, max_input_megapixels: current.max_input_megapixels,
        keep_metadata: current.keep_metadata };
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
  const cards = h("div", { class: "stack" }, general, photosCard, settingsCard, templatesCard,
    fallbackCard, budgetCard);
  cards.addEventListener("input", markDirty);
  cards.addEventListener("change", markDirty);
  main.append(heading, formError, h("div", { class: "slot-layout" }, cards, side));
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
