// Statistics: how the booths' photos went over a window (1 h, 24 h, 7 days),
// for all slots or one — a degraded answer (the guest's own photo after the
// provider failed) counted as its own outcome — and what they cost per slot
// and day. The window, slot, source and spend days live in the URL, so a
// reload or a bookmark shows the same view. Every chart has its numbers in a
// table beside it.

import { api } from "../api.js";
import { fill, h, uid } from "../dom.js";
import {
  formatAgo, formatBytes, formatDateTime, formatNumber, formatPercent, formatTime, lang, t,
} from "../i18n.js";
import { every, notifyError, pageHeading, startPage } from "../layout.js";
import {
  chartsAvailable, durationLines, legendItem, liveChart, outcomeBars,
} from "../charts.js";
import { formatDuration, formatMoney, reasonText } from "../outcomes.js";
import { DEFAULT_DAYS, loadSpend, SPEND_DAYS, spendSection } from "../stats-spend.js";
import {
  empty, failedToLoad, lastFailures, lastFailuresTable, num, OUTCOME_COLUMNS, failureTable, slotTable, table,
} from "../stats-tables.js";

const WINDOWS = [
  { minutes: 60, bucket: 5, range: "1h", key: "stats.window_1h" },
  { minutes: 1440, bucket: 60, range: "24h", key: "stats.window_24h" },
  { minutes: 10080, bucket: 360, range: "7d", key: "stats.window_7d" },
];
const DEFAULT_WINDOW = 1440;
const SOURCES = [
  ["ingest", "stats.source_ingest"], ["ui_test", "stats.source_ui_test"], ["all", "stats.source_all"],
];
const REFRESH_SECONDS = 60;
const SLOT_ID = /^slot-\d{3}$/;
const locale = lang === "ru" ? "ru-RU" : "en-GB";

/** The view the URL asks for; anything unknown falls back to the default. */
function readQuery() {
  const query = new URLSearchParams(location.search);
  const minutes = Number(query.get("window"));
  const slot = query.get("slot") || "";
  const source = query.get("source") || "ingest";
  const days = Number(query.get("days"));
  return {
    days: SPEND_DAYS.some(([value]) => value === days) ? days : DEFAULT_DAYS,
    window: WINDOWS.find((item) => item.minutes === minutes) || WINDOWS.find((item) => item.minutes === DEFAULT_WINDOW),
    slot: SLOT_ID.test(slot) ? slot : "",
    source: SOURCES.some(([value]) => value === source) ? source : "ingest",
  };
}

function writeQuery(view) {
  const query = new URLSearchParams();
  query.set("window", String(view.window.minutes));
  if (view.slot) query.set("slot", view.slot);
  if (view.source !== "ingest") query.set("source", view.source);
  if (view.days !== DEFAULT_DAYS) query.set("days", String(view.days));
  history.replaceState(null, "", `${location.pathname}?${query}${location.hash}`);
}

function bucketText(minutes) {
  const [value, unit] = minutes < 60 ? [minutes, "minute"] : [minutes / 60, "hour"];
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(value);
}

function section(titleKey, ...children) {
  const id = uid("sec");
  return h("section", { class: "card stats-section", id: titleKey === "stats.spend" ? "spend" : null, "aria-labelledby": id },
    h("h2", { id, text: t(titleKey) }), children);
}

// ---- Filters --------------------------------------------------------------

/** The filter bar, made once; `mark(view)` shows a new view's window as pressed
 * (the selects already show what was picked), so focus stays where it was. */
