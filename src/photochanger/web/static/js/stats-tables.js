// The statistics page's tables: per slot, failures (and degraded answers) by
// provider and reason, the last failures. Every number is text; the failures' bars are inline SVG
// drawn with DOM calls, beside the count they show.

import { api, errorText } from "./api.js";
import { h } from "./dom.js";
import { formatAgo, formatDateTime, formatNumber, formatPercent, t } from "./i18n.js";
import {
  formatDuration, formatMoney, formatWhen, jobHref, reasonCell, scrollTable, statusPill,
} from "./outcomes.js";

const LAST_FAILURES = 10;

export const empty = (key) => h("p", { class: "empty", text: t(key) });
export const failedToLoad = (error) => h("p", { class: "form-error", role: "alert", text: errorText(error) });

export function table(label, headers, rows, className = "") {
  return scrollTable(label, h("table", { class: `data ${className}`.trim() },
    h("thead", {}, h("tr", {}, headers.map(([key, numeric]) =>
      h("th", { scope: "col", class: numeric ? "num" : null, text: t(key) })))),
    h("tbody", {}, rows)));
}

export const num = (value) => h("td", { class: "num", text: formatNumber(value) });

export function slotLink(slotId, names) {
  return h("a", { href: `/slots/${encodeURIComponent(slotId)}`, text: names.get(slotId) || slotId });
}

export const OUTCOME_COLUMNS = [
  ["successes", "stats.col_done", "done"],
  ["degraded", "stats.col_degraded", "degraded-outcome"],
  ["timeouts", "stats.col_timeouts", "timeout"],
  ["provider_errors", "stats.col_provider_errors", "provider"],
  ["other_failures", "stats.col_other", "other"],
  ["pending", "stats.col_pending", "pending"],
];

export function slotTable(slotsStats, view, names, currency) {
  const rows = slotsStats.slots.filter((slot) => !view.slot || slot.slot_id === view.slot);
  if (!rows.length) return empty("stats.empty_slots");
  const counted = OUTCOME_COLUMNS.slice(0, 5);
  return table(t("stats.per_slot"), [["stats.col_slot"], ["stats.col_jobs", true], ...counted.map(([, key]) => [key, true]),
    ["stats.col_success_rate", true], ["stats.col_degraded_rate", true], ["stats.col_timeout_rate", true],
    ["stats.col_cost", true]],
  rows.map((slot) => h("tr", { dataset: { slot: slot.slot_id } },
    h("th", { scope: "row", class: "slot-cell" }, slotLink(slot.slot_id, names)),
    num(slot.jobs), counted.map(([field]) => num(slot[field] ?? 0)),
    h("td", { class: "num", text: formatPercent(slot.success_rate) }),
    h("td", { class: slot.degraded_rate ? "num degraded-text" : "num", text: formatPercent(slot.degraded_rate ?? 0) }),
    h("td", { class: slot.timeout_rate ? "num bad-text" : "num", text: formatPercent(slot.timeout_rate) }),
    h("td", { class: "num", text: formatMoney(slot.cost ?? null, currency) }))), "wrap-head");
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** A bar of `value` out of `max`, drawn; the number beside it is the text. */
function meter(value, max, kind) {
  const picture = svg("svg", { class: "meter", viewBox: "0 0 100 8", preserveAspectRatio: "none",
    "aria-hidden": "true", focusable: "false" });
  picture.append(svg("rect", { class: "meter-track", x: 0, y: 0, width: 100, height: 8, rx: 2 }),
    svg("rect", { class: `meter-bar ${kind}`, x: 0, y: 0, width: Math.max(2, (100 * value) / max), height: 8, rx: 2 }));
  return picture;
}

export function failureTable(breakdown, view, names) {
  const rows = breakdown.failures.filter((group) => !view.slot || group.slot_id === view.slot)
    .sort((a, b) => b.jobs - a.jobs || b.last_started_at.localeCompare(a.last_started_at));
  if (!rows.length) return empty("stats.empty_failures");
  const most = Math.max(...rows.map((group) => group.jobs));
  // By provider and reason first: on a phone that is what shows before scrolling.
  return table(t("stats.failures"), [["stats.col_provider"], ["stats.col_reason"], ["stats.col_jobs", true],
    ["stats.col_outcome"], ["stats.col_slot"], ["stats.col_last"]],
  rows.map((group) => h("tr", { dataset: { slot: group.slot_id } },
    h("td", { class: "provider" }, h("code", { text: group.provider })),
    h("td", { class: "reason-cell" }, reasonCell(group.failure_reason)),
    h("td", { class: "num meter-cell" }, h("span", { text: formatNumber(group.jobs) }),
      meter(group.jobs, most, group.status === "degraded" ? "degraded-outcome" : group.status)),
    h("td", {}, statusPill(group.status)),
    h("td", { class: "slot-cell" }, slotLink(group.slot_id, names)),
    h("td", { class: "when" }, h("time", { datetime: group.last_started_at, title: formatDateTime(group.last_started_at),
      text: formatAgo(group.last_started_at) })))));
}

export async function lastFailures(view, since) {
  const query = (status) => {
    const params = new URLSearchParams({ status, from: since, limit: String(LAST_FAILURES) });
    if (view.slot) params.set("slot_id", view.slot);
    if (view.source !== "all") params.set("source", view.source);
    return api(`/api/jobs?${params}`);
  };
  // The job log filters one status at a time: the newest of both, merged.
  const [failed, timedOut] = await Promise.all([query("failed"), query("timeout")]);
  return [...failed.jobs, ...timedOut.jobs]
    .sort((a, b) => b.started_at.localeCompare(a.started_at) || b.id.localeCompare(a.id))
    .slice(0, LAST_FAILURES);
}

export function lastFailuresTable(jobs, view, names) {
  const params = new URLSearchParams({ outcome: "failed", range: view.window.range });
  if (view.slot) params.set("slot", view.slot);
  if (view.source !== "all") params.set("source", view.source);
  const more = h("p", {}, h("a", { href: `/jobs?${params}`, text: t("stats.all_in_log") }));
  if (!jobs.length) return [empty("stats.empty_last_failures"), more];
  return [table(t("stats.last_failures"), [["stats.col_started"], ["stats.col_outcome"], ["stats.col_reason"],
    ["stats.col_slot"], ["stats.col_provider"], ["stats.col_duration", true]],
  jobs.map((job) => h("tr", { dataset: { job: job.id } },
    h("td", { class: "when" }, h("a", { href: jobHref(job.id), title: formatDateTime(job.started_at),
      "aria-label": t("stats.job_details", { time: formatDateTime(job.started_at) }),
      text: formatWhen(job.started_at) })),
    h("td", {}, statusPill(job.status)),
    h("td", { class: "reason-cell" }, reasonCell(job.failure_reason)),
    h("td", { class: "slot-cell" }, slotLink(job.slot_id, names)),
    h("td", { class: "provider" }, h("code", { text: job.produced_by || job.provider })),
    h("td", { class: "num", text: formatDuration(job.duration_ms) })))), more];
}
