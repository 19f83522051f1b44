// The statistics page's Spend section (SPEC §10 "Spend in view"): the
// estimated cost per slot and day over the last 1, 7 or 30 days (UTC), the
// totals, each slot's daily budget, and the same numbers as a CSV download.

import { api } from "./api.js";
import { fill, h, uid } from "./dom.js";
import { formatNumber, lang, t } from "./i18n.js";
import { formatMoney } from "./outcomes.js";
import { empty, failedToLoad, slotLink, table } from "./stats-tables.js";

export const SPEND_DAYS = [[1, "stats.spend_days_1"], [7, "stats.spend_days_7"], [30, "stats.spend_days_30"]];
export const DEFAULT_DAYS = 7;
const locale = lang === "ru" ? "ru-RU" : "en-GB";
const DAY = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" });

function spendQuery(view) {
  return new URLSearchParams({ days: String(view.days), source: view.source });
}

export function loadSpend(view) {
  return api(`/api/stats/spend?${spendQuery(view)}`);
}

function card(labelKey, value, note) {
  return h("div", { class: "stat" },
    h("dt", { text: t(labelKey) }),
    h("dd", {}, h("span", { class: "stat-value", text: value }),
      note ? h("span", { class: "stat-note", text: note }) : null));
}

function money(cost, jobs, currency) {
  if (!cost && !jobs) return h("td", { class: "num muted", text: "—" });
  return h("td", { class: "num", title: t("stats.spend_jobs_note", { count: formatNumber(jobs) }),
    text: formatMoney(cost, currency) });
}

function dayHeader(date, today) {
  const text = date === today ? t("stats.spend_today") : DAY.format(new Date(`${date}T00:00:00Z`));
  return h("th", { scope: "col", class: "num" }, h("time", { datetime: date, text }));
}

function budgetCell(slot, currency) {
  if (slot.daily_budget === null || slot.daily_budget === undefined) {
    return h("td", { class: "num muted", text: "—" });
  }
  return h("td", { class: "num" }, formatMoney(slot.daily_budget, currency),
    slot.budget_reached ? [" ", h("span", { class: "pill warn", text: t("stats.spend_reached") })] : null);
}

/** Slots as rows, days (newest first) as columns, the totals of every slot below. */
function spendTable(spend, view) {
  const currency = spend.currency;
  const names = new Map(spend.slots.map((slot) => [slot.slot_id, slot.name]));
  const days = [...spend.daily].reverse();
  const today = spend.daily.length ? spend.daily[spend.daily.length - 1].date : "";
  const byDay = new Map(days.map((day) => [day.date, new Map(day.slots.map((item) => [item.slot_id, item]))]));
  const rows = spend.slots
    .filter((slot) => slot.cost || slot.jobs || slot.daily_budget !== null || slot.budget_reached)
    .filter((slot) => !view.slot || slot.slot_id === view.slot);
  if (!rows.length) return empty("stats.spend_empty");
  const head = h("thead", {}, h("tr", {},
    h("th", { scope: "col", text: t("stats.col_slot") }),
    h("th", { scope: "col", class: "num", text: t("stats.spend_total") }),
    h("th", { scope: "col", class: "num", text: t("stats.col_jobs") }),
    h("th", { scope: "col", class: "num", text: t("stats.spend_budget") }),
    days.map((day) => dayHeader(day.date, today))));
  const body = h("tbody", {}, rows.map((slot) => h("tr", { dataset: { slot: slot.slot_id } },
    h("th", { scope: "row", class: "slot-cell" }, slotLink(slot.slot_id, names)),
    h("td", { class: "num strong", text: formatMoney(slot.cost, currency) }),
    h("td", { class: "num", text: formatNumber(slot.jobs) }),
    budgetCell(slot, currency),
    days.map((day) => {
      const item = byDay.get(day.date).get(slot.slot_id);
      return money(item?.cost || 0, item?.jobs || 0, currency);
    }))));
  const jobs = spend.daily.reduce((sum, day) => sum + day.jobs, 0);
  const foot = h("tfoot", {}, h("tr", {},
    h("th", { scope: "row", text: t("stats.spend_all_slots") }),
    h("td", { class: "num strong", text: formatMoney(spend.total, currency) }),
    h("td", { class: "num", text: formatNumber(jobs) }),
    h("td", { class: "num muted", text: "—" }),
    days.map((day) => money(day.total, day.jobs, currency))));
  return h("div", { class: "table-wrap spend-wrap", role: "region", "aria-label": t("stats.spend_table"), tabindex: "0" },
    h("table", { class: "data spend-table" }, head, body, foot));
}

/** The cards' figures: every slot's, or the one slot's the page shows. */
function totals(spend, slotId) {
  const last = spend.daily.length ? spend.daily[spend.daily.length - 1] : { total: 0, slots: [] };
  if (!slotId) {
    return { total: spend.total, jobs: spend.daily.reduce((sum, day) => sum + day.jobs, 0), today: last.total };
  }
  const slot = spend.slots.find((item) => item.slot_id === slotId);
  return {
    total: slot?.cost || 0,
    jobs: slot?.jobs || 0,
    today: last.slots.find((item) => item.slot_id === slotId)?.cost || 0,
  };
}

/**
 * The section's parts, made once: the days picker (its focus kept across
 * reloads), the CSV link and the numbers. `show(result, view)` draws a
 * `loadSpend` answer (a settled promise); `mark(view)` shows the view's days.
 */
export function spendSection(initial, onDays) {
  let view = initial;
  const label = uid("lbl");
  const chips = SPEND_DAYS.map(([days, key]) => h("button", {
    type: "button", class: "chip", text: t(key), onclick: () => onDays(days),
  }));
  const csv = h("a", { class: "button", download: "", text: t("stats.spend_csv") });
  const numbers = h("div");
  const mark = (next) => {
    view = next;
    chips.forEach((chip, index) => {
      const pressed = SPEND_DAYS[index][0] === next.days;
      chip.className = pressed ? "chip active" : "chip";
      chip.setAttribute("aria-pressed", String(pressed));
    });
    csv.setAttribute("href", `/api/stats/spend.csv?${spendQuery(view)}`);
  };
  mark(initial);
  const tools = h("div", { class: "spend-tools" },
    h("div", { class: "field" },
      h("span", { class: "label", id: label, text: t("stats.spend_days") }),
      h("div", { class: "chips", role: "group", "aria-labelledby": label }, chips)),
    csv);
  const show = (result, shown) => {
    if (result.status !== "fulfilled") {
      fill(numbers, failedToLoad(result.reason));
      return;
    }
    const spend = result.value;
    const currency = spend.currency;
    const { total, jobs, today } = totals(spend, shown.slot);
    const scope = shown.slot ? spend.slots.find((slot) => slot.slot_id === shown.slot)?.name : t("stats.spend_all_slots");
    fill(numbers,
      h("dl", { class: "stat-grid" },
        card("stats.spend_total", formatMoney(total, currency),
          t("stats.spend_in_days", { days: formatNumber(spend.days) })),
        card("stats.spend_today", formatMoney(today, currency), scope),
        card("stats.spend_jobs", formatNumber(jobs), scope),
        card("stats.spend_per_job", jobs ? formatMoney(total / jobs, currency) : "—", scope)),
      spendTable(spend, shown),
      h("p", { class: "muted small", text: t("stats.spend_note", { currency }) }));
  };
  return { element: h("div", {}, tools, numbers), mark, show };
}
