// A result's guest page (SPEC §10), what the booth's QR code opens on a guest's
// phone: the photo large, download, and the phone's own share sheet where the
// browser has one. The server already said whether the photo is there
// (data-state on <html>: ready, not_found, expired).

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { notify, startPage } from "../layout.js";

const EXTENSIONS = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

function gone(main, heading, text) {
  document.title = `${t(heading)} · PhotoChanger`;
  main.append(h("section", { class: "card guest-gone" },
    h("h1", { text: t(heading) }),
    h("p", { text: t(text) })));
}

/** The photo as a file for the share sheet, fetched once the image has shown. */
async function photoFile(src, jobId) {
  try {
    const response = await fetch(src, { credentials: "same-origin" });
    if (!response.ok) return null;
    const blob = await response.blob();
    const extension = EXTENSIONS[blob.type] || "jpg";
    return new File([blob], `photochanger-${jobId}.${extension}`, { type: blob.type });
  } catch {
    return null;
  }
}

startPage(async (main) => {
  const state = document.documentElement.dataset.state;
  if (state === "not_found") return gone(main, "guest.not_found_heading", "guest.not_found_text");
  if (state === "expired") return gone(main, "guest.expired_heading", "guest.expired_text");

  const jobId = decodeURIComponent(location.pathname.split("/").pop());
  const src = `/public/results/${encodeURIComponent(jobId)}`;
  let file = null;
  const image = h("img", { class: "guest-photo", src, alt: t("guest.alt") });
  const actions = h("div", { class: "actions guest-actions" },
    h("a", { class: "button primary", href: src, download: "", text: t("guest.download") }));

  if (typeof navigator.share === "function") {
    const share = h("button", {
      type: "button", text: t("guest.share"),
      onclick: async () => {
        // The photo itself where the phone can share files (straight into a
        // messenger or the camera roll), else the page's link.
        const data = file && navigator.canShare?.({ files: [file] })
          ? { files: [file], title: t("guest.share_title") }
          : { url: location.href, title: t("guest.share_title") };
        try {
          await navigator.share(data);
        } catch (error) {
          if (error?.name !== "AbortError") notify(t("guest.share_failed"), "error");
        }
      },
    });
    actions.append(share);
    image.addEventListener("load", async () => {
      file = await photoFile(src, jobId);
      share.dataset.file = file ? "ready" : "none";
    }, { once: true });
  }
  image.addEventListener("error", () => {
    // Removed between the page and the picture (expiry, cleanup).
    image.replaceWith(h("p", { class: "notice error", role: "alert", text: t("guest.image_failed") }));
    actions.remove();
  });

  main.append(h("div", { class: "guest" },
    h("h1", { text: t("guest.heading") }),
    h("figure", { class: "guest-figure" }, image),
    actions,
    h("p", { class: "muted small", text: t("guest.hint") })));
}, { admin: false, title: "guest.title" });
