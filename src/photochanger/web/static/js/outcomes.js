// How a job's outcome reads on the statistics and job-log pages: its status as
// a pill, its failure reason in words, its duration.

import { h } from "./dom.js";
import { formatDateTime, formatTime, has, lang, t } from "./i18n.js";

export const STATUS_KEYS = {
  done: "status.done", failed: "status.failed", timeout: "status.timeout", pending: "status.pending",
};

export function statusPill(status) {
  return h("span", { class: `pill ${status}`, text: t(STATUS_KEYS[status] || "status.unknown") });
}

/** Our failure reasons (`provider_error`…) in the catalog's words; anything
 * else (a provider's own `NO_IMAGE`, `moderation_blocked`) as it came. */
export function reasonText(reason) {
  if (!reason) return "—";
  const key = `error.${reason}`;
  return has(key) ? t(key) : reason;
}

/** The reason in words, with its code beside it for a search in the logs. */
export function reasonCell(reason) {
  if (!reason) return h("span", { class: "muted", text: "—" });
  const words = reasonText(reason);
  if (words === reason) return h("code", { text: reason });
  return h("span", { class: "reason" }, words, " ", h("code", { class: "muted", text: reason }));
}

const locale = lang === "ru" ? "ru-RU" : "en-GB";
const unit = (name, digits) =>
  new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "short", maximumFractionDigits: digits });
const MS = unit("millisecond", 0);
const SECONDS = unit("second", 1);
const MINUTES = unit("minute", 1);

/** 850 ms, 12.4 s, 2.5 min. */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return MS.format(ms);
  if (ms < 120_000) return SECONDS.format(ms / 1000);
  return MINUTES.format(ms / 60_000);
}

/** Today's times as a time of day, older ones with their date. */
export function formatWhen(iso) {
  if (!iso) return "—";
  return new Date(iso).toDateString() === new Date().toDateString() ? formatTime(iso) : formatDateTime(iso);
}

export function jobHref(jobId) {
  return `/jobs?job=${encodeURIComponent(jobId)}`;
}

/** A wide table that scrolls inside itself on a phone: a named region that a
 * keyboard can focus and scroll. */
export function scrollTable(label, table) {
  return h("div", { class: "table-wrap", role: "region", "aria-label": label, tabindex: "0" }, table);
}
