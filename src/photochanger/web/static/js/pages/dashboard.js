// The dashboard: the 15 slots at a glance, the booth's connection details, and
// photos arriving during an event (it refreshes itself every few seconds).

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { formatAgo, formatDateTime, t, titleOf } from "../i18n.js";
import { copyButton, every, pageHeading, startPage } from "../layout.js";

const REFRESH_SECONDS = 5;

export const STATUS_KEYS = {
  done: "status.done", failed: "status.failed", timeout: "status.timeout", pending: "status.pending",
};

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

function slotCard(slot, providers, missingKeys) {
  const status = slot.last_job_status;
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
        status ? h("span", { class: `pill ${status}`, text: t(STATUS_KEYS[status] || "status.unknown") }) : null,
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

startPage(async (main) => {
  const [slots, providers, settings] = await Promise.all([
    api("/api/slots"), api("/api/providers"), api("/api/settings"),
  ]);
  const providerList = providers.providers || [];
  const booth = h("div");
  const grid = h("div", { class: "slot-grid", "aria-live": "off" });
  const updated = h("p", { class: "muted small", "aria-live": "polite" });
  main.append(pageHeading(t("dashboard.heading")), booth, grid, updated);

  const draw = (slotData, settingsData) => {
    fill(booth, boothCard(settingsData));
    const missing = providersMissingKeys(settingsData);
    fill(grid, slotData.slots.map((slot) => slotCard(slot, providerList, missing)));
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
