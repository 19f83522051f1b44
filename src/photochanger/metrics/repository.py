"""SQL of the metrics: what the media store holds, read when Prometheus scrapes, so
every replica reports the same numbers."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from photochanger.models import MediaUsage

# The rollup the media triggers keep (`models/job_rollup.py`): a few rows per
# slot and kind, where summing `media_object` read every live row per scrape.
_LIVE_BY_KIND = (
    select(
        MediaUsage.kind,
        func.coalesce(func.sum(MediaUsage.files), 0),
        func.coalesce(func.sum(MediaUsage.bytes), 0),
    )
    .group_by(MediaUsage.kind)
    .having(func.sum(MediaUsage.files) > 0)
)


class MediaUsageRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def live_by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (objects, bytes) of every file not yet cleaned up (expired ones
        included: they are on the disk or in the bucket until cleanup removes them)."""
        return {
            kind: (int(count), int(size))
            for kind, count, size in self.connection.execute(_LIVE_BY_KIND)
        }
