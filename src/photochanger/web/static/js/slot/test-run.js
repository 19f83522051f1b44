// "Test" on the slot page: a photo through the very pipeline a booth's photo
// takes, with the form's unsaved values; the elapsed seconds while it runs, then
// the result beside the original with its duration, or the reason in words. An
// answer that is not the provider's edit (the guest's original, or a free
// fallback's when the budget is spent) says so and why, never as a plain success.

import { api, errorText } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { reasonText } from "../outcomes.js";
import { degradedNotice } from "./policy.js";

const ACCEPT = "image/jpeg,image/png,image/webp";

/** testPanel({slotId, payload}) where payload() gives the unsaved slot values. */
export function testPanel({ slotId, payload, onDone }) {
  const inputId = uid("test-photo");
  const input = h("input", { type: "file", id: inputId, accept: ACCEPT });
  const run = h("button", { type: "button", class: "primary", text: t("slot.test_run"), disabled: true });
  const progress = h("p", { class: "progress", role: "status", "aria-live": "polite", hidden: true });
  const original = h("figure", { class: "test-image" });
  const result = h("figure", { class: "test-image" });
  const outcome = h("div", { class: "test-outcome" });
  let file = null;
  let originalUrl = null;

  function showOriginal() {
    if (originalUrl) URL.revokeObjectURL(originalUrl);
    originalUrl = URL.createObjectURL(file);
    fill(original, h("img", { src: originalUrl, alt: t("slot.test_original_alt") }),
      h("figcaption", { text: t("slot.test_original") }));
    fill(result);
    fill(outcome);
  }

  input.addEventListener("change", () => {
    file = input.files?.[0] || null;
    run.disabled = !file;
    if (file) showOriginal();
  });

  run.addEventListener("click", async () => {
    if (!file) return;
    const started = performance.now();
    run.disabled = true;
    progress.hidden = false;
    const tick = () => {
      progress.textContent = t("slot.test_running", {
        seconds: formatNumber((performance.now() - started) / 1000, 0),
      });
    };
    tick();
    const timer = setInterval(tick, 250);
    fill(result, h("div", { class: "spinner", "aria-hidden": "true" }));
    fill(outcome);
    const form = new FormData();
    form.append("test_image", file, file.name);
    const sent = payload();
    form.append("slot_payload", JSON.stringify(sent));
    try {
      const answer = await api(`/api/slots/${encodeURIComponent(slotId)}/test-run`, {
        method: "POST", form,
      });
      fill(result,
        h("a", { href: answer.public_result_url, download: "" },
          h("img", { src: answer.public_result_url, alt: t("slot.test_result_alt") })),
        h("figcaption", { text: t(answer.produced_by === "original" ? "slot.test_result_original"
          : "slot.test_result") }));
      const download = h("a", { href: answer.public_result_url, class: "button", download: "",
        text: t("common.download") });
      if (answer.degraded_reason) {
        fill(outcome, degradedNotice(answer, reasonText), download);
      } else {
        const byFallback = answer.produced_by && answer.produced_by !== sent.provider
          && answer.produced_by === sent.fallback?.provider;
        fill(outcome, h("p", { class: "ok-text", text: t("slot.test_done", {
          seconds: formatNumber(answer.completed_in_seconds, 1),
        }) }), byFallback ? h("p", { class: "muted", text: t("slot.test_by_fallback", {
          provider: answer.produced_by }) }) : null, download);
      }
      onDone?.();
    } catch (error) {
      fill(result);
      fill(outcome, h("p", { class: "form-error", role: "alert" }, errorText(error),
        error.details && error.reason !== "internal_error" ? h("span", { class: "details", text: ` (${error.details})` }) : null));
      if (error.fields?.length) outcome.append(h("ul", { class: "small" },
        error.fields.map((item) => h("li", { text: `${item.field}: ${item.message}` }))));
    } finally {
      clearInterval(timer);
      progress.hidden = true;
      run.disabled = false;
    }
  });

  const element = h("section", { class: "card", "aria-labelledby": "test-heading" },
    h("h2", { id: "test-heading", text: t("slot.test_heading") }),
    h("p", { class: "help", text: t("slot.test_help") }),
    h("div", { class: "field" }, h("label", { for: inputId, text: t("slot.test_photo") }), input),
    h("div", { class: "actions" }, run),
    progress,
    h("div", { class: "side-by-side" }, original, result),
    outcome);
  return { element };
}
