// The job log: every photo, newest first, filtered by slot, outcome (a degraded
// answer is its own), source and time, in keyset pages (older / newer / back to
// the newest), with a CSV of the same filters and one job's detail in a dialog.
// Filters, page and open job live in the URL (`/jobs?slot=…&outcome=…&job=<id>`),
// so a link or a reload shows the same.

import { api } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { formatBytes, formatDateTime, t } from "../i18n.js";
import { notifyError, pageHeading, startPage } from "../layout.js";
import { jobDialog, SOURCE_KEYS } from "../jobdetail.js";
import {
  formatDuration, formatMoney, formatWhen, jobHref, outcomeOf, OUTCOME_KEYS, reasonCell, scrollTable, statusPill,
} from "../outcomes.js";

const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
const RANGES = { "1h": 60, "24h": 1440, "7d": 10080 };
const RANGE_KEYS = [["", "jobs.range_any"], ["1h", "jobs.range_1h"], ["24h", "jobs.range_24h"],
  ["7d", "jobs.range_7d"], ["custom", "jobs.range_custom"]];
const SLOT_ID = /^slot-\d{3}$/;
/** Links made before the outcome filter said `status=`: `done` was a success. */
const LEGACY_STATUS = { done: "success", failed: "failed", timeout: "timeout", pending: "pending" };

/** The view the URL asks for; unknown values are dropped. */
function readQuery() {
  const query = new URLSearchParams(location.search);
  const pick = (name, allowed) => (allowed.includes(query.get(name)) ? query.get(name) : "");
  const when = (name) => {
    const value = query.get(name);
    return value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : "";
  };
  const slot = query.get("slot") || "";
  return {
    slot: SLOT_ID.test(slot) ? slot : "",
    outcome: pick("outcome", Object.keys(OUTCOME_KEYS)) || LEGACY_STATUS[query.get("status")] || "",
    source: pick("source", Object.keys(SOURCE_KEYS)),
    range: pick("range", RANGE_KEYS.map(([value]) => value)),
    from: when("from"),
    to: when("to"),
    cursor: query.get("cursor") || "",
    job: query.get("job") || "",
    limit: Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(Number(query.get("limit"))) || PAGE_SIZE)),
  };
}

function viewQuery(view) {
  const query = new URLSearchParams();
  for (const name of ["slot", "outcome", "source", "range"]) if (view[name]) query.set(name, view[name]);
  if (view.range === "custom") {
    if (view.from) query.set("from", view.from);
    if (view.to) query.set("to", view.to);
  }
  if (view.limit !== PAGE_SIZE) query.set("limit", String(view.limit));
  if (view.cursor) query.set("cursor", view.cursor);
  if (view.job) query.set("job", view.job);
  return query;
}

/** The API's filters for a view: `range` becomes `from` as of now. */
function apiFilters(view) {
  const query = new URLSearchParams();
  if (view.slot) query.set("slot_id", view.slot);
  if (view.outcome) query.set("outcome", view.outcome);
  if (view.source) query.set("source", view.source);
  if (RANGES[view.range]) {
    query.set("from", new Date(Date.now() - RANGES[view.range] * 60_000).toISOString());
  } else if (view.range === "custom") {
    if (view.from) query.set("from", view.from);
    if (view.to) query.set("to", view.to);
  }
  return query;
}

/** An ISO time as a `datetime-local` value, in the browser's time zone. */
function localInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (value) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function select(name, labelKey, value, options, onchange) {
  const id = uid("flt");
  return h("div", { class: "field" },
    h("label", { for: id, text: t(labelKey) }),
    h("select", { id, dataset: { filter: name }, onchange: (event) => onchange(event.target.value) },
      options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value, text }))));
}

function filters(view, slots, apply) {
  const set = (name) => (value) => apply({ ...view, [name]: value, cursor: "", job: "" });
  const fields = [
    select("slot", "jobs.slot", view.slot, [["", t("jobs.all_slots")],
      ...slots.map((slot) => [slot.id, `${slot.name} (${slot.id})`])], set("slot")),
    select("outcome", "jobs.status", view.outcome, [["", t("jobs.any_status")],
      ...Object.entries(OUTCOME_KEYS).map(([value, key]) => [value, t(key)])], set("outcome")),
    select("source", "jobs.source", view.source, [["", t("jobs.any_source")],
      ...Object.entries(SOURCE_KEYS).map(([value, key]) => [value, t(key)])], set("source")),
    select("range", "jobs.range", view.range, RANGE_KEYS.map(([value, key]) => [value, t(key)]), set("range")),
  ];
  if (view.range === "custom") {
    for (const [name, key] of [["from", "jobs.from"], ["to", "jobs.to"]]) {
      const id = uid("time");
      fields.push(h("div", { class: "field" },
        h("label", { for: id, text: t(key) }),
        h("input", { id, type: "datetime-local", value: localInput(view[name]), dataset: { filter: name },
          onchange: (event) => {
            const value = event.target.value;
            set(name)(value ? new Date(value).toISOString() : "");
          } })));
    }
  }
  const reset = h("a", { class: "button", href: "/jobs", text: t("jobs.reset") });
  return h("div", { class: "card filters" }, fields, h("div", { class: "field filter-actions" }, reset));
}

const reasonOf = (job) => job.failure_reason || job.degraded_reason;

function providerText(job) {
  return job.produced_by && job.produced_by !== job.provider
    ? `${job.provider} → ${job.produced_by}` : job.provider;
}

