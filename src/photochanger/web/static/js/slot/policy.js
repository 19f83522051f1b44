// The slot's rules beyond its provider (SPEC §10): what the booth gets when no
// edit can be made (`on_failure`), how large a photo a remote provider gets
// (`max_input_megapixels`), whether results keep the guest's metadata
// (`keep_metadata`) and the most the slot may spend a day (`daily_budget`).

import { h, uid } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { field, switchField } from "./fields.js";

const DEGRADED_HEADER = "X-PhotoChanger-Degraded";

/** A text whose `placeholder` shows as `code`, in a <code> element. */
function withCode(text, placeholder, code) {
  const [before, ...after] = text.split(placeholder);
  return after.length ? [before, h("code", { text: code }), after.join(placeholder)] : [text];
}

/** `on_failure` as two radio buttons, each with what the booth then gets.
 * `timing` is {margin, window} in seconds from the settings. */
export function failureChoice(value, timing) {
  const helpId = uid("on-failure-help");
  const errorId = `${helpId}-error`;
  const radios = [];
  const option = (choice, label, ...help) => {
    const id = uid(`on-failure-${choice}`);
    const descId = `${id}-desc`;
    const radio = h("input", { type: "radio", name: "on_failure", value: choice, id,
      checked: value === choice, "aria-describedby": descId });
    radios.push(radio);
    return h("div", { class: "radio-choice" }, radio,
      h("div", {}, h("label", { for: id, text: label }), h("p", { class: "help", id: descId }, help)));
  };
  const settingsLink = h("a", { href: "/settings", text: t("slot.on_failure_settings") });
  const element = h("fieldset", { class: "choices radio-choices", dataset: { field: "on_failure" },
    "aria-describedby": `${helpId} ${errorId}` },
  h("legend", { text: t("slot.on_failure") }),
  h("p", { class: "help", id: helpId, text: t("slot.on_failure_help") }),
  option("error", t("slot.on_failure_error"), t("slot.on_failure_error_help")),
  option("original", t("slot.on_failure_original"),
    withCode(t("slot.on_failure_original_help"), "{header}", DEGRADED_HEADER), " ",
    t("slot.on_failure_margin", { margin: timing.margin, window: timing.window }), " ", settingsLink),
  h("p", { class: "field-error", id: errorId, hidden: true }));
  return {
    element,
    value: () => radios.find((radio) => radio.checked)?.value || "error",
  };
}

/** The photo limits and the guests' privacy switch. */
export function photoFields(slot) {
  const sizeLimit = h("input", { name: "size_limit_mb", type: "number", min: 1, max: 20, step: 1,
    required: true, inputmode: "numeric", value: slot.size_limit_mb });
  const megapixels = h("input", { name: "max_input_megapixels", type: "number", min: 0.1, max: 100,
    step: 0.1, required: true, inputmode: "decimal", value: slot.max_input_megapixels });
  const keepMetadata = h("input", { name: "keep_metadata", type: "checkbox", role: "switch",
    class: "toggle", checked: slot.keep_metadata });
  const element = h("div", {},
    h("div", { class: "grid-2" },
      field(t("slot.size_limit"), sizeLimit, t("slot.size_limit_help")),
      field(t("slot.megapixels"), megapixels, t("slot.megapixels_help"))),
    switchField(t("slot.keep_metadata"), keepMetadata, t("slot.keep_metadata_help")));
  return {
    element,
    inputs: [sizeLimit, megapixels],
    value: () => ({
      size_limit_mb: Number(sizeLimit.value),
      max_input_megapixels: Number(megapixels.value),
      keep_metadata: keepMetadata.checked,
    }),
  };
}

/** `daily_budget` in the price table's currency; empty is no budget. */
export function budgetField(value, currency) {
  const input = h("input", { name: "daily_budget", type: "number", min: 0, max: 1_000_000,
    step: "any", inputmode: "decimal", placeholder: t("slot.budget_none"),
    value: value === null || value === undefined ? "" : String(value) });
  const element = field(t("slot.budget", { currency }), input, [
    t("slot.budget_help"), " ",
    h("a", { href: "/settings#prices", text: t("slot.budget_prices") }),
  ]);
  return {
    element,
    input,
    value: () => (input.value.trim() === "" ? null : Number(input.value)),
  };
}

/** A reason such as `provider_error:IMAGE_SAFETY` in words (its first part), or null. */
export function degradedWords(reason, wordsOf) {
  const base = reason.split(":")[0];
  if (base === "timeout") return t("slot.degraded_timeout");
  if (base === "budget") return t("slot.degraded_budget");
  const words = wordsOf(base);
  return words === base ? null : words;
}

/** The test run's notice for an answer that is not the provider's edit. */
export function degradedNotice(answer, wordsOf) {
  const reason = answer.degraded_reason;
  const original = answer.produced_by === "original";
  const words = degradedWords(reason, wordsOf);
  return h("div", { class: "degraded", role: "status" },
    h("p", { class: "degraded-title" }, original
      ? t("slot.test_degraded_original")
      : t("slot.test_degraded_fallback", { provider: answer.produced_by || "—" })),
    h("p", {}, `${t("slot.test_degraded_reason")} `, words ? `${words} ` : null, h("code", { text: reason })),
    h("p", { class: "small" }, withCode(t("slot.test_degraded_booth", {
      seconds: formatNumber(answer.completed_in_seconds, 1),
    }), "{header}", `${DEGRADED_HEADER}: ${reason}`)));
}
