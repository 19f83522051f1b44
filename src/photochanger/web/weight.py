"""What a page costs the browser: its own module, every module it imports (the
graph of `import … from "./x.js"`), the stylesheet; vendored files apart.
Issue 16 §8 keeps a page under 150 KB of its own JS + CSS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from photochanger.web.shell import STATIC_DIR, Page

PAGE_BUDGET_BYTES = 150 * 1024
_IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}/[^"']+)["']""", re.M)


@dataclass(frozen=True)
class PageWeight:
    page: str
    own_bytes: int
    vendor_bytes: int
    files: tuple[str, ...]


def module_graph(entry: Path) -> list[Path]:
    seen: list[Path] = []
    pending = [entry.resolve()]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        for target in _IMPORT.findall(path.read_text("utf-8")):
            pending.append((path.parent / target).resolve())
    return seen


def page_weight(page: Page) -> PageWeight:
    modules = module_graph(STATIC_DIR / "js" / "pages" / f"{page.name}.js")
    files = [*modules, STATIC_DIR / "css" / "app.css"]
    vendor = [STATIC_DIR / "vendor" / name for name in (*page.vendor, *page.vendor_css)]
    return PageWeight(
        page=page.name,
        own_bytes=sum(path.stat().st_size for path in files),
        vendor_bytes=sum(path.stat().st_size for path in vendor),
        files=tuple(str(path.relative_to(STATIC_DIR)) for path in files),
    )