function filters(initial, slots, onChange) {
  let view = initial;
  const windowLabel = uid("lbl");
  const chips = WINDOWS.map((item) => h("button", {
    type: "button", class: "chip", text: t(item.key), onclick: () => onChange({ ...view, window: item }),
  }));
  const slotId = uid("slot");
  const slotSelect = h("select", { id: slotId, onchange: (event) => onChange({ ...view, slot: event.target.value }) },
    h("option", { value: "", text: t("stats.all_slots") }),
    slots.map((slot) => h("option", { value: slot.slot_id, selected: slot.slot_id === view.slot,
      text: `${slot.name} (${slot.slot_id})` })));
  const sourceId = uid("source");
  const sourceSelect = h("select", { id: sourceId, onchange: (event) => onChange({ ...view, source: event.target.value }) },
    SOURCES.map(([value, key]) => h("option", { value, selected: value === view.source, text: t(key) })));
  const mark = (next) => {
    view = next;
    chips.forEach((chip, index) => {
      const pressed = WINDOWS[index] === next.window;
      chip.className = pressed ? "chip active" : "chip";
      chip.setAttribute("aria-pressed", String(pressed));
    });
  };
  mark(initial);
  const element = h("div", { class: "card filters" },
    h("div", { class: "field window-field" },
      h("span", { class: "label", id: windowLabel, text: t("stats.window") }),
      h("div", { class: "chips", role: "group", "aria-labelledby": windowLabel }, chips)),
    h("div", { class: "field" }, h("label", { for: slotId, text: t("stats.slot") }), slotSelect),
    h("div", { class: "field" }, h("label", { for: sourceId, text: t("stats.source") }), sourceSelect));
  return { element, mark };
}

// ---- Overview cards ---------------------------------------------------------

function stat(labelKey, value, note, kind) {
  return h("div", { class: kind ? `stat ${kind}` : "stat" },
    h("dt", { text: t(labelKey) }),
    h("dd", {}, h("span", { class: "stat-value", text: value }),
      note ? h("span", { class: "stat-note", text: note }) : null));
}

function overviewCards(overview, view) {
  const currency = overview.currency;
  const system = overview.system;
  const slot = view.slot ? overview.slots.find((item) => item.slot_id === view.slot) : null;
  const counts = slot || system;
  const share = (value) => (counts.jobs ? t("stats.share", { percent: formatPercent(value / counts.jobs) }) : null);
  const allSlots = slot ? t("stats.all_slots_note") : null;
  const items = [
    stat("stats.card_jobs", formatNumber(counts.jobs), null),
    stat("stats.card_done", formatNumber(counts.successes), share(counts.successes), counts.successes ? "done" : null),
    stat("stats.card_degraded", formatNumber(counts.degraded ?? 0), share(counts.degraded ?? 0),
      counts.degraded ? "degraded-outcome" : null),
    stat("stats.card_timeouts", formatNumber(counts.timeouts), share(counts.timeouts), counts.timeouts ? "timeout" : null),
    stat("stats.card_provider_errors", formatNumber(counts.provider_errors), share(counts.provider_errors),
      counts.provider_errors ? "failed" : null),
    stat("stats.card_other", formatNumber(counts.other_failures), share(counts.other_failures),
      counts.other_failures ? "failed" : null),
    stat("stats.card_pending", formatNumber(counts.pending), null),
    stat("stats.card_cost", formatMoney(counts.cost ?? null, currency), t("stats.card_cost_note")),
    stat("stats.card_total", formatNumber(system.jobs_total), allSlots),
    stat("stats.card_storage", formatBytes(system.storage_used_bytes), allSlots),
  ];
  if (slot) {
    items.push(
      stat("stats.card_last_success", slot.last_success_at ? formatAgo(slot.last_success_at) : t("common.never"),
        slot.last_success_at ? formatDateTime(slot.last_success_at) : null, "wide"),
      stat("stats.card_last_error", slot.last_error_at ? formatAgo(slot.last_error_at) : t("common.never"),
        slot.last_error_at ? `${formatDateTime(slot.last_error_at)} · ${reasonText(slot.last_error_reason)}` : null,
        slot.last_error_at ? "wide failed" : "wide"),
    );
  }
  return h("dl", { class: "stat-grid" }, items);
}

// ---- Time series ------------------------------------------------------------
function bucketRange(bucket, minutes) {
  const start = new Date(bucket.start);
  const end = new Date(start.getTime() + minutes * 60_000);
  const time = (date) => date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  const day = minutes >= 60 * 6 || start.toDateString() !== new Date().toDateString()
    ? `${start.toLocaleDateString(locale, { day: "numeric", month: "short" })} ` : "";
  return `${day}${time(start)}–${time(end)}`;
}

