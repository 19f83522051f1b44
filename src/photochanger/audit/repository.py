"""The audit trail: one row per admin change, secrets masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from photochanger.models import AuditEntry
from photochanger.models.base import utcnow

SECRET_MARKERS = ("api_key", "password", "secret", "token")


def mask_secrets(value: Any) -> Any:
    """A copy with every value under a secret-looking key replaced by its last
    four characters (`…abcd`), at any depth."""
    if isinstance(value, Mapping):
        return {
            key: _masked(item) if _is_secret(str(key)) else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _is_secret(key: str) -> bool:
    return any(marker in key.lower() for marker in SECRET_MARKERS)


def _masked(value: Any) -> Any:
    if value is None or value == "":
        return value
    text = str(value)
    return "…" + text[-4:] if len(text) > 8 else "…"


class AuditRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(
        self, *, actor: str, action: str, target: str, before: Any = None, after: Any = None
    ) -> None:
        self.connection.execute(
            insert(AuditEntry),
            [
                {
                    "at": utcnow(),
                    "actor": actor,
                    "action": action,
                    "target": target,
                    "before": mask_secrets(before),
                    "after": mask_secrets(after),
                }
            ],
        )

    def for_target(self, target: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest entries about one target, newest first."""
        query = (
            select(AuditEntry.__table__)
            .where(AuditEntry.target == target)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return [row._asdict() for row in self.connection.execute(query)]
