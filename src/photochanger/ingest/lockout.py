"""The ingest password's lockout: a booth URL is on the open internet, so wrong
passwords are counted per client address, and ten within 15 minutes lock that
address out of the ingest for 15 minutes after the last of them (429 with
`retry_after`, before its body is read).

The failures are rows in the database, so every replica counts the same ones.
The lock itself is kept in each replica's memory, which keeps a right password's
ingest free of any extra query: a replica learns of a lock at the first wrong
password it is sent from that address, so across R replicas an address gets at
most R - 1 more tries than on one. Legitimate booths never pay: nothing is
counted or read while the password is right."""

from __future__ import annotations

import math
from datetime import datetime

import structlog
from sqlalchemy import Connection

from photochanger.auth.repository import IngestFailureRepository
from photochanger.auth.service import LOCKOUT_FAILURES, LOCKOUT_WINDOW, locked_until
from photochanger.db import Database
from photochanger.errors import RateLimited
from photochanger.models.base import utcnow

log = structlog.get_logger("photochanger.ingest")

INGEST_LOCKOUT_FAILURES = LOCKOUT_FAILURES
INGEST_LOCKOUT_WINDOW = LOCKOUT_WINDOW
"""The admin login's rule, kept the same: ten within 15 minutes lock 15 minutes."""
_MAX_LOCKED = 10_000
"""Addresses held in memory before expired locks are swept."""

__all__ = ["INGEST_LOCKOUT_FAILURES", "INGEST_LOCKOUT_WINDOW", "IngestLockout", "locked_until"]


class IngestLockout:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._locked: dict[str, datetime] = {}

    def check(self, ip: str) -> None:
        """429 while this address is locked out; nothing else, and no query."""
        until = self._locked.get(ip)
        if until is None:
            return
        now = utcnow()
        if until <= now:
            self._locked.pop(ip, None)
            return
        retry_after = max(1, math.ceil((until - now).total_seconds()))
        raise RateLimited(
            "too many wrong ingest passwords from this address: try again later",
            retry_after=retry_after,
        )

    async def failed(self, ip: str) -> None:
        """Count a wrong password from this address; lock it at the tenth."""
        now = utcnow()

        def record(connection: Connection) -> list[datetime]:
            failures = IngestFailureRepository(connection)
            failures.add(ip, now)
            return failures.recent(ip, INGEST_LOCKOUT_FAILURES)

        until = locked_until(await self._database.write(record))
        if until is None or until <= now:
            return
        if len(self._locked) >= _MAX_LOCKED:
            self._locked = {key: end for key, end in self._locked.items() if end > now}
        if ip not in self._locked:
            log.warning("ingest_locked_out", ip=ip, until=until.isoformat())
        self._locked[ip] = until
