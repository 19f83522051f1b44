"""The two doors a photo comes through: the booth's ingest (SPEC §3) and an
admin's test run (SPEC §6.2). One code path serves both; what differs between
them is this one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from photochanger.models.job import JobSource
from photochanger.multipart import FILE_FIELD
from photochanger.slots.override import SlotOverride
from photochanger.slots.repository import SlotConfig

TEST_IMAGE_FIELD = "test_image"
SLOT_PAYLOAD_FIELD = "slot_payload"
SLOT_PAYLOAD_LIMIT_BYTES = 192 * 1024
"""Room for a 32,000-character prompt in any script; inside the multipart body's
overhead allowance beyond the file limit."""


@dataclass(frozen=True)
class Door:
    """How a photo came in, and what that decides for its job."""

    source: JobSource
    file_field: str
    """The multipart part the photo arrives in."""
    long_fields: Mapping[str, int]
    """Text fields read whole up to their byte limit (see `parse_upload_form`)."""
    needs_password: bool
    dedupes: bool
    """Whether a photo sent again is answered by its original (SPEC §3.5): a
    booth re-sends when it got no answer; an admin's test run always runs."""
    runs_inactive_slot: bool
    """An admin may try a slot before switching it on."""
    metered: bool
    """Counted in the ingest metrics (SPEC §8): what a booth sees. An admin's
    test run is not (its provider calls and any refusal are)."""
    override: SlotOverride | None = None
    """The test run's unsaved slot-form values, applied over the stored slot."""

    def with_override(self, override: SlotOverride) -> Door:
        return replace(self, override=override)

    def slot_to_run(self, slot: SlotConfig) -> SlotConfig:
        return slot if self.override is None else self.override.apply(slot)

    @property
    def replacing_templates(self) -> Mapping[str, str | None]:
        """role -> template media id the run uses instead of the slot's own."""
        return {} if self.override is None else self.override.templates


BOOTH = Door(
    source=JobSource.ingest,
    file_field=FILE_FIELD,
    long_fields={},
    needs_password=True,
    dedupes=True,
    runs_inactive_slot=False,
    metered=True,
)
TEST_RUN = Door(
    source=JobSource.ui_test,
    file_field=TEST_IMAGE_FIELD,
    long_fields={SLOT_PAYLOAD_FIELD: SLOT_PAYLOAD_LIMIT_BYTES},
    needs_password=False,
    dedupes=False,
    runs_inactive_slot=True,
    metered=False,
)
"""Its `override` is set once the form's `slot_payload` is checked."""
