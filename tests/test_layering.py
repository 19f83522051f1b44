"""The package's imports keep to its layering (docs/development.md).

Every `import` and `from … import` in src/photochanger is read with `ast` and
judged by the table below. The rule, low layer to high:

- A module may import its own package, and any module of a lower layer.
- In a layer marked `isolated`, packages do not import each other, except
  along a written `FEATURE_USES` edge; those edges form no cycle.
- The HTTP edge: every `<package>.endpoints` and `<package>.dependencies`
  module (and the few modules named in the table) sits above the features and
  the ingest. Edge modules of different packages import only each other's
  `dependencies` modules (the typed dependencies: `AdminUser`, `SlotServiceDep`).
- Anything else is an error naming the module, the line and the import; so is a
  module the table does not place, and an exception that is no longer needed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "photochanger"
ROOT_PACKAGE = "photochanger"
ROOT_MODULE = "__init__"
"""How the table names `photochanger/__init__.py` (the version)."""

EDGE = "edge"
EDGE_SUFFIXES = ("endpoints", "dependencies")
SHARED_EDGE_SUFFIX = "dependencies"


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]
    """Module names (relative to `photochanger`), each standing for itself and
    everything below it; the longest that matches a module places it."""
    isolated: bool = False


LAYERS = (
    Layer(
        "foundation",
        (
            ROOT_MODULE,
            "config",
            "errors",
            "deadline",
            "logs",
            "db",
            "models",
            "migrations",
            "migrate",
            "workers",
            "samples",
            "photo_memory",
            "json_values",
        ),
    ),
    Layer("metrics", ("metrics",)),
    Layer("media", ("media",)),
    Layer("providers", ("providers",)),
    Layer("multipart", ("multipart",)),
    Layer("audit", ("audit",)),
    Layer(
        "features",
        ("settings", "auth", "slots", "template_media", "jobs", "gallery", "stats", "cleanup"),
        isolated=True,
    ),
    Layer("ingest", ("ingest",)),
    Layer("container", ("dependencies",)),
    Layer(
        EDGE,
        ("ingest.test_run", "health", "middleware", "http_protocol", "query_params", "web"),
        isolated=True,
    ),
    Layer("wiring", ("app", "cli", "__main__", "providers.check", "backup")),
)
"""Low to high. `providers.check` is the `provider-check` command and `backup` the
`backup` and `restore` commands: they build their own database and store like the
CLI around them."""

FEATURE_USES: Mapping[str, Mapping[str, str]] = {
    "auth": {"settings.repository": "the signing secret is a stored setting"},
    "gallery": {"settings.repository": "the gallery's share is a stored setting"},
    "cleanup": {
        "auth.repository": "it prunes old login failures",
        "slots.repository": "it checks the slot it is asked to clean",
    },
    "slots": {
        "template_media": "a slot lists and binds the template images it uses",
        "settings.repository": "spend is shown in the saved price table's currency",
        "stats.rollup": "a slot's spend today is read from the statistics rollups",
    },
    "stats": {
        "settings.repository": "spend is shown in the saved price table's currency",
        "jobs.export": "the spend CSV guards its cells as the job export does",
    },
}
"""The one-way uses between feature packages: importer -> module prefix -> why."""

EXCEPTIONS: Mapping[tuple[str, str], str] = {}
"""Imports against the rule, each with why it stands for now (importer, imported)."""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


@dataclass(frozen=True)
class Place:
    layer: int
    package: str


def module_names(source: Path) -> dict[str, Path]:
    """Every module of the package by its name relative to `photochanger`."""
    names = {}
    for path in sorted(source.rglob("*.py")):
        parts = list(path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts) or ROOT_MODULE] = path
    return names


def _relative(name: str) -> str | None:
    if name == ROOT_PACKAGE:
        return ROOT_MODULE
    if name.startswith(ROOT_PACKAGE + "."):
        return name[len(ROOT_PACKAGE) + 1 :]
    return None


def imports_of(
    importer: str, code: str, known: Iterable[str], *, is_package: bool = False
) -> Iterator[Import]:
    """The package's own modules that `code` (module `importer`) imports."""
    known = set(known)
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _relative(alias.name)
                if target is not None:
                    yield Import(importer, target, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolved against the importer's package
                base = package[: len(package) - node.level + 1]
                module = ".".join([ROOT_PACKAGE, *base, *([module] if module else [])])
            target = _relative(module)
            if target is None:
                continue
            for alias in node.names:
                below = alias.name if target == ROOT_MODULE else f"{target}.{alias.name}"
                yield Import(importer, below if below in known else target, node.lineno)


def _covers(prefix: str, module: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def place(module: str) -> Place | None:
    """The module's layer and package, or None when the table does not say."""
    package = module.split(".")[0]
    edge_layer = next(index for index, layer in enumerate(LAYERS) if layer.name == EDGE)
    if "." in module and module.rsplit(".", 1)[1] in EDGE_SUFFIXES:
        return Place(edge_layer, package)
    matches = [
        (len(prefix), index)
        for index, layer in enumerate(LAYERS)
        for prefix in layer.modules
        if _covers(prefix, module)
    ]
    if not matches:
        return None
    return Place(max(matches)[1], package)


def problem(found: Import) -> str | None:
    """Why `found` runs against the layering, or None when it keeps to it."""
    where = f"{found.importer} (line {found.line}) imports {found.imported}"
    if (found.importer, found.imported) in EXCEPTIONS:
        return None
    importer, imported = place(found.importer), place(found.imported)
    if importer is None:
        return f"{found.importer} has no layer in LAYERS: place it"
    if imported is None:
        return f"{found.imported} has no layer in LAYERS: place it"
    if importer.package == imported.package or imported.layer < importer.layer:
        return None
    low, high = LAYERS[imported.layer].name, LAYERS[importer.layer].name
    if imported.layer > importer.layer:
        return f"{where}: the {high} layer must not import the {low} layer above it"
    layer = LAYERS[importer.layer]
    if not layer.isolated:
        return None
    if layer.name == EDGE and found.imported.endswith("." + SHARED_EDGE_SUFFIX):
        return None
    uses = FEATURE_USES.get(importer.package, {})
    if any(_covers(prefix, found.imported) for prefix in uses):
        return None
    return (
        f"{where}: {importer.package} and {imported.package} are both in the "
        f"{layer.name} layer and must not import each other "
        "(write the use in FEATURE_USES if it is one-way and meant)"
    )


def all_imports() -> list[Import]:
    modules = module_names(SOURCE)
    return [
        found
        for name, path in modules.items()
        for found in imports_of(
            name, path.read_text(encoding="utf-8"), modules, is_package=path.stem == "__init__"
        )
    ]


def test_every_import_keeps_to_the_layering() -> None:
    problems = sorted({text for found in all_imports() if (text := problem(found))})
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_every_module_has_a_layer() -> None:
    unplaced = [name for name in module_names(SOURCE) if place(name) is None]
    assert not unplaced, f"modules LAYERS does not place: {unplaced}"


def test_every_exception_is_still_needed() -> None:
    used = {(found.importer, found.imported) for found in all_imports()}
    stale = [pair for pair in EXCEPTIONS if pair not in used]
    assert not stale, f"EXCEPTIONS no longer needed, delete them: {stale}"


def test_feature_uses_run_one_way() -> None:
    graph = {
        importer: {prefix.split(".")[0] for prefix in uses}
        for importer, uses in FEATURE_USES.items()
    }
    features = next(layer for layer in LAYERS if layer.name == "features").modules
    assert set(graph) | {used for uses in graph.values() for used in uses} <= set(features)

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            used == goal or (used not in seen and reaches(used, goal, seen | {used}))
            for used in graph.get(start, ())
        )

    cycles = [package for package in graph if reaches(package, package)]
    assert not cycles, f"FEATURE_USES runs in a circle through {cycles}"


# --- the checker itself can fail ----------------------------------------------

KNOWN = ("media.store", "ingest.service", "slots.service", "gallery.service", "ingest")


@pytest.mark.parametrize(
    ("importer", "code", "expected"),
    [
        (
            "media.store",
            "from photochanger.ingest.service import IngestService\n",
            "media.store (line 1) imports ingest.service: the media layer must not "
            "import the ingest layer above it",
        ),
        (
            "slots.service",
            "\nimport photochanger.gallery.service\n",
            "slots.service (line 2) imports gallery.service: slots and gallery are both "
            "in the features layer and must not import each other",
        ),
        (
            "media.store",
            "from photochanger import ingest\n",
            "media.store (line 1) imports ingest: the media layer",
        ),
        (
            "media.store",
            "from ..ingest import service\n",
            "media.store (line 1) imports ingest.service: the media layer",
        ),
        (
            "slots.endpoints",
            "from photochanger.gallery.endpoints import router\n",
            "slots.endpoints (line 1) imports gallery.endpoints: slots and gallery are "
            "both in the edge layer",
        ),
        ("jobs.service", "from photochanger.widgets import x\n", "widgets has no layer"),
    ],
)
def test_the_checker_names_an_import_against_the_layering(
    importer: str, code: str, expected: str
) -> None:
    found = list(imports_of(importer, code, KNOWN))
    assert len(found) == 1
    text = problem(found[0])
    assert text is not None
    assert text.startswith(expected)


@pytest.mark.parametrize(
    ("importer", "code"),
    [
        ("ingest.service", "from photochanger.media.store import MediaStore\n"),
        ("slots.service", "from photochanger.template_media.schemas import TemplateRole\n"),
        ("slots.service", "from photochanger.slots.repository import SlotRepository\n"),
        ("gallery.endpoints", "from photochanger.auth.dependencies import AdminUser\n"),
        ("config", "from photochanger.errors import InvalidRequest\n"),
        ("media.store", "import json\nfrom pathlib import Path\n"),
    ],
)
def test_the_checker_lets_a_layered_import_pass(importer: str, code: str) -> None:
    assert all(problem(found) is None for found in imports_of(importer, code, KNOWN))