function bucketTable(series) {
  const rows = series.buckets.filter((bucket) => bucket.jobs).map((bucket) => h("tr", {},
    h("td", { text: bucketRange(bucket, series.bucket_minutes) }),
    num(bucket.jobs),
    OUTCOME_COLUMNS.map(([field]) => num(bucket[field])),
    h("td", { class: "num", text: formatDuration(bucket.p50_ms) }),
    h("td", { class: "num", text: formatDuration(bucket.p95_ms) })));
  return table(t("stats.numbers_label"), [["stats.col_bucket"], ["stats.col_jobs", true],
    ...OUTCOME_COLUMNS.map(([, key]) => [key, true]), ["stats.col_p50", true], ["stats.col_p95", true]], rows);
}

function readoutText(bucket, minutes) {
  if (!bucket) return t("stats.chart_hint");
  const parts = [[t("stats.col_jobs"), formatNumber(bucket.jobs)],
    ...OUTCOME_COLUMNS.map(([field, key]) => [t(key), formatNumber(bucket[field])])];
  return `${bucketRange(bucket, minutes)} · ${parts.map(([label, value]) => `${label}: ${value}`).join(" · ")}`;
}

function durationReadout(bucket, minutes) {
  if (!bucket) return t("stats.chart_hint");
  return `${bucketRange(bucket, minutes)} · ${t("stats.col_p50")}: ${formatDuration(bucket.p50_ms)}`
    + ` · ${t("stats.col_p95")}: ${formatDuration(bucket.p95_ms)}`;
}

/** The two charts and their table; answers the charts, to destroy on reload. */
function timeSeries(series, jobsBox, durationsBox, numbersBox) {
  const minutes = series.bucket_minutes;
  const seconds = minutes * 60;
  const note = h("p", { class: "muted small", text: t("stats.bucket_note", { size: bucketText(minutes) }) });
  const charts = [];
  if (!series.buckets.some((bucket) => bucket.jobs)) {
    fill(jobsBox, empty("stats.empty_chart"));
    fill(durationsBox, empty("stats.empty_durations"));
    fill(numbersBox);
    numbersBox.hidden = true;
    return charts;
  }
  const open = numbersBox.querySelector("details")?.open;
  fill(numbersBox, h("details", { class: "numbers", open },
    h("summary", { text: t("stats.show_table") }), bucketTable(series)));
  numbersBox.hidden = false;
  const chartBox = (labelKey) => h("div", { class: "chart", role: "img", "aria-label": t(labelKey) });
  const jobsChart = chartBox("stats.chart_jobs_alt");
  const jobsReadout = h("p", { class: "readout small", text: t("stats.chart_hint") });
  const legend = h("ul", { class: "legend small" },
    OUTCOME_COLUMNS.map(([, key, colour]) => legendItem(colour, t(key))));
  fill(jobsBox, note, legend, jobsChart, jobsReadout);
  const timed = series.buckets.some((bucket) => bucket.p50_ms !== null);
  const durationChart = chartBox("stats.chart_durations_alt");
  const durationsReadout = h("p", { class: "readout small", text: t("stats.chart_hint") });
  fill(durationsBox,
    h("p", { class: "muted small", text: t("stats.durations_note") }),
    h("ul", { class: "legend small" }, legendItem("p50", t("stats.col_p50")), legendItem("p95", t("stats.col_p95"))),
    timed ? durationChart : empty("stats.empty_durations"),
    timed ? durationsReadout : null);
  if (!chartsAvailable()) {
    jobsChart.replaceWith(h("p", { class: "muted", text: t("stats.chart_unavailable") }));
    durationChart.replaceWith(h("p", { class: "muted", text: t("stats.chart_unavailable") }));
    return charts;
  }
  const sync = uid("sync");
  const at = (index) => (index === null ? null : series.buckets[index]);
  charts.push(liveChart(jobsChart, outcomeBars(series.buckets, seconds, { label: t("stats.col_bucket"), sync }),
    (index) => { jobsReadout.textContent = readoutText(at(index), minutes); }));
  if (timed) {
    charts.push(liveChart(durationChart, durationLines(series.buckets, seconds,
      { label: t("stats.col_bucket"), sync, format: formatDuration }),
    (index) => { durationsReadout.textContent = durationReadout(at(index), minutes); }));
  }
  return charts;
}

// ---- Tables -----------------------------------------------------------------
// ---- The page -----------------------------------------------------------------

