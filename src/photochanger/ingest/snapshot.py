"""What an ingest needs from the database before it reads the body: the runtime
settings and the slot, with the `config_version` they were read at.

Reading them was a database round trip on every ingest (a third of the database
work of a small photo, bench/README.md), for values that change a few times an
event. So each slot's last snapshot is kept and reused, and the admission, which
runs in the serialized transaction anyway, checks that `config_version` has not
moved, and reads a fresh snapshot to admit on when it has (`admission.py`).
SPEC §3.4 holds on every replica: a change committed anywhere bumps the version
by trigger, and the next ingest's admission sees it. A reused snapshot is never
the reason for a refusal either: an ingest that fails validation on one is
validated again on a fresh read. A fresh snapshot is used as read (as every one
was before): each request reads at most twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, select

from photochanger.config import GLOBAL_UPLOAD_CAP_MB, MB
from photochanger.db import Database
from photochanger.models.config_version import CONFIG_VERSION_ROW, ConfigVersion
from photochanger.settings.schemas import RuntimeSettings
from photochanger.settings.service import read_runtime_settings
from photochanger.slots.repository import SlotConfig, SlotRepository

_CONFIG_VERSION = select(ConfigVersion.value).where(ConfigVersion.id == CONFIG_VERSION_ROW)


def read_config_version(connection: Connection) -> int:
    return int(connection.execute(_CONFIG_VERSION).scalar_one())


@dataclass(frozen=True)
class IngestSnapshot:
    runtime: RuntimeSettings
    slot: SlotConfig | None
    config_version: int
    reused: bool = False
    """Kept from an earlier ingest: still to be confirmed by the admission."""

    @property
    def window_seconds(self) -> float:
        """The sync window a request on this configuration gets."""
        return self.runtime.sync_response_seconds

    @property
    def file_limit_bytes(self) -> int:
        limit = GLOBAL_UPLOAD_CAP_MB
        if self.slot is not None:
            limit = min(limit, self.slot.size_limit_mb)
        return limit * MB


class IngestSnapshots:
    """The last snapshot of each existing slot, in this process."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._last: dict[str, IngestSnapshot] = {}

    async def for_upload(self, slot_id: str, declared_length: int | None) -> IngestSnapshot:
        """A kept snapshot when the body's declared length is within its slot's
        limit, else a fresh one: a limit raised elsewhere must not refuse, while
        the body streams, a photo it now allows (a limit lowered is caught after
        the body, by the validation the admission confirms)."""
        last = self._last.get(slot_id)
        if last is None or declared_length is None or declared_length > last.file_limit_bytes:
            return await self.fresh(slot_id)
        return last

    async def fresh(self, slot_id: str) -> IngestSnapshot:
        def read(connection: Connection) -> IngestSnapshot:
            # The version first: a change committed between the reads then
            # shows as a newer version at admission, never the other way round.
            version = read_config_version(connection)
            return IngestSnapshot(
                runtime=read_runtime_settings(connection),
                slot=SlotRepository(connection).get(slot_id),
                config_version=version,
            )

        snapshot = await self._database.read(read)
        slot = snapshot.slot
        if slot is not None:  # never one entry per unknown id a client makes up
            last = self._last.get(slot.id)
            if last is None or last.config_version <= snapshot.config_version:
                self._last[slot.id] = replace(snapshot, reused=True)
        return snapshot
