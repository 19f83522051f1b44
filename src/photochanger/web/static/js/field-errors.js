// A 422's field errors on hand-built forms: each field is a `[data-field=<path>]`
// box holding its control and a hidden `.field-error` paragraph. (Generated
// forms place their own: `schemaForm().showErrors`.)

/** Mark the field named by the API's field path; its control, or null when the
 * form has no such field (the caller shows that error elsewhere). */
export function markField(container, path, message) {
  const box = container.querySelector(`[data-field="${CSS.escape(path)}"]`);
  const control = box?.querySelector("input, select, textarea");
  if (!control) return null;
  control.setAttribute("aria-invalid", "true");
  const text = box.querySelector(".field-error");
  if (text) {
    text.textContent = message;
    text.hidden = false;
  }
  return control;
}

/** Forget every mark under `container`. */
export function clearMarks(container) {
  container.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  container.querySelectorAll(".field-error").forEach((node) => { node.hidden = true; });
}
