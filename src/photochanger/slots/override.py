"""Unsaved slot-form values that an admin's test run applies over the stored slot
(SPEC §6.2). Validated by the slots service before the run; the ingest applies
them to its snapshot of the slot and never writes them back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from photochanger.slots.repository import SlotConfig


@dataclass(frozen=True)
class SlotOverride:
    provider: str | None = None
    operation: str | None = None
    settings: Mapping[str, Any] | None = None
    """Already normalised by the operation's settings model."""
    fallback: Mapping[str, Any] | None = None
    replaces_fallback: bool = False
    """True when the form sent `fallback` (null removes the slot's fallback)."""
    templates: Mapping[str, str | None] = field(default_factory=dict)
    """role -> template media id, merged over the slot's own by role; None drops the role."""
    on_failure: str | None = None
    max_input_megapixels: float | None = None
    keep_metadata: bool | None = None

    def apply(self, slot: SlotConfig) -> SlotConfig:
        fallback = slot.fallback
        if self.replaces_fallback:
            fallback = dict(self.fallback) if self.fallback else None
        return replace(
            slot,
            provider=self.provider or slot.provider,
            operation=self.operation or slot.operation,
            settings=dict(self.settings) if self.settings is not None else slot.settings,
            fallback=fallback,
            on_failure=self.on_failure or slot.on_failure,
            max_input_megapixels=self.max_input_megapixels or slot.max_input_megapixels,
            keep_metadata=slot.keep_metadata if self.keep_metadata is None else self.keep_metadata,
        )
