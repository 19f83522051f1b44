"""SECURITY.md names, for each threat, the tests that prove its defence: every
one of them must exist, so the page cannot keep naming a test that was renamed
or removed, and every threat must name at least one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECURITY = (ROOT / "SECURITY.md").read_text()
REFERENCE = re.compile(r"`((?:tests|bench)/[\w/]+(?:\.py)?/?)(?:::(\w+))?`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_test_the_threat_model_names_exists() -> None:
    references = REFERENCE.findall(SECURITY)
    assert len(references) >= 30
    for target, name in references:
        path = ROOT / target
        assert path.exists(), target
        if path.is_dir():
            assert any(path.glob("test_*.py")), f"{target} holds no test"
        elif name:
            assert name in defined_tests(path), f"{target}::{name}"


def test_every_threat_names_a_test() -> None:
    rows = [line for line in SECURITY.splitlines() if re.match(r"\| T\d+ \|", line)]
    assert len(rows) >= 15
    for row in rows:
        assert REFERENCE.search(row.split("|")[-2]), row.split("|")[1]
