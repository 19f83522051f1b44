// One job's record in a dialog (the job log's `?job=<id>`): what happened,
// when, through which provider, every provider attempt with the provider's own
// reason as it came, the input, and the result while it is kept.

import { api, errorText } from "./api.js";
import { fill, h, uid } from "./dom.js";
import { formatBytes, formatDateTime, formatNumber, t } from "./i18n.js";
import { formatDuration, reasonCell, scrollTable, statusPill } from "./outcomes.js";

export const SOURCE_KEYS = { ingest: "jobs.source_ingest", ui_test: "jobs.source_ui_test" };
const OUTCOME_KEYS = {
  ok: "jobs.attempt_ok", transient: "jobs.attempt_transient", permanent: "jobs.attempt_permanent",
  timeout: "jobs.attempt_timeout", not_configured: "jobs.attempt_not_configured", crash: "jobs.attempt_crash",
};
const ROLE_KEYS = { primary: "jobs.role_primary", fallback: "jobs.role_fallback" };

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
  return scrollTable(t("jobs.attempts"), h("table", { class: "data" },
    h("thead", {}, h("tr", {}, head.map((key) => h("th", { scope: "col", text: t(key) })))),
    h("tbody", {}, attempts.map((attempt, index) => h("tr", {},
      h("td", { class: "num", text: formatNumber(index + 1) }),
      h("td", {}, h("code", { text: attempt.provider }), " ", h("span", { class: "muted", text: attempt.operation })),
      h("td", { text: words(ROLE_KEYS, attempt.role) }),
      h("td", { class: "num", text: formatDuration(attempt.started_ms) }),
      h("td", { class: "num", text: formatDuration(attempt.duration_ms) }),
      h("td", {}, h("span", { class: attempt.outcome === "ok" ? "pill done" : "pill failed",
        text: words(OUTCOME_KEYS, attempt.outcome) })),
      // The provider's own reason (NO_IMAGE, moderation_blocked) as it came.
      h("td", {}, attempt.reason ? h("code", { text: attempt.reason }) : "—"),
      h("td", { class: "message", text: attempt.error || "—" }))))));
}

function resultPart(job) {
  if (job.status !== "done") return null;
  if (!job.preview_url) return part("jobs.result", h("p", { class: "muted", text: t("jobs.result_gone") }));
  return part("jobs.result",
    h("a", { class: "result-preview", href: job.public_result_url, target: "_blank", rel: "noopener" },
      h("img", { src: localPath(job.preview_url), alt: t("jobs.result_alt"), loading: "lazy", width: 320 })),
    facts([
      ["jobs.result_type", `${job.result_mime || "—"} · ${formatBytes(job.result_size)}`],
      ["jobs.result_expires", job.result_expires_at ? time(job.result_expires_at) : t("jobs.result_kept")],
    ]),
    h("p", {}, h("a", { class: "button", href: job.public_result_url, target: "_blank", rel: "noopener",
      text: t("jobs.open_result") })));
}

function detail(job, names) {
  const fallback = job.produced_by && job.produced_by !== job.provider;
  const failure = job.failure_reason || job.failure_details || job.degraded_reason;
  const metadata = Object.entries(job.booth_metadata || {});
  return [
    h("div", { class: "job-head" }, statusPill(job.status), h("code", { class: "muted", text: job.id })),
    failure ? part("jobs.failure", facts([
      job.failure_reason && ["jobs.reason", reasonCell(job.failure_reason)],
      job.failure_details && ["jobs.details", h("span", { class: "message", text: job.failure_details })],
      job.degraded_reason && ["jobs.degraded", reasonCell(job.degraded_reason)],
    ])) : null,
    resultPart(job),
    part("jobs.summary", facts([
      ["jobs.slot", h("span", {}, h("a", { href: `/slots/${encodeURIComponent(job.slot_id)}`,
        text: names.get(job.slot_id) || job.slot_id }), " ", h("span", { class: "muted", text: job.slot_id }))],
      ["jobs.source", words(SOURCE_KEYS, job.source)],
      ["jobs.provider", h("span", {}, h("code", { text: job.provider }), " · ", job.operation)],
      fallback && ["jobs.produced_by", h("code", { text: job.produced_by })],
      ["jobs.started", time(job.started_at)],
      ["jobs.finished", time(job.finished_at)],
      ["jobs.duration", formatDuration(job.duration_ms)],
      ["jobs.deadline", time(job.deadline_at)],
      job.slot_version !== null && ["jobs.slot_version", formatNumber(job.slot_version)],
    ])),
    part("jobs.attempts", attemptsTable(job.attempts || [])),
    part("jobs.input", facts([
      ["jobs.input_type", `${job.input_mime} · ${formatBytes(job.input_size)}`],
      ["jobs.sha256", h("code", { class: "hash", text: job.input_sha256 })],
      job.client_hash && ["jobs.client_hash", h("span", {}, h("code", { class: "hash", text: job.client_hash }),
        job.client_hash_mismatch ? h("span", { class: "pill warn", text: t("jobs.hash_mismatch") }) : null)],
    ])),
    metadata.length ? part("jobs.booth", h("dl", { class: "facts" }, metadata.map(([key, value]) =>
      h("div", {}, h("dt", {}, h("code", { text: key })), h("dd", { text: value }))))) : null,
  ];
}

/**
 * The dialog, made once per page; `names` maps slot ids to their names.
 * `open(jobId)` shows the job (loading it); `onClose` hears when the admin
 * closes it.
 */
export function jobDialog(names, onClose) {
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
        if (current === jobId) fill(body, detail(job, names));
      } catch (error) {
        if (current === jobId) fill(body, h("p", { class: "form-error", role: "alert", text: errorText(error) }));
      }
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
