// One job's record in a dialog (the job log's `?job=<id>`): what happened (a
// degraded answer explained), when, through which provider, every provider
// attempt with the provider's own reason as it came, what each call used and
// cost, the photo received beside what was sent, and the result while it is kept.

import { api, errorText } from "./api.js";
import { fill, h, uid } from "./dom.js";
import { formatBytes, formatDateTime, formatNumber, formatPercent, t } from "./i18n.js";
import {
  formatDuration, formatMoney, outcomeOf, reasonCell, scrollTable, statusPill,
} from "./outcomes.js";

export const SOURCE_KEYS = { ingest: "jobs.source_ingest", ui_test: "jobs.source_ui_test" };
const OUTCOME_KEYS = {
  ok: "jobs.attempt_ok", transient: "jobs.attempt_transient", permanent: "jobs.attempt_permanent",
  timeout: "jobs.attempt_timeout", not_configured: "jobs.attempt_not_configured", crash: "jobs.attempt_crash",
  skipped: "jobs.attempt_skipped",
};
const ATTEMPT_PILL = { ok: "pill done", skipped: "pill off" };
const ROLE_KEYS = { primary: "jobs.role_primary", fallback: "jobs.role_fallback" };
const USAGE_KEYS = [
  ["input_text_tokens", "jobs.usage_input_text"], ["input_image_tokens", "jobs.usage_input_image"],
  ["output_text_tokens", "jobs.usage_output_text"], ["output_image_tokens", "jobs.usage_output_image"],
  ["images", "jobs.usage_images"],
];
/** `produced_by` of an answer that is the guest's own photo. */
const ORIGINAL = "original";
const micros = (value) => (value === null || value === undefined ? null : value / 1_000_000);

const words = (keys, value) => (keys[value] ? t(keys[value]) : value || "—");

function time(iso) {
  return iso ? h("time", { datetime: iso, text: formatDateTime(iso) }) : "—";
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([key, value]) =>
    h("div", {}, h("dt", { text: t(key) }), h("dd", {}, value))));
}

function part(titleKey, ...children) {
  return h("section", { class: "job-part" }, h("h3", { text: t(titleKey) }), children);
}

/** A same-site path for a link the server built with its public base URL, so
 * the preview loads under the page's `img-src 'self'` whatever that URL is. */
