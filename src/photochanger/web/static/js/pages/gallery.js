// The admin's gallery: the booth's latest photos per slot, and sharing them with
// the guests for 15 minutes (a countdown, revoke, the QR code guests scan, the
// ZIP). It refreshes itself, so photos arriving and another admin's share show.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { formatDateTime, formatTime, t } from "../i18n.js";
import { copyButton, every, notify, notifyError, pageHeading, startPage } from "../layout.js";
import { openLightbox } from "../lightbox.js";
import {
  formatCountdown, photoIds, photoSections, secondsUntil, syncClock,
} from "../gallery-view.js";

const SHARE_MINUTES = 15;
const REFRESH_SECONDS = 10;
const QR_URL = "/pubgallery/qr.png";
const ZIP_URL = "/pub/gallery.zip";

async function loadGallery() {
  const response = await api("/api/gallery", { raw: true });
  syncClock(response);
  return response.json();
}

function qrBlock(pageUrl) {
  const alt = t("gallery.qr_alt", { url: pageUrl });
  const button = h(
    "button",
    {
      type: "button", class: "qr-button", "aria-label": t("gallery.qr_show"),
      onclick: () => openLightbox(
        [{ src: QR_URL, alt, caption: t("gallery.qr_help"), download: QR_URL, pixelated: true }],
        0, button),
    },
    h("img", { src: QR_URL, alt, width: 164, height: 164, class: "qr" }),
  );
  return h("figure", { class: "qr-figure" }, button,
    h("figcaption", { class: "muted small", text: t("gallery.qr_help") }));
}

startPage(async (main) => {
  const shareBox = h("section", { class: "card share-card", "aria-labelledby": "share-heading" });
  const photos = h("div", { class: "photo-slots" });
  main.append(pageHeading(t("gallery.heading")), shareBox, photos);

  let data = await loadGallery();
  let shownIds = null;
  let shownShare = null;
  let busy = false;
  const countdown = h("strong", { class: "countdown", "aria-live": "off" });

  const change = async (method, json, okText) => {
    if (busy) return;
    busy = true;
    shareBox.setAttribute("aria-busy", "true");
    try {
      const state = await api("/api/gallery/share", { method, json });
      data = { ...data, share: state };
      notify(okText(state), "ok");
    } catch (error) {
      notifyError(error);
    } finally {
      busy = false;
      shareBox.removeAttribute("aria-busy");
      drawShare();
    }
  };
  const share = () => change("POST", { minutes: SHARE_MINUTES },
    (state) => t("gallery.shared_ok", { time: formatTime(state.share_until) }));
  const revoke = () => change("DELETE", undefined, () => t("gallery.revoked_ok"));

  function drawShare() {
    const state = data.share;
    const open = state.open && secondsUntil(state.share_until) > 0;
    // Redrawn only when something changed: a refresh must not take the focus
    // from a button the admin is on.
    const key = JSON.stringify([state, open, data.page_url]);
    if (key === shownShare) return;
    shownShare = key;
    const focused = shareBox.contains(document.activeElement)
      ? document.activeElement.dataset.action : null;
    const status = open
      ? [
          h("p", { class: "share-status" },
            h("span", { class: "pill ok", text: t("gallery.shared") }), " ",
            t("gallery.open_until", { time: formatTime(state.share_until) }), " ", countdown),
        ]
      : [
          h("p", { class: "share-status" },
            h("span", { class: "pill off", text: t("gallery.not_shared") }), " ",
            t("gallery.closed_help")),
        ];
    const buttons = [
      h("button", {
        type: "button", class: "primary", dataset: { action: "share" }, onclick: share,
        text: t(open ? "gallery.reshare" : "gallery.share", { minutes: SHARE_MINUTES }),
      }),
      open ? h("button", { type: "button", class: "danger", dataset: { action: "revoke" },
        onclick: revoke, text: t("gallery.revoke") }) : null,
      open ? h("a", { class: "button", href: ZIP_URL, download: "", text: t("gallery.zip") }) : null,
    ];
    const changed = state.updated_at
      ? h("p", { class: "muted small", text: t("gallery.last_change",
          { time: formatDateTime(state.updated_at), who: state.updated_by || "—" }) })
      : null;
    fill(
      shareBox,
      h("div", { class: "share-main" },
        h("h2", { id: "share-heading", text: t("gallery.share_heading") }),
        status,
        h("div", { class: "actions" }, buttons),
        open ? null : h("p", { class: "muted small", text: t("gallery.zip_closed") }),
        h("p", { class: "label", text: t("gallery.public_link") }),
        h("div", { class: "copy-row" },
          h("code", { class: "url", text: data.page_url }),
          copyButton(data.page_url, t("gallery.copy_link")),
          h("a", { class: "chip button", href: "/pubgallery", target: "_blank", rel: "noopener",
            text: t("gallery.open_public") })),
        changed),
      qrBlock(data.page_url),
    );
    if (focused) {
      (shareBox.querySelector(`[data-action="${focused}"]`)
        || shareBox.querySelector("[data-action='share']")).focus();
    }
    tick();
  }

  function tick() {
    const state = data.share;
    if (!state.open) return;
    const left = secondsUntil(state.share_until);
    countdown.textContent = t("gallery.time_left", { left: formatCountdown(left) });
    if (left === 0) {
      // The window just ended: the server closes it by itself; show that.
      data = { ...data, share: { ...state, open: false } };
      drawShare();
    }
  }

  function drawPhotos() {
    const ids = photoIds(data.slots);
    // Not under an open lightbox: it keeps the list it was opened with.
    if (ids === shownIds || document.querySelector("dialog[open]")) return;
    shownIds = ids;
    fill(
      photos,
      h("p", { class: "muted", text: t("gallery.help") }),
      data.slots.length
        ? photoSections(data.slots, {
            slotLink: (slot) => `/slots/${encodeURIComponent(slot.slot_id)}`,
            guestLinks: true,
          })
        : h("p", { class: "card empty", text: t("gallery.empty") }),
    );
  }

  drawShare();
  drawPhotos();
  setInterval(tick, 1000);
  every(REFRESH_SECONDS, async () => {
    if (busy) return;
    data = await loadGallery();
    drawShare();
    drawPhotos();
  });
}, { title: "gallery.title" });
