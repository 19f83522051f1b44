// The dashboard: the 15 slots at a glance, the booth's connection details,
// today's estimated spend (a slot at its daily budget flagged), and photos
// arriving during an event (it refreshes itself every few seconds).

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { formatAgo, formatDateTime, t, titleOf } from "../i18n.js";
import { copyButton, every, pageHeading, startPage } from "../layout.js";
import { formatMoney, statusPill } from "../outcomes.js";

const REFRESH_SECONDS = 5;

function providersMissingKeys(settings) {
  const missing = new Set();
  for (const [name, state] of Object.entries(settings?.provider_keys || {})) {
    if (!state.configured) missing.add(name);
  }
  return missing;
}

function providerTitle(providers, name, operation) {
  const provider = providers.find((item) => item.name === name);
  const op = provider?.operations?.find((item) => item.name === operation);
  return `${titleOf(provider) || name} · ${titleOf(op) || operation}`;
}

/** Today's spend of a slot (UTC day), and a flag once its daily budget is reached. */
function slotSpend(slot, currency) {
  const spent = slot.spent_today || 0;
  const budget = slot.daily_budget ?? null;
  const line = spent > 0 || budget !== null
    ? h("p", { class: "spend muted" }, budget === null
      ? t("dashboard.slot_spend", { amount: formatMoney(spent, currency) })
      : t("dashboard.slot_spend_budget", { amount: formatMoney(spent, currency), budget: formatMoney(budget, currency) }))
    : null;
  const flag = slot.budget_reached
    ? h("p", { class: "budget-flag", title: t("dashboard.budget_reached_help") }, t("dashboard.budget_reached"))
    : null;
  return [line, flag];
}

function slotCard(slot, providers, missingKeys, currency) {
  // The outcome when the API gives it (a degraded answer is not a success).
  const status = slot.last_job_outcome || slot.last_job_status;
  const pills = [
    h("span", {
      class: slot.active ? "pill ok" : "pill off",
      text: slot.active ? t("dashboard.active") : t("dashboard.inactive"),
    }),
  ];
  if (missingKeys.has(slot.provider)) {
    pills.push(h("span", { class: "pill warn", text: t("dashboard.no_key"),
      title: t("dashboard.no_key_help") }));
  }
  const last = slot.last_job_at
    ? [
        h("time", { datetime: slot.last_job_at, title: formatDateTime(slot.last_job_at),
          text: formatAgo(slot.last_job_at) }),
        status ? statusPill(status) : null,
      ]
    : [h("span", { class: "muted", text: t("dashboard.no_jobs") })];
  return h(
    "article",
    { class: "card slot-card", dataset: { slot: slot.id } },
    h("div", { class: "slot-head" },
      h("h2", {}, h("a", { href: `/slots/${encodeURIComponent(slot.id)}`, text: slot.name })),
      h("span", { class: "muted mono", text: slot.id })),
    h("p", { class: "provider", text: providerTitle(providers, slot.provider, slot.operation) }),
    h("div", { class: "pills" }, pills),
    h("p", { class: "last" }, h("span", { class: "muted", text: `${t("dashboard.last_job")}: ` }), last),
    slotSpend(slot, currency),
    h("div", { class: "copy-row" },
      h("code", { class: "url", text: slot.ingest_url }),
      copyButton(slot.ingest_url, t("dashboard.copy_url", { name: slot.name }))),
  );
}

function boothCard(settings) {
  const password = settings?.ingest_password?.value || "";
  const value = h("code", { class: "secret", text: password });
  return h(
    "section",
    { class: "card booth", "aria-labelledby": "booth-heading" },
    h("h2", { id: "booth-heading", text: t("dashboard.booth") }),
    h("p", { class: "muted", text: t("dashboard.booth_help") }),
    h("div", { class: "copy-row" },
      h("span", { class: "muted", text: `${t("dashboard.ingest_password")}: ` }),
      value,
      copyButton(password, t("dashboard.copy_password"))),
  );
}

function spendCard(slotData) {
  const currency = slotData.currency;
  const reached = slotData.slots.filter((slot) => slot.budget_reached).length;
  return h(
    "section",
    { class: "card spend-card", "aria-labelledby": "spend-heading" },
    h("h2", { id: "spend-heading", text: t("dashboard.spend") }),
    h("p", { class: "stat-value", text: formatMoney(slotData.spent_today ?? 0, currency) }),
    reached ? h("p", { class: "budget-flag", text: t("dashboard.budget_slots", { count: reached }) }) : null,
    h("p", { class: "muted small", text: t("dashboard.spend_help") }),
    h("p", {}, h("a", { href: "/stats#spend", text: t("dashboard.spend_link") })),
  );
}

startPage(async (main) => {
  const [slots, providers, settings] = await Promise.all([
    api("/api/slots"), api("/api/providers"), api("/api/settings"),
  ]);
  const providerList = providers.providers || [];
  const booth = h("div");
  const spend = h("div");
  const grid = h("div", { class: "slot-grid", "aria-live": "off" });
  const updated = h("p", { class: "muted small", "aria-live": "polite" });
  main.append(pageHeading(t("dashboard.heading")), h("div", { class: "dash-top" }, booth, spend), grid, updated);

  const draw = (slotData, settingsData) => {
    fill(booth, boothCard(settingsData));
    fill(spend, spendCard(slotData));
    const missing = providersMissingKeys(settingsData);
    fill(grid, slotData.slots.map((slot) => slotCard(slot, providerList, missing, slotData.currency)));
    updated.textContent = t("dashboard.updated", { time: new Date().toLocaleTimeString() });
  };
  let latestSettings = settings;
  draw(slots, settings);
  let ticks = 0;
  every(REFRESH_SECONDS, async () => {
    ticks += 1;
    // The slots every few seconds; settings (password, keys) every minute.
    if (ticks % 12 === 0) latestSettings = await api("/api/settings");
    draw(await api("/api/slots"), latestSettings);
  });
}, { title: "dashboard.title" });