function localPath(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

function attemptsTable(attempts) {
  if (!attempts.length) return h("p", { class: "empty", text: t("jobs.no_attempts") });
  const head = ["jobs.col_number", "jobs.col_provider", "jobs.col_role", "jobs.col_after", "jobs.col_duration",
    "jobs.col_outcome", "jobs.col_reason", "jobs.col_message"];
  return scrollTable(t("jobs.attempts"), h("table", { class: "data wrap-head" },
    h("thead", {}, h("tr", {}, head.map((key) => h("th", { scope: "col", text: t(key) })))),
    h("tbody", {}, attempts.map((attempt, index) => h("tr", {},
      h("td", { class: "num", text: formatNumber(index + 1) }),
      h("td", {}, h("code", { text: attempt.provider }), " ", h("span", { class: "muted", text: attempt.operation })),
      h("td", { text: words(ROLE_KEYS, attempt.role) }),
      h("td", { class: "num", text: formatDuration(attempt.started_ms) }),
      h("td", { class: "num", text: formatDuration(attempt.duration_ms) }),
      h("td", {}, h("span", { class: ATTEMPT_PILL[attempt.outcome] || "pill failed",
        text: words(OUTCOME_KEYS, attempt.outcome) })),
      // The provider's own reason (NO_IMAGE, moderation_blocked) as it came.
      h("td", {}, attempt.reason ? h("code", { text: attempt.reason }) : "—"),
      h("td", { class: "message", text: attempt.error || "—" }))))));
}

/** What each call that reported its usage was billed for, and its cost (the
 * attempts' table stays narrow enough for the provider's message). */
function usagePart(attempts, currency) {
  const used = attempts.map((attempt, index) => [attempt, index]).filter(([attempt]) => attempt.usage);
  if (!used.length) return null;
  return part("jobs.usage", h("ul", { class: "usage-list" }, used.map(([attempt, index]) => {
    const usage = attempt.usage;
    const reported = usage.reported && Object.keys(usage.reported).length ? usage.reported : null;
    return h("li", {},
      h("p", { class: "usage-head" }, h("span", { class: "muted", text: `#${formatNumber(index + 1)}` }), " ",
        h("code", { text: attempt.provider }), " · ", h("code", { text: usage.model || "—" }), " · ",
        h("strong", { text: formatMoney(micros(attempt.cost_micros), currency) })),
      facts(USAGE_KEYS.filter(([field]) => usage[field]).map(([field, key]) => [key, formatNumber(usage[field])])),
      reported ? h("details", { class: "reported" }, h("summary", { text: t("jobs.usage_reported") }),
        h("pre", { text: JSON.stringify(reported, null, 2) })) : null);
  })));
}

/** The photo as sent to the remote provider (scaled down, cleaned), beside the one received. */
function sentText(job) {
  if (job.sent_size === null || job.sent_size === undefined) return t("jobs.sent_none");
  const size = job.sent_width && job.sent_height
    ? `${formatNumber(job.sent_width)} × ${formatNumber(job.sent_height)} px · ` : "";
  const share = job.input_size ? t("jobs.sent_share", { percent: formatPercent(job.sent_size / job.input_size) }) : "";
  return `${size}${formatBytes(job.sent_size)}${share ? ` (${share})` : ""}`;
}

/** Why the job failed, or why it was answered with the guest's own photo. */
function problemPart(job) {
  const degraded = outcomeOf(job) === "degraded";
  const reason = degraded ? job.degraded_reason : job.failure_reason;
  if (!reason && !job.failure_details) return null;
  return part(degraded ? "jobs.degraded" : "jobs.failure",
    degraded ? h("p", { class: "degraded-note", text: t("jobs.degraded_help") }) : null,
    facts([
      reason && ["jobs.reason", reasonCell(reason)],
      degraded && job.failure_reason && job.failure_reason !== reason && ["jobs.reason", reasonCell(job.failure_reason)],
      job.failure_details && ["jobs.details", h("span", { class: "message", text: job.failure_details })],
    ]));
}

function producedBy(job) {
  if (job.produced_by === ORIGINAL) return h("span", { class: "degraded-text", text: t("jobs.produced_original") });
  return h("code", { text: job.produced_by });
}

function resultPart(job) {
  if (job.status !== "done") return null;
  if (!job.preview_url) return part("jobs.result", h("p", { class: "muted", text: t("jobs.result_gone") }));
  return part("jobs.result",
    h("a", { class: "result-preview", href: job.public_result_url, target: "_blank", rel: "noopener" },
      h("img", { src: localPath(job.preview_url), loading: "lazy", width: 320,
        alt: t(job.produced_by === ORIGINAL ? "jobs.result_original_alt" : "jobs.result_alt") })),
    facts([
      ["jobs.result_type", `${job.result_mime || "—"} · ${formatBytes(job.result_size)}`],
      ["jobs.result_expires", job.result_expires_at ? time(job.result_expires_at) : t("jobs.result_kept")],
    ]),
    h("p", {}, h("a", { class: "button", href: job.public_result_url, target: "_blank", rel: "noopener",
      text: t("jobs.open_result") })));
}

function detail(job, names, currency) {
  const produced = job.produced_by && job.produced_by !== job.provider;
  const metadata = Object.entries(job.booth_metadata || {});
  const attempts = job.attempts || [];
  return [
    h("div", { class: "job-head" }, statusPill(outcomeOf(job)), h("code", { class: "muted", text: job.id })),
    problemPart(job),
    resultPart(job),
    part("jobs.summary", facts([
      ["jobs.slot", h("span", {}, h("a", { href: `/slots/${encodeURIComponent(job.slot_id)}`,
        text: names.get(job.slot_id) || job.slot_id }), " ", h("span", { class: "muted", text: job.slot_id }))],
      ["jobs.source", words(SOURCE_KEYS, job.source)],
      ["jobs.provider", h("span", {}, h("code", { text: job.provider }), " · ", job.operation)],
      produced && ["jobs.produced_by", producedBy(job)],
      ["jobs.cost", formatMoney(job.cost, currency)],
      ["jobs.started", time(job.started_at)],
      ["jobs.finished", time(job.finished_at)],
      ["jobs.duration", formatDuration(job.duration_ms)],
      ["jobs.deadline", time(job.deadline_at)],
      job.slot_version !== null && ["jobs.slot_version", formatNumber(job.slot_version)],
    ])),
    part("jobs.attempts", attemptsTable(attempts)),
    usagePart(attempts, currency),
    part("jobs.input", facts([
      ["jobs.input_type", `${job.input_mime} · ${formatBytes(job.input_size)}`],
      ["jobs.sent", sentText(job)],
      ["jobs.sha256", h("code", { class: "hash", text: job.input_sha256 })],
      job.client_hash && ["jobs.client_hash", h("span", {}, h("code", { class: "hash", text: job.client_hash }),
        job.client_hash_mismatch ? h("span", { class: "pill warn", text: t("jobs.hash_mismatch") }) : null)],
    ])),
    metadata.length ? part("jobs.booth", h("dl", { class: "facts" }, metadata.map(([key, value]) =>
      h("div", {}, h("dt", {}, h("code", { text: key })), h("dd", { text: value }))))) : null,
  ];
}

/**
 * The dialog, made once per page; `names` maps slot ids to their names,
 * `currency` is the price table's. `open(jobId)` shows the job (loading it);
 * `onClose` hears when the admin closes it.
 */
export function jobDialog(names, currency, onClose) {
  const titleId = uid("job");
  const body = h("div", { class: "job-body" });
  const dialog = h("dialog", { class: "job-dialog", "aria-labelledby": titleId },
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId, text: t("jobs.detail_title") }),
      h("button", { type: "button", class: "icon", "aria-label": t("jobs.close"), text: "×",
        onclick: () => dialog.close() })),
    body);
  dialog.addEventListener("close", () => onClose?.());
  // A click on the backdrop (outside the box) closes it, as Escape does.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  let current = null;
  return {
    async open(jobId) {
      current = jobId;
      fill(body, h("p", { class: "muted", text: t("common.loading") }));
      if (!dialog.open) dialog.showModal();
      try {
        const job = await api(`/api/jobs/${encodeURIComponent(jobId)}`);
        if (current === jobId) fill(body, detail(job, names, currency));
      } catch (error) {
        if (current === jobId) fill(body, h("p", { class: "form-error", role: "alert", text: errorText(error) }));
      }
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
