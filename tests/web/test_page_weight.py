"""Every page's own JS + CSS stays under the budget (issue 16 §8), and the module
graph the weight is computed from is the one the browser loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from photochanger.web import endpoints
from photochanger.web.shell import STATIC_DIR, Page
from photochanger.web.weight import PAGE_BUDGET_BYTES, module_graph, page_weight

PAGES = [value for value in vars(endpoints).values() if isinstance(value, Page)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_page_stays_under_its_budget(page: Page) -> None:
    weight = page_weight(page)
    assert weight.own_bytes < PAGE_BUDGET_BYTES, weight
    assert "css/app.css" in weight.files


def test_the_graph_follows_imports_through_modules(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.js").write_text('import { b } from "../b.js";\n')
    (tmp_path / "b.js").write_text('export { c } from "./c.js";\nimport "./ignored-side-effect";\n')
    (tmp_path / "c.js").write_text("export const c = 1;\n")
    found = {path.name for path in module_graph(tmp_path / "pages" / "a.js")}
    assert found == {"a.js", "b.js", "c.js"}


def test_every_module_is_loaded_by_some_page() -> None:
    # A module no page imports is dead weight the tests above would not see.
    loaded = {
        path
        for page in PAGES
        for path in module_graph(STATIC_DIR / "js" / "pages" / f"{page.name}.js")
    }
    every = {path.resolve() for path in (STATIC_DIR / "js").rglob("*.js")}
    assert sorted(str(path) for path in every - loaded) == []
