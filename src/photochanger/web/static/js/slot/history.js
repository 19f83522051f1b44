// The slot's recent results (with download) and its change history.

import { fill, h } from "../dom.js";
import { formatDateTime, t } from "../i18n.js";

export function recentResults(results) {
  if (!results.length) return h("p", { class: "muted", text: t("slot.results_empty") });
  return h("ul", { class: "thumbs" }, results.map((item) =>
    h("li", {},
      h("a", { href: item.public_url, download: "", title: t("common.download") },
        h("img", { src: item.preview_url, loading: "lazy", alt: t("slot.results_alt", { time: formatDateTime(item.started_at) }) })),
      h("span", { class: "small muted", text: formatDateTime(item.started_at) }),
      item.source === "ui_test" ? h("span", { class: "pill", text: t("slot.results_test") }) : null)));
}

function describe(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The fields an audit entry changed, as "field: before → after" lines. */
function changedFields(entry) {
  const before = entry.before && typeof entry.before === "object" ? entry.before : {};
  const after = entry.after && typeof entry.after === "object" ? entry.after : {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
  return names.map((name) => h("li", {},
    h("code", { text: name }), `: ${describe(before[name])} → ${describe(after[name])}`));
}

export function historyList(audit, container) {
  const entries = audit.entries || [];
  if (!entries.length) {
    fill(container, h("p", { class: "muted", text: t("slot.history_empty") }));
    return;
  }
  fill(container, h("ol", { class: "history" }, entries.map((entry) =>
    h("li", {},
      h("p", {}, h("strong", { text: formatDateTime(entry.at) }), " · ", entry.actor),
      h("ul", { class: "small" }, changedFields(entry))))));
}
