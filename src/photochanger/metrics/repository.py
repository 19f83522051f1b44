"""SQL of the metrics: what the media store holds, read when Prometheus scrapes, so
every replica reports the same numbers."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from photochanger.models import MediaObject

_LIVE_BY_KIND = (
    select(MediaObject.kind, func.count(), func.coalesce(func.sum(MediaObject.size), 0))
    .where(MediaObject.cleaned_at.is_(None))
    .group_by(MediaObject.kind)
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
