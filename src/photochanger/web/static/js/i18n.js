// The UI's text: one catalog per language (static/i18n/{lang}.json). The server
// picked the language (switch cookie, else the browser's) and put it on <html lang>.

export const LANGUAGES = ["en", "ru"];
export const lang = LANGUAGES.includes(document.documentElement.lang)
  ? document.documentElement.lang : "en";
let catalog = {};

export async function loadCatalog() {
  const response = await fetch(`/static/i18n/${lang}.json`, { credentials: "same-origin" });
  catalog = await response.json();
}

/** The text of `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = catalog[key];
  if (text === undefined) {
    console.warn(`missing text: ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

export function has(key) {
  return key in catalog;
}

/** Remember the choice (a year) and show the page again in that language. */
export function setLanguage(language) {
  document.cookie = `photochanger_lang=${language}; path=/; max-age=31536000; samesite=lax`;
  location.reload();
}

const locale = () => (lang === "ru" ? "ru-RU" : "en-GB");

export function formatDateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(locale(), { dateStyle: "short", timeStyle: "medium" });
}

export function formatTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString(locale(), { timeStyle: "medium" });
}

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(locale(), {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return Number(ratio).toLocaleString(locale(), { style: "percent", maximumFractionDigits: 1 });
}

/** "3 min ago" / "3 мин назад" from an ISO time. */
export function formatAgo(iso) {
  if (!iso) return t("common.never");
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (seconds < 60) return rtf.format(-Math.round(seconds), "second");
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), "minute");
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), "hour");
  return rtf.format(-Math.round(seconds / 86400), "day");
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = t("common.byte_units").split("|");
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(value, unit ? 1 : 0)} ${units[unit]}`;
}

/** A provider's or operation's title in the page's language (`title_i18n` of
 * GET /api/providers), else its English title. */
export function titleOf(item) {
  return item?.title_i18n?.[lang] || item?.title || "";
}
