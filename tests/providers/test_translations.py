"""Every provider carries its own Russian texts: each settings field has an
English and a Russian title and help, enum labels name real values, every
provider and operation has a Russian title, and the template roles an operation
declares are roles a template can have (providers spell them as strings, since
they may not import `template_media`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from photochanger.providers.base import Operation, ProviderDriver
from photochanger.providers.registry import PROVIDERS, TEST_PROVIDERS
from photochanger.template_media.schemas import TEMPLATE_ROLES

DRIVERS: tuple[type[ProviderDriver], ...] = (*PROVIDERS, *TEST_PROVIDERS)
PROPER_NAMES = frozenset({"Google Gemini", "OpenAI", "Turbotext"})
"""Titles that stay the same in Russian."""
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def operations() -> Iterator[tuple[str, Operation]]:
    for driver in DRIVERS:
        for name, op in driver.operations.items():
            yield f"{driver.name}.{name}", op


def fields() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, property schema, the model's whole schema) for every settings field."""
    for where, op in operations():
        schema = op.settings_model.model_json_schema()
        for name, prop in schema["properties"].items():
            yield f"{where}.{name}", prop, schema


FIELDS = list(fields())


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    resolved: dict[str, Any] = root["$defs"][ref.rsplit("/", 1)[-1]]
    return resolved


def labelled_nodes(
    node: dict[str, Any], root: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], set[str]]]:
    """Every schema node under a property (itself, its `anyOf` options, its
    `items`) with the enum values it offers, itself and through `anyOf`."""
    node = resolve(node, root)
    options = [resolve(option, root) for option in node.get("anyOf", [])]
    values = {str(v) for option in [node, *options] for v in option.get("enum", [])}
    yield node, values
    for option in options:
        yield from labelled_nodes(option, root)
    if "items" in node:
        yield from labelled_nodes(node["items"], root)


def test_it_sees_every_field() -> None:
    assert len(FIELDS) > 30
    assert {driver.name for driver in DRIVERS} >= {"local", "gemini", "openai", "turbotext"}


@pytest.mark.parametrize(("where", "prop", "root"), FIELDS, ids=[f[0] for f in FIELDS])
def test_every_field_has_english_and_russian_texts(
    where: str, prop: dict[str, Any], root: dict[str, Any]
) -> None:
    for key in ("title", "description"):
        assert prop.get(key, "").strip(), f"{where}: no English {key}"
        russian = prop.get("x-i18n", {}).get("ru", {}).get(key, "")
        assert russian.strip(), f"{where}: no Russian {key}"
        assert russian != prop[key], f"{where}: the Russian {key} is the English one"
        assert CYRILLIC.search(russian), f"{where}: the Russian {key} is not in Russian"


@pytest.mark.parametrize(("where", "prop", "root"), FIELDS, ids=[f[0] for f in FIELDS])
def test_enum_labels_name_real_values(
    where: str, prop: dict[str, Any], root: dict[str, Any]
) -> None:
    for node, values in labelled_nodes(prop, root):
        for lang, texts in node.get("x-i18n", {}).items():
            stale = set(texts.get("enum", {})) - values
            assert not stale, f"{where}: {lang} labels for no value: {sorted(stale)}"
            assert all(label.strip() for label in texts.get("enum", {}).values())
        stale = set(node.get("x-enum-labels", {})) - values
        assert not stale, f"{where}: English labels for no value: {sorted(stale)}"


def test_every_provider_and_operation_has_a_russian_title() -> None:
    titled: list[tuple[str, str, str]] = [
        (driver.name, driver.title, driver.title_i18n.get("ru", "")) for driver in DRIVERS
    ]
    titled += [(where, op.title, op.title_i18n.get("ru", "")) for where, op in operations()]
    for where, english, russian in titled:
        assert russian.strip(), f"{where}: no Russian title"
        if english not in PROPER_NAMES:
            assert CYRILLIC.search(russian), f"{where}: the Russian title is not in Russian"


def test_declared_template_roles_are_template_roles() -> None:
    declared = {role for _, op in operations() for role in op.template_roles}
    assert declared, "no operation declares a template role"
    assert declared <= set(TEMPLATE_ROLES)
    for where, op in operations():
        assert len(set(op.template_roles)) == len(op.template_roles), where
