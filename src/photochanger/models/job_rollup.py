"""Statistics rollups: what `job` and `media_object` hold, summed per slot and
period by database triggers in the transaction that writes the row, so the
statistics read a few thousand rows instead of every job of a window
(SPEC §6.6; the SQL of the triggers is `models/job_rollup_sql.py`).

Periods are integers: minutes since the Unix epoch (UTC) of a job's
`started_at`, and hours (`minute // 60`). A row of a period that is still going
on holds every job started in it so far, since no job starts in the future."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime


class JobCountsColumns:
    """The counts of one slot, source and period: a job in each outcome
    (`jobs` is all of them, `pending` those not finished yet), `timed` the
    finished ones with a duration, and the known costs: `cost_micros` their sum,
    `priced` how many jobs had one."""

    source: Mapped[str] = mapped_column(String(16))
    slot_id: Mapped[str] = mapped_column(String(32))
    jobs: Mapped[int] = mapped_column(Integer)
    successes: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[int] = mapped_column(Integer)
    timeouts: Mapped[int] = mapped_column(Integer)
    provider_errors: Mapped[int] = mapped_column(Integer)
    other_failures: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    priced: Mapped[int] = mapped_column(Integer)


class JobMinuteCounts(JobCountsColumns, Base):
    """Counts per slot, source and minute: the start of a window, to the hour."""

    __tablename__ = "job_minute_counts"
    __table_args__ = (PrimaryKeyConstraint("source", "slot_id", "minute"),)

    minute: Mapped[int] = mapped_column(BigInteger)


class JobHourCounts(JobCountsColumns, Base):
    """Counts per slot, source and hour: the rest of a window, days of spend."""

    __tablename__ = "job_hour_counts"
    __table_args__ = (PrimaryKeyConstraint("source", "slot_id", "hour"),)

    hour: Mapped[int] = mapped_column(BigInteger)


class JobHourDurations(Base):
    """A histogram of the durations of finished jobs per slot, source and hour:
    per `duration_bin`, how many and the shortest and longest of them."""

    __tablename__ = "job_hour_durations"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bin: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    jobs: Mapped[int] = mapped_column(Integer)
    min_ms: Mapped[int] = mapped_column(Integer)
    max_ms: Mapped[int] = mapped_column(Integer)


class JobMinuteFailures(Base):
    """Failed, timed-out and degraded jobs per slot, source, minute, provider,
    outcome (`failed`, `timeout`, `degraded`) and reason ('' for none)."""

    __tablename__ = "job_minute_failures"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    jobs: Mapped[int] = mapped_column(Integer)
    last_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DurationBin(Base):
    """The histogram's bins: a duration of `lo` ms or more (and less than the
    next bin's `lo`) falls in `bin`. Exact below 32 ms, then each bin 4 % wider
    than the one before."""

    __tablename__ = "duration_bin"

    bin: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    lo: Mapped[int] = mapped_column(Integer, unique=True)


class MediaUsage(Base):
    """Live files of the media store and their bytes, per slot ('' for none)
    and kind."""

    __tablename__ = "media_usage"

    slot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    files: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
