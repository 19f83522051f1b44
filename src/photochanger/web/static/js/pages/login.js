// The login page: username, password (with show), errors in words, then back to
// the page the admin asked for.

import { api, ApiError } from "../api.js";
import { h, uid } from "../dom.js";
import { t } from "../i18n.js";
import { startPage } from "../layout.js";

function nextPage() {
  const target = new URLSearchParams(location.search).get("next") || "/";
  // Only a path of this site (the server checks the same on its redirect).
  return target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\")
    ? target : "/";
}

function field(label, input) {
  const id = uid("login");
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input);
}

startPage(
  async (main) => {
    const username = h("input", {
      name: "username", autocomplete: "username", required: true, maxlength: 64,
      autocapitalize: "none", spellcheck: "false",
    });
    const password = h("input", {
      name: "password", type: "password", autocomplete: "current-password", required: true,
      maxlength: 1024,
    });
    const showId = uid("show");
    const show = h("input", {
      type: "checkbox", id: showId,
      onchange: () => { password.type = show.checked ? "text" : "password"; },
    });
    const message = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary", text: t("login.submit") });
    const form = h(
      "form",
      { class: "card narrow", novalidate: false },
      h("h1", { text: t("login.heading") }),
      field(t("login.username"), username),
      field(t("login.password"), password),
      h("div", { class: "check" }, show, h("label", { for: showId, text: t("login.show_password") })),
      message,
      submit,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      message.hidden = true;
      submit.disabled = true;
      try {
        await api("/api/login", {
          method: "POST",
          json: { username: username.value.trim(), password: password.value },
        });
        location.assign(nextPage());
      } catch (error) {
        message.textContent = loginError(error);
        message.hidden = false;
        password.select();
      } finally {
        submit.disabled = false;
      }
    });
    main.append(h("div", { class: "center" }, form));
    username.focus();
  },
  { admin: false },
);

function loginError(error) {
  if (!(error instanceof ApiError)) return t("error.unexpected");
  if (error.status === 401) return t("login.wrong");
  if (error.status === 429) {
    const minutes = Math.max(1, Math.ceil((error.retryAfter || 60) / 60));
    return t("login.locked", { minutes });
  }
  if (error.status === 0) return t("error.network_error");
  return t("login.failed");
}
