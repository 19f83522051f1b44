// How a job's outcome reads on the dashboard, statistics and job-log pages: its
// outcome as a pill (a degraded answer — the guest's own photo after the
// provider failed — is its own outcome, never a success), its failure or
// degraded reason in words, its duration and its estimated cost.

import { h } from "./dom.js";
import { formatDateTime, formatTime, has, lang, t } from "./i18n.js";

/** The job log's outcomes (`GET /api/jobs?outcome=`), in the order they are offered. */
export const OUTCOME_KEYS = {
  success: "status.done", degraded: "status.degraded", failed: "status.failed",
  timeout: "status.timeout", pending: "status.pending",
};
// `degraded-outcome`, not `degraded`: the slot page's test result box has that class.
const PILL_CLASS = {
  success: "done", degraded: "degraded-outcome", failed: "failed", timeout: "timeout", pending: "pending",
};

/** A job's outcome: the API's `outcome`, else worked out from its status. */
export function outcomeOf(job) {
  if (job.outcome) return job.outcome;
  if (job.status === "done") return job.degraded_reason ? "degraded" : "success";
  return job.status;
}

/** A pill for an outcome, or a status (`done` reads as a success). */
export function statusPill(value) {
  const outcome = value === "done" ? "success" : value;
  return h("span", {
    class: `pill ${PILL_CLASS[outcome] || ""}`.trim(),
    text: t(OUTCOME_KEYS[outcome] || "status.unknown"),
  });
}

// A degraded answer's own reasons; the others are a §3.2 code, alone or with
// the provider's own reason after a colon (`provider_error:IMAGE_SAFETY`).
const DEGRADED_KEYS = { budget: "degraded.budget", timeout: "degraded.timeout" };

/** Our failure and degraded reasons (`provider_error`, `budget`…) in the
 * catalog's words; anything else (a provider's own `NO_IMAGE`) as it came. */
export function reasonText(reason) {
  if (!reason) return "—";
  if (DEGRADED_KEYS[reason]) return t(DEGRADED_KEYS[reason]);
  const [code, own] = splitReason(reason);
  const key = `error.${code}`;
  if (!has(key)) return reason;
  return own ? `${t(key)} (${own})` : t(key);
}

function splitReason(reason) {
  const colon = reason.indexOf(":");
  return colon < 0 ? [reason, ""] : [reason.slice(0, colon), reason.slice(colon + 1)];
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

const MONEY = new Map();

/** An estimated cost in the price table's currency: $0.0686 for a photo's
 * cents, $12.40 for a day's; "—" when it is not known (an unpriced model). */
export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  const small = amount !== 0 && Math.abs(amount) < 1;
  const key = `${currency}|${small}`;
  if (!MONEY.has(key)) {
    let format;
    try {
      format = new Intl.NumberFormat(locale, {
        style: "currency", currency: currency || "USD", currencyDisplay: "narrowSymbol",
        minimumFractionDigits: 2, maximumFractionDigits: small ? 4 : 2,
      });
    } catch {
      const plain = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: small ? 4 : 2 });
      format = { format: (value) => `${plain.format(value)} ${currency}` };
    }
    MONEY.set(key, format);
  }
  return MONEY.get(key).format(amount);
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
