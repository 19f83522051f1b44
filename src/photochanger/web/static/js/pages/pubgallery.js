// The public gallery for guests (SPEC §6.7): the shared photos per slot, when
// it closes, the ZIP. It follows the share window by itself: it closes when the
// time is up or the studio stops sharing, and opens when the studio shares again.
// A 429 (30 requests a minute per guest) waits as long as the server says.

import { api, ApiError } from "../api.js";
import { fill, h } from "../dom.js";
import { formatTime, t } from "../i18n.js";
import { pageHeading, startPage } from "../layout.js";
import {
  formatCountdown, photoIds, photoSections, secondsUntil, syncClock,
} from "../gallery-view.js";

const OPEN_REFRESH_SECONDS = 60; // the server caches the content for 30 s
const CLOSED_REFRESH_SECONDS = 30;
const FAILED_RETRY_SECONDS = 20;

startPage(async (main) => {
  // Not a live region: the countdown in it changes every second.
  const status = h("div", { class: "pub-status" });
  const zip = h("a", { class: "button primary", href: "/pub/gallery.zip", download: "",
    text: t("pubgallery.zip"), hidden: true });
  const photos = h("div", { class: "photo-slots" });
  const notice = h("p", { class: "notice error pub-notice", role: "alert", hidden: true });
  main.append(pageHeading(t("pubgallery.heading"), zip), notice, status, photos);

  let shareUntil = null;
  let shownIds = null;
  let timer = null;
  const countdown = h("strong", { class: "countdown" });

  const later = (seconds, task) => {
    clearTimeout(timer);
    timer = setTimeout(task, seconds * 1000);
  };

  function showClosed() {
    shareUntil = null;
    shownIds = null;
    zip.hidden = true;
    fill(status);
    fill(photos, h("section", { class: "card closed", "aria-labelledby": "closed-heading" },
      h("h2", { id: "closed-heading", text: t("pubgallery.closed_heading") }),
      h("p", { text: t("pubgallery.closed_text") })));
  }

  function showOpen(gallery) {
    zip.hidden = gallery.slots.length === 0;
    if (gallery.share_until !== shareUntil || !status.firstChild) {
      shareUntil = gallery.share_until;
      fill(status, h("p", {},
        t("pubgallery.open_until", { time: formatTime(shareUntil) }), " ", countdown));
    }
    tick();
    const ids = photoIds(gallery.slots);
    if (ids === shownIds || document.querySelector("dialog[open]")) return;
    shownIds = ids;
    fill(photos, gallery.slots.length
      ? photoSections(gallery.slots)
      : h("p", { class: "card empty", text: t("pubgallery.empty") }));
  }

  function tick() {
    if (!shareUntil) return;
    const left = secondsUntil(shareUntil);
    countdown.textContent = t("pubgallery.closes_in", { left: formatCountdown(left) });
    if (left === 0) {
      shareUntil = null;
      later(1, load); // the server closes it now; ask, don't guess
    }
  }

  async function load() {
    if (document.visibilityState === "hidden") {
      // A phone in a pocket asks nothing: a venue's guests often share one
      // address and its 30 requests a minute. Back in view, it asks at once.
      waitingHidden = true;
      return;
    }
    try {
      // Cacheable for 30 s for a proxy, but this browser must see a revocation
      // at once: always ask (the server keeps the content cached anyway).
      const response = await api("/pub/gallery", { raw: true, cache: "no-cache" });
      syncClock(response);
      notice.hidden = true;
      showOpen(await response.json());
      later(OPEN_REFRESH_SECONDS, load);
    } catch (error) {
      if (error instanceof ApiError && error.reason === "gallery_closed") {
        notice.hidden = true;
        showClosed();
        later(CLOSED_REFRESH_SECONDS, load);
        return;
      }
      const limited = error instanceof ApiError && error.status === 429;
      const wait = limited ? Math.max(1, Math.ceil(error.retryAfter || 60)) : FAILED_RETRY_SECONDS;
      waitAndRetry(limited ? "pubgallery.rate_limited" : "pubgallery.failed", wait);
    }
  }

  function waitAndRetry(key, seconds) {
    // What was shown stays. The alert is said once; the seconds to the next
    // try tick beside it for the eye only (a live region would repeat them).
    let left = seconds;
    const next = h("span", { class: "retry-in", "aria-hidden": "true" });
    const show = () => { next.textContent = t("pubgallery.retry_in", { seconds: left }); };
    fill(notice, h("span", { text: t(key) }), " ", next);
    notice.hidden = false;
    show();
    clearTimeout(timer);
    const step = () => {
      left -= 1;
      if (left <= 0) {
        load();
        return;
      }
      show();
      timer = setTimeout(step, 1000);
    };
    timer = setTimeout(step, 1000);
  }

  let waitingHidden = false;
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && waitingHidden) {
      waitingHidden = false;
      load();
    }
  });
  if (document.documentElement.dataset.state === "closed") showClosed();
  setInterval(tick, 1000);
  await load();
}, { admin: false, title: "pubgallery.title" });
