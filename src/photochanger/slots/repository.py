"""SQL on `slot` and its template media, as functions of one connection."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, or_, select, update

from photochanger.models import Job, MediaObject, Slot, TemplateMedia
from photochanger.models.job import JobSource
from photochanger.stats.rollup import RollupReader, spent_by_slot

SLOT_ID_PATTERN = re.compile(r"slot-\d{3}")
MAX_RESULT_AGE = timedelta(days=91)
"""No result outlives this: `result_ttl_hours` is at most 90 days."""


def is_slot_id(value: str) -> bool:
    return SLOT_ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class SlotConfig:
    """What a job needs of its slot, read once at the door."""

    id: str
    name: str
    provider: str
    operation: str
    settings: dict[str, Any]
    fallback: dict[str, Any] | None
    on_failure: str
    active: bool
    size_limit_mb: int
    max_input_megapixels: float
    keep_metadata: bool
    daily_budget: float | None
    version: int


_GET_CONFIG = select(*(Slot.__table__.c[name] for name in SlotConfig.__dataclass_fields__)).where(
    Slot.id == bindparam("b_slot_id")
)


class SlotRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, slot_id: str) -> SlotConfig | None:
        """The slot, or None for an unknown id (any string, including path tricks)."""
        if not is_slot_id(slot_id):
            return None
        row = self.connection.execute(_GET_CONFIG, {"b_slot_id": slot_id}).first()
        return None if row is None else SlotConfig(**row._asdict())

    def template_files(
        self, slot_id: str, replacing: Mapping[str, str | None] | None = None
    ) -> list[tuple[str, str, str]]:
        """(role, media key, mime) of the slot's live template images, oldest first.

        `replacing` (a test run's unsaved roles: role -> template id, None drops
        the role) is merged over the slot's own images by role, as a save would."""
        replacing = replacing or {}
        by_id = {template_id: role for role, template_id in replacing.items() if template_id}
        bound = and_(TemplateMedia.slot_id == slot_id, TemplateMedia.role.not_in(list(replacing)))
        chosen = or_(bound, TemplateMedia.id.in_(list(by_id))) if by_id else bound
        query = (
            select(TemplateMedia.id, TemplateMedia.role, MediaObject.key, MediaObject.mime)
            .join(MediaObject, MediaObject.id == TemplateMedia.media_object_id)
            .where(chosen, MediaObject.cleaned_at.is_(None))
            .order_by(TemplateMedia.created_at, TemplateMedia.id)
        )
        rows = self.connection.execute(query)
        return [(by_id.get(row.id, row.role), row.key, row.mime) for row in rows]

    def overview(self) -> list[Row[Any]]:
        """Every slot with its last job's start and status, in one query: one
        backward step on `ix_job_slot_started` per slot for each.

        The slot is matched as a range (`>=` and `<=`), not `=`: with an equality
        PostgreSQL preferred walking `ix_job_started` backwards and filtering by
        slot — the whole index for a slot without jobs (53 ms at 300k jobs on a
        dashboard of idle slots; 0.2 ms as written)."""

        def last_job(column: Any) -> Any:
            return (
                select(column)
                .where(Job.slot_id >= Slot.id, Job.slot_id <= Slot.id)
                .order_by(Job.slot_id.desc(), Job.started_at.desc())
                .limit(1)
                .scalar_subquery()
            )

        query = select(
            Slot.id,
            Slot.name,
            Slot.provider,
            Slot.operation,
            Slot.active,
            Slot.version,
            Slot.updated_at,
            Slot.updated_by,
            Slot.daily_budget,
            last_job(Job.started_at).label("last_job_at"),
            last_job(Job.status).label("last_job_status"),
            last_job(Job.degraded_reason).label("last_job_degraded_reason"),
        ).order_by(Slot.id)
        return list(self.connection.execute(query))

    def spent_since(self, slot_ids: Sequence[str], since: datetime) -> dict[str, int]:
        """Each slot's estimated spend (micros) on jobs of every source started
        since `since`, from the statistics rollups (a day is one hour row per
        slot and hour); a slot without any is left out."""
        reader = RollupReader(self.connection, tuple(JobSource), tuple(slot_ids))
        return spent_by_slot(reader, since)

    def get_full(self, slot_id: str, *, for_update: bool = False) -> Row[Any] | None:
        """Every column of the slot; `for_update` locks the row on PostgreSQL so
        concurrent saves of one slot queue (SQLite has one writer anyway)."""
        if not is_slot_id(slot_id):
            return None
        query = select(Slot.__table__).where(Slot.id == slot_id)
        if for_update:
            query = query.with_for_update()
        return self.connection.execute(query).first()

    def save(self, slot_id: str, version: int, values: Mapping[str, Any]) -> bool:
        """Write a new configuration over `version`; False if it is no longer current."""
        result = self.connection.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.version == version)
            .values(**values, version=version + 1)
        )
        return result.rowcount == 1

    def recent_results(self, slot_id: str, now: datetime, limit: int = 10) -> list[Row[Any]]:
        """The slot's newest done jobs whose result has not expired. Walks
        `ix_job_slot_started` backwards (the slot as a range, as in `overview`),
        no further back than a result can live."""
        query = (
            select(
                Job.id,
                Job.started_at,
                Job.finished_at,
                Job.status,
                Job.source,
                Job.result_mime,
                Job.result_expires_at,
            )
            .where(
                Job.slot_id >= slot_id,
                Job.slot_id <= slot_id,
                # Only a done job has a result; a status test here made SQLite
                # walk `ix_job_status_started` across every slot instead.
                Job.result_key.is_not(None),
                Job.result_expires_at > now,
                Job.started_at > now - MAX_RESULT_AGE,
            )
            .order_by(Job.slot_id.desc(), Job.started_at.desc())
            .limit(limit)
        )
        return list(self.connection.execute(query))
