// Template images of a slot, one drop zone per role the operation reads: drop or
// pick a file, see it, remove it. Uploads go to /api/template-media at once; the
// slot uses them once saved (a test run can try them before).

import { api, errorText } from "../api.js";
import { fill, h, uid } from "../dom.js";
import { t } from "../i18n.js";

const ACCEPT = "image/jpeg,image/png,image/webp";

/**
 * zones({slotId, roles, current, onChange}) → {element, setRoles(roles),
 * changes(): {role: id|null}} where `current` is the slot's template_media list.
 */
export function templateZones({ slotId, current, onChange }) {
  const byRole = new Map(current.map((item) => [item.role, item]));
  const changes = {}; // role -> new id, or null to remove
  const previews = new Map(); // role -> object URL of a file just picked
  const element = h("div", { class: "template-zones" });
  let roles = [];

  function shown(role) {
    if (role in changes) return changes[role] === null ? null : { id: changes[role], preview: previews.get(role) };
    const item = byRole.get(role);
    return item ? { id: item.id, preview: item.file_url, filename: item.filename } : null;
  }

  async function upload(role, file, zone) {
    const status = zone.querySelector(".zone-status");
    status.textContent = t("slot.templates_uploading");
    status.classList.remove("bad");
    const form = new FormData();
    form.append("slot_id", slotId);
    form.append("role", role);
    form.append("file", file, file.name);
    try {
      const info = await api("/api/template-media", { method: "POST", form });
      if (previews.has(role)) URL.revokeObjectURL(previews.get(role));
      previews.set(role, URL.createObjectURL(file));
      changes[role] = info.id;
      onChange();
      draw();
    } catch (error) {
      status.textContent = errorText(error);
      status.classList.add("bad");
    }
  }

  function zoneFor(role) {
    const inputId = uid(`template-${role}`);
    const picked = shown(role);
    const input = h("input", { type: "file", id: inputId, accept: ACCEPT, class: "offscreen-input" });
    const label = t(`role.${role}`);
    const zone = h("div", { class: "zone", dataset: { role } });
    input.addEventListener("change", () => {
      if (input.files?.[0]) upload(role, input.files[0], zone);
    });
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const file = event.dataTransfer?.files?.[0];
      if (file) upload(role, file, zone);
    });
    fill(
      zone,
      h("h3", { text: label }),
      picked
        ? h("img", { src: picked.preview, alt: t("slot.templates_preview", { role: label }), class: "zone-image" })
        : h("p", { class: "muted", text: t("slot.templates_empty") }),
      h("div", { class: "actions" },
        h("label", { for: inputId, class: "button", text: picked ? t("slot.templates_replace") : t("slot.templates_pick") }),
        input,
        picked
          ? h("button", { type: "button", class: "danger", text: t("slot.templates_remove"),
            "aria-label": t("slot.templates_remove_role", { role: label }),
            onclick: () => { changes[role] = null; onChange(); draw(); } })
          : null),
      h("p", { class: "zone-status small", "aria-live": "polite" }),
      h("p", { class: "help", text: t("slot.templates_drop") }),
    );
    return zone;
  }

  function draw() {
    if (!roles.length) {
      fill(element, h("p", { class: "muted", text: t("slot.templates_none") }));
      return;
    }
    fill(element, roles.map(zoneFor));
  }

  return {
    element,
    setRoles(next) {
      roles = next;
      draw();
    },
    /** The roles changed since the page loaded: id, or null to remove. */
    changes: () => ({ ...changes }),
    saved() {
      for (const [role, id] of Object.entries(changes)) {
        if (id === null) byRole.delete(role);
        else byRole.set(role, { id, role, file_url: previews.get(role) });
        delete changes[role];
      }
    },
  };
}
