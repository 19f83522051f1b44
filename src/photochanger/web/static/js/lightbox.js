// A photo shown large over the page, in a modal <dialog>: the page behind is
// inert, Tab cycles inside it, Esc closes, ← and → move through the photos,
// and focus goes back to whatever opened it.

import { h, uid } from "./dom.js";
import { t } from "./i18n.js";

const FOCUSABLE = "a[href], button:not([disabled]), [tabindex]:not([tabindex='-1'])";

/**
 * openLightbox(items, index, opener)
 * items: [{src, alt, caption, download?, links?: [{href, text}], pixelated?}]
 * `download` is the link the download button offers (no button without one).
 */
export function openLightbox(items, start, opener) {
  let index = start;
  const captionId = uid("lightbox");
  const caption = h("h2", { id: captionId, class: "lightbox-caption" });
  const position = h("p", { class: "muted small lightbox-position" });
  const image = h("img", { class: "lightbox-image", alt: "" });
  const download = h("a", { class: "button primary", download: "", text: t("lightbox.download") });
  const links = h("span", { class: "actions" });
  const several = items.length > 1;
  const move = (step) => {
    index = (index + step + items.length) % items.length;
    show();
  };
  const navButton = (step, key, symbol) => h("button", {
    type: "button", class: "lightbox-nav", "aria-label": t(key), text: symbol,
    hidden: !several, onclick: () => move(step),
  });
  const dialog = h(
    "dialog",
    { class: "lightbox", "aria-labelledby": captionId },
    h("div", { class: "lightbox-bar" },
      caption,
      h("button", {
        type: "button", class: "icon lightbox-close", "aria-label": t("lightbox.close"),
        text: "×", onclick: () => dialog.close(),
      })),
    h("div", { class: "lightbox-stage" },
      navButton(-1, "lightbox.previous", "‹"),
      image,
      navButton(1, "lightbox.next", "›")),
    h("div", { class: "lightbox-foot" }, position, links, download),
  );

  function show() {
    const item = items[index];
    image.src = item.src;
    image.alt = item.alt;
    image.classList.toggle("pixelated", Boolean(item.pixelated));
    caption.textContent = item.caption;
    position.textContent = several ? t("lightbox.position", { index: index + 1, count: items.length }) : "";
    download.hidden = !item.download;
    if (item.download) download.href = item.download;
    links.replaceChildren(...(item.links || []).map((link) =>
      h("a", { class: "button", href: link.href, text: link.text })));
  }

  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft" && several) {
      event.preventDefault();
      move(-1);
    } else if (event.key === "ArrowRight" && several) {
      event.preventDefault();
      move(1);
    } else if (event.key === "Tab") {
      // The rest of the page is inert already; this keeps Tab from leaving
      // for the browser's own controls.
      const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => !el.hidden);
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right
      && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  show();
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