startPage(async (main) => {
  let view = readQuery();
  writeQuery(view);
  let charts = [];
  const refresh = h("button", { type: "button", text: t("stats.refresh"), onclick: () => load().catch(notifyError) });
  const filterBox = h("div");
  const updated = h("p", { class: "muted small", "aria-live": "polite" });
  const cards = h("div");
  const jobsBox = h("div");
  const durationsBox = h("div");
  const slotsBox = h("div");
  const failuresBox = h("div");
  const lastBox = h("div");
  const numbersBox = h("div", { class: "card stats-section", hidden: true });
  const spend = spendSection(view, (days) => change({ ...view, days }, { only: "spend" }));
  main.append(
    pageHeading(t("stats.heading"), refresh),
    filterBox,
    updated,
    section("stats.overview", cards),
    h("div", { class: "grid-2 charts" }, section("stats.chart_jobs", jobsBox), section("stats.chart_durations", durationsBox)),
    numbersBox,
    section("stats.per_slot", slotsBox),
    section("stats.spend", spend.element),
    section("stats.failures", failuresBox),
    section("stats.last_failures", lastBox),
  );

  let bar = null;
  const change = (next, { only } = {}) => {
    view = next;
    bar?.mark(view);
    spend.mark(view);
    writeQuery(view);
    (only === "spend" ? loadSpendOnly() : load()).catch(notifyError);
  };

  // The days of the spend table change only that table.
  let latestSpend = 0;
  async function loadSpendOnly() {
    const mine = ++latestSpend;
    const shown = view;
    const [result] = await Promise.allSettled([loadSpend(shown)]);
    if (mine === latestSpend) spend.show(result, shown);
  }

  // The newest request wins: a slow answer for a view the admin has already
  // left is dropped, not drawn over the new one.
  let latest = 0;
  let running = 0;
  async function load() {
    const mine = ++latest;
    const shown = view;
    running += 1;
    refresh.disabled = true;
    main.setAttribute("aria-busy", "true");
    try {
      await draw(mine, shown);
    } finally {
      running -= 1;
      if (!running) {
        refresh.disabled = false;
        main.removeAttribute("aria-busy");
      }
    }
  }

  async function draw(mine, shown) {
    const base = new URLSearchParams({ window_minutes: String(shown.window.minutes), source: shown.source });
    const series = new URLSearchParams({ ...Object.fromEntries(base), bucket_minutes: String(shown.window.bucket) });
    if (shown.slot) series.set("slot_id", shown.slot);
    const overview = await api(`/api/stats/overview?${base}`);
    const spendMine = ++latestSpend;
    const [slotsStats, timeseries, breakdown, failures, spent] = await Promise.allSettled([
      api(`/api/stats/slots?${base}`), api(`/api/stats/timeseries?${series}`), api(`/api/stats/failures?${base}`),
      lastFailures(shown, overview.since), loadSpend(shown),
    ]);
    if (spendMine === latestSpend) spend.show(spent, shown);
    if (mine !== latest) return;
    const names = new Map(overview.slots.map((slot) => [slot.slot_id, slot.name]));
    if (!bar) {
      bar = filters(shown, overview.slots, change);
      fill(filterBox, bar.element);
    }
    fill(cards, overviewCards(overview, shown));
    for (const chart of charts) chart.destroy();
    charts = [];
    if (timeseries.status === "fulfilled") charts = timeSeries(timeseries.value, jobsBox, durationsBox, numbersBox);
    else {
      fill(jobsBox, failedToLoad(timeseries.reason));
      fill(durationsBox, failedToLoad(timeseries.reason));
      numbersBox.hidden = true;
    }
    const show = (box, result, render) =>
      fill(box, result.status === "fulfilled" ? render(result.value) : failedToLoad(result.reason));
    show(slotsBox, slotsStats, (value) => slotTable(value, shown, names, overview.currency));
    show(failuresBox, breakdown, (value) => failureTable(value, shown, names));
    show(lastBox, failures, (value) => lastFailuresTable(value, shown, names));
    updated.textContent = t("stats.updated", { time: formatTime(overview.generated_at) });
  }

  await load();
  // The dashboard's "spend per slot and day" link: the section, once drawn.
  if (location.hash === "#spend") document.getElementById("spend")?.scrollIntoView();
  every(REFRESH_SECONDS, load);
}, { title: "stats.title" });