function jobTable(jobs, names, currency, openJob) {
  // What an admin scans for first on a phone comes first: when, how it went, where.
  const head = [["jobs.col_started"], ["jobs.col_status"], ["jobs.col_slot"], ["jobs.col_reason"],
    ["jobs.col_provider"], ["jobs.col_duration", true], ["jobs.col_cost", true], ["jobs.col_source"],
    ["jobs.col_input", true]];
  return scrollTable(t("jobs.heading"), h("table", { class: "data jobs-table" },
    h("thead", {}, h("tr", {}, head.map(([key, numeric]) =>
      h("th", { scope: "col", class: numeric ? "num" : null, text: t(key) })))),
    h("tbody", {}, jobs.map((job) => h("tr", { dataset: { job: job.id } },
      h("td", { class: "when" }, h("a", {
        href: jobHref(job.id),
        title: formatDateTime(job.started_at),
        "aria-label": t("jobs.open_detail", { time: formatDateTime(job.started_at) }),
        text: formatWhen(job.started_at),
        onclick: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
          event.preventDefault();
          openJob(job.id);
        },
      })),
      h("td", {}, statusPill(outcomeOf(job))),
      h("td", { class: "slot-cell" }, h("span", { class: "slot-name", text: names.get(job.slot_id) || job.slot_id }),
        h("span", { class: "muted small block", text: job.slot_id })),
      reasonOf(job) ? h("td", { class: "reason-cell" }, reasonCell(reasonOf(job))) : h("td", { text: "—" }),
      h("td", { class: "nowrap" }, h("code", { text: providerText(job) })),
      h("td", { class: "num", text: formatDuration(job.duration_ms) }),
      h("td", { class: "num", text: formatMoney(job.cost, currency) }),
      h("td", { class: "nowrap", text: t(SOURCE_KEYS[job.source] || "status.unknown") }),
      h("td", { class: "num", text: formatBytes(job.input_size) }))))));
}

startPage(async (main) => {
  let view = readQuery();
  const { slots, currency } = await api("/api/slots");
  const names = new Map(slots.map((slot) => [slot.id, slot.name]));
  const filterBox = h("div");
  const tools = h("div", { class: "list-tools" });
  const list = h("div", { "aria-live": "polite" });
  const pager = h("nav", { class: "pager", "aria-label": t("jobs.pages") });
  main.append(pageHeading(t("jobs.heading")), filterBox, tools, list, pager);

  // The newer pages' cursors, kept with the history entry so "Newer" works
  // after a reload too.
  const newer = () => history.state?.newer || [];
  const go = (next, { push = true, stack = [] } = {}) => {
    view = next;
    const url = `${location.pathname}?${viewQuery(view)}`.replace(/\?$/, "");
    if (push) history.pushState({ newer: stack }, "", url);
    else history.replaceState({ ...(history.state || {}), newer: stack }, "", url);
    render().catch(notifyError);
  };

  const dialog = jobDialog(names, currency, () => {
    if (!view.job) return;
    view = { ...view, job: "" };
    history.replaceState(history.state, "", `${location.pathname}?${viewQuery(view)}`.replace(/\?$/, ""));
    main.querySelector(`tr[data-job="${CSS.escape(lastOpened)}"] a`)?.focus();
  });
  let lastOpened = "";
  const openJob = (jobId) => {
    lastOpened = jobId;
    view = { ...view, job: jobId };
    history.replaceState(history.state, "", `${location.pathname}?${viewQuery(view)}`);
    dialog.open(jobId);
  };

  async function render() {
    // The bar is drawn again for each view ("Between…" adds two fields): the
    // control the admin just used keeps the focus.
    const focused = document.activeElement?.dataset?.filter;
    fill(filterBox, filters(view, slots, (next) => go(next)));
    if (focused) filterBox.querySelector(`[data-filter="${focused}"]`)?.focus();
    const query = apiFilters(view);
    fill(tools, h("p", { class: "muted small", text: t("jobs.newest_first", { count: view.limit }) }),
      h("a", { class: "button", href: `/api/jobs.csv?${query}`, download: "", text: t("jobs.csv") }));
    const pageQuery = new URLSearchParams(query);
    pageQuery.set("limit", String(view.limit));
    if (view.cursor) pageQuery.set("cursor", view.cursor);
    list.setAttribute("aria-busy", "true");
    let page;
    try {
      page = await api(`/api/jobs?${pageQuery}`);
    } finally {
      list.removeAttribute("aria-busy");
    }
    fill(list, page.jobs.length
      ? jobTable(page.jobs, names, currency, openJob)
      : h("p", { class: "empty card", text: t(view.cursor ? "jobs.empty_page" : "jobs.empty") }));
    const stack = newer();
    fill(pager,
      stack.length ? h("button", { type: "button", text: t("jobs.newer"),
        onclick: () => go({ ...view, cursor: stack[stack.length - 1] }, { stack: stack.slice(0, -1) }) }) : null,
      view.cursor ? h("button", { type: "button", text: t("jobs.newest"),
        onclick: () => go({ ...view, cursor: "" }) }) : null,
      page.next_cursor ? h("button", { type: "button", class: "primary", text: t("jobs.older"),
        onclick: () => go({ ...view, cursor: page.next_cursor }, { stack: [...stack, view.cursor] }) }) : null);
  }

  window.addEventListener("popstate", () => {
    view = readQuery();
    render().catch(notifyError);
    if (view.job) dialog.open(view.job);
    else dialog.close();
  });
  await render();
  if (view.job) {
    lastOpened = view.job;
    dialog.open(view.job);
  }
}, { title: "jobs.title" });
