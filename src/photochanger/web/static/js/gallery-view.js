// What the admin's gallery and the public one share: the photos of each slot as
// lazy-loaded previews that open the lightbox, and the time left of a share
// window counted by the server's clock.

import { h, uid } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { openLightbox } from "./lightbox.js";

let clockOffset = 0; // the server's time minus this device's, in ms

/**
 * Learn the server's clock from an answer's Date header: a venue laptop's clock
 * may be minutes off, and the countdown must end when the server closes.
 */
export function syncClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const offset = date - Date.now();
  // The header has whole seconds and the answer took some time: a small
  // difference is that, not a wrong clock.
  clockOffset = Math.abs(offset) > 3000 ? offset : 0;
}

export function secondsUntil(iso) {
  if (!iso) return 0;
  return Math.max(0, Math.ceil((new Date(iso).getTime() - Date.now() - clockOffset) / 1000));
}

/** 905 → "15:05", 3725 → "1:02:05". */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours ? `${hours}:${two(minutes)}:${two(s % 60)}` : `${minutes}:${two(s % 60)}`;
}

/** The job ids shown, to tell whether a refresh changed anything. */
export function photoIds(slots) {
  return slots.flatMap((slot) => slot.results.map((result) => result.job_id)).join(",");
}

/**
 * One <section> per slot with its photos. Options: `slotLink(slot)` makes the
 * heading a link; `guestLinks` adds the guest page to each photo's lightbox.
 */
export function photoSections(slots, { slotLink, guestLinks = false } = {}) {
  const items = [];
  const sections = slots.map((slot) => {
    const headingId = uid("slot");
    const heading = h("h2", { id: headingId },
      slotLink ? h("a", { href: slotLink(slot), text: slot.name }) : slot.name);
    const thumbs = slot.results.map((result) => {
      const time = formatTime(result.finished_at);
      const alt = t("gallery.photo_alt", { slot: slot.name, time });
      const position = items.length;
      items.push({
        src: result.result_url,
        alt,
        caption: `${slot.name} · ${time}`,
        download: result.result_url,
        links: guestLinks
          ? [{ href: `/r/${encodeURIComponent(result.job_id)}`, text: t("gallery.guest_page") }]
          : [],
      });
      const button = h(
        "button",
        {
          type: "button", class: "thumb", dataset: { job: result.job_id },
          onclick: () => openLightbox(items, position, button),
        },
        h("img", {
          src: result.preview_url, alt, loading: "lazy", decoding: "async", width: 256, height: 256,
        }),
        h("span", { class: "thumb-time", "aria-hidden": "true", text: time }),
      );
      return h("li", {}, button);
    });
    return h(
      "section",
      { class: "photo-slot", "aria-labelledby": headingId, dataset: { slot: slot.slot_id } },
      heading,
      h("ul", { class: "photo-grid" }, thumbs),
    );
  });
  return sections;
}
