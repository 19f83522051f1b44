// What every page shares: the catalog, the header (navigation, language switch,
// logout), a place for notices, and one way to start a page.

import { api, errorText } from "./api.js";
import { copyText, fill, h } from "./dom.js";
import { lang, LANGUAGES, loadCatalog, setLanguage, t } from "./i18n.js";

const NAV = [
  ["/", "nav.dashboard"],
  ["/stats", "nav.stats"],
  ["/jobs", "nav.jobs"],
  ["/gallery", "nav.gallery"],
  ["/settings", "nav.settings"],
];

function languageSwitch() {
  // Each language named in itself, so a guest who cannot read the current one
  // still finds theirs.
  const names = { en: "English", ru: "Русский" };
  return h(
    "div",
    { class: "lang", role: "group", "aria-label": t("nav.language") },
    LANGUAGES.map((code) =>
      h("button", {
        type: "button",
        class: code === lang ? "chip active" : "chip",
        lang: code,
        "aria-pressed": code === lang ? "true" : "false",
        text: names[code],
        onclick: () => setLanguage(code),
      }),
    ),
  );
}

function header(admin) {
  const top = document.getElementById("top");
  const brand = h("a", { class: "brand", href: admin ? "/" : location.pathname, text: "PhotoChanger" });
  if (!admin) {
    fill(top, h("div", { class: "bar" }, brand, languageSwitch()));
    return;
  }
  const here = location.pathname;
  const links = NAV.map(([href, key]) => {
    const current = href === "/" ? here === "/" || here.startsWith("/slots/") : here.startsWith(href);
    return h("a", { href, "aria-current": current ? "page" : null, text: t(key) });
  });
  const logout = h("button", {
    type: "button",
    class: "chip",
    text: t("nav.logout"),
    onclick: async () => {
      try {
        await api("/api/logout", { method: "POST" });
      } finally {
        location.assign("/login");
      }
    },
  });
  fill(
    top,
    h(
      "div",
      { class: "bar" },
      brand,
      h("nav", { "aria-label": t("nav.label") }, links),
      h("div", { class: "tools" }, languageSwitch(), logout),
    ),
  );
}

/** A message at the top of the page: kind `error`, `ok` or `info`. */
export function notify(text, kind = "info") {
  let box = document.getElementById("notices");
  if (!box) {
    box = h("div", { id: "notices", class: "notices", "aria-live": "polite" });
    document.getElementById("main").prepend(box);
  }
  const item = h(
    "div",
    { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { text }),
    h("button", {
      type: "button",
      class: "icon",
      "aria-label": t("common.dismiss"),
      text: "×",
      onclick: () => item.remove(),
    }),
  );
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 6000);
  return item;
}

/** A "Copy" button for `text`, named `label` for screen readers; says whether it worked. */
export function copyButton(text, label) {
  return h("button", {
    type: "button",
    class: "chip",
    text: t("common.copy"),
    "aria-label": label,
    onclick: async () => {
      if (await copyText(text)) notify(t("common.copied"), "ok");
      else notify(t("common.copy_failed"), "error");
    },
  });
}

export function notifyError(error) {
  return notify(errorText(error), "error");
}

/**
 * Start a page: load the catalog, draw the header, then `render(main)`.
 * A failure while rendering shows as a notice in words, never a stack trace.
 */
export async function startPage(render, { admin = true, title } = {}) {
  await loadCatalog();
  if (title) document.title = `${t(title)} · PhotoChanger`;
  header(admin);
  const main = document.getElementById("main");
  fill(main);
  try {
    await render(main);
  } catch (error) {
    if (error?.status === 401) return; // on its way to the login page
    notifyError(error);
  }
}

/** A page heading with optional actions on its right. */
export function pageHeading(text, ...actions) {
  return h("div", { class: "page-head" }, h("h1", { text }), h("div", { class: "actions" }, actions));
}

/** Call `task` every `seconds` while the page is visible; returns a stop function. */
export function every(seconds, task) {
  let timer = null;
  const tick = async () => {
    if (document.visibilityState === "visible") {
      try {
        await task();
      } catch (error) {
        if (error?.status !== 401) console.warn("refresh failed", error?.reason || error);
      }
    }
    timer = setTimeout(tick, seconds * 1000);
  };
  timer = setTimeout(tick, seconds * 1000);
  return () => clearTimeout(timer);
}
