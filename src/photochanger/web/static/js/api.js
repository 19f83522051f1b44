// The admin API from the browser: the session is the HttpOnly cookie the login
// set (the script never sees the token); every change carries the CSRF token
// from the readable `photochanger_csrf` cookie; a 401 goes to the login page and
// back; errors come back as `ApiError`, shown in words, never as raw JSON.

import { has, t } from "./i18n.js";

const CSRF_COOKIE = "photochanger_csrf";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.details || `HTTP ${status}`);
    this.status = status;
    this.reason = body?.failure_reason || (status >= 500 ? "internal_error" : "unknown");
    this.details = body?.details || "";
    this.fields = Array.isArray(body?.errors) ? body.errors : [];
    this.retryAfter = body?.retry_after ?? null;
    this.body = body;
  }
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function loginUrl() {
  const here = location.pathname + location.search;
  return `/login?next=${encodeURIComponent(here)}`;
}

/**
 * api("/api/slots") → parsed JSON. Options: method, json (a body to send as
 * JSON), form (FormData), signal, raw (return the Response itself), cache (the
 * fetch's cache mode, e.g. "no-cache" for an answer cacheable for others).
 */
export async function api(path, { method = "GET", json, form, signal, raw = false, cache } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, signal, cache, credentials: "same-origin",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { failure_reason: "network_error" });
  }
  if (response.status === 401 && !path.startsWith("/api/login")) {
    location.assign(loginUrl());
    throw new ApiError(401, { failure_reason: "not_authenticated" });
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** An error in the admin's words: the catalog's text for its failure_reason. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t("error.unexpected");
  const key = `error.${error.reason}`;
  let text = has(key) ? t(key) : t("error.http", { status: error.status });
  if (error.reason === "rate_limited" && error.retryAfter) {
    text += " " + t("error.retry_after", { seconds: Math.ceil(error.retryAfter) });
  }
  return text;
}
