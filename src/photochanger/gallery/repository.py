"""SQL of the gallery: the newest results per active slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from photochanger.models import Job, Slot

RESULTS_PER_SLOT = 10

_ACTIVE_SLOTS = select(Slot.id, Slot.name).where(Slot.active.is_(True)).order_by(Slot.id)


class GalleryRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def active_slots(self) -> list[Row[Any]]:
        return list(self.connection.execute(_ACTIVE_SLOTS))

    def latest_results(self, slot_id: str, now: datetime) -> list[Row[Any]]:
        """A slot's newest done booth results still kept (admin test runs are
        not the guests' photos). One indexed query per slot (`ix_job_slot_started`)
        instead of a window over every result of the retention period."""
        query = (
            select(Job.id, Job.finished_at, Job.result_expires_at)
            .where(
                Job.slot_id == slot_id,
                Job.status == "done",
                Job.source == "ingest",
                Job.result_key.is_not(None),
                Job.result_expires_at > now,
            )
            .order_by(Job.started_at.desc())
            .limit(RESULTS_PER_SLOT)
        )
        return list(self.connection.execute(query))

    def result_files(self, job_ids: list[str], now: datetime) -> list[Row[Any]]:
        """Where the results of these jobs are stored, while they are kept."""
        query = (
            select(Job.id, Job.slot_id, Job.result_key, Job.result_mime, Job.finished_at)
            .where(
                Job.id.in_(job_ids),
                Job.status == "done",
                Job.result_key.is_not(None),
                Job.result_expires_at > now,
            )
            .order_by(Job.slot_id, Job.started_at.desc())
        )
        return list(self.connection.execute(query))
