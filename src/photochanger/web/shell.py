"""The HTML every page starts as: a shell with the page's title, its stylesheet
and its module. The page's script renders the rest from the API, with text from
the language's catalog; nothing the server puts here comes from a request
except the chosen language, and every value is escaped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from photochanger.web.catalog import catalog

STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Page:
    name: str
    """The module `static/js/pages/{name}.js` and the catalog's `{name}.title`."""
    admin: bool = True
    """Needs a logged-in admin; the public gallery and the guest page do not."""
    vendor: tuple[str, ...] = ()
    """Vendored scripts under `static/vendor/`, loaded only by this page."""
    vendor_css: tuple[str, ...] = ()
    """Vendored stylesheets under `static/vendor/`, loaded only by this page,
    before app.css so that the app's rules (the dark theme) win."""


@cache
def asset_version(relative: str) -> str:
    """A short hash of a static file: its URL changes when the file does, so a
    browser never runs yesterday's script against today's API."""
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:10]


def _asset(relative: str) -> str:
    return f"/static/{relative}?v={asset_version(relative)}"


def render(page: Page, language: str, *, state: str | None = None) -> str:
    """The page's HTML. `state` (e.g. `not_found`) tells the script what the
    server already knows about the thing shown."""
    text = catalog(language)
    title = f"{text[f'{page.name}.title']} · PhotoChanger"
    vendor = "".join(
        f'<script src="{escape(_asset("vendor/" + name))}" defer></script>\n'
        for name in page.vendor
    )
    vendor_css = "".join(
        f'<link rel="stylesheet" href="{escape(_asset("vendor/" + name))}">\n'
        for name in page.vendor_css
    )
    data_state = f' data-state="{escape(state)}"' if state else ""
    return f"""<!doctype html>
<html lang="{escape(language)}" data-page="{escape(page.name)}"{data_state}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(title)}</title>
<link rel="icon" href="{escape(_asset("img/icon.svg"))}" type="image/svg+xml">
{vendor_css}<link rel="stylesheet" href="{escape(_asset("css/app.css"))}">
{vendor}<script type="module" src="{escape(_asset(f"js/pages/{page.name}.js"))}"></script>
</head>
<body>
<a class="skip" href="#main">{escape(text["common.skip"])}</a>
<header id="top" class="top"></header>
<main id="main" tabindex="-1"><p class="muted">{escape(text["common.loading"])}</p></main>
<noscript><p class="notice">{escape(text["common.noscript"])}</p></noscript>
</body>
</html>
"""
