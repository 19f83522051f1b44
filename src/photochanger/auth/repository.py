"""SQL on `admin_account`, `login_failure`, `revoked_token` and `ingest_failure`
(the credentials and their failures), as functions of one connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, CursorResult, delete, func, insert, select, update

from photochanger.models import AdminAccount, IngestFailure, LoginFailure, RevokedToken
from photochanger.models.base import utcnow


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: str
    created_at: datetime
    password_changed_at: datetime


class AccountRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, username: str) -> Account | None:
        row = self.connection.execute(
            select(AdminAccount.__table__).where(AdminAccount.username == username)
        ).first()
        return None if row is None else Account(**row._asdict())

    def list(self) -> list[Account]:
        rows = self.connection.execute(
            select(AdminAccount.__table__).order_by(AdminAccount.username)
        )
        return [Account(**row._asdict()) for row in rows]

    def count(self) -> int:
        return int(
            self.connection.execute(select(func.count()).select_from(AdminAccount)).scalar_one()
        )

    def create(self, username: str, password_hash: str) -> None:
        now = utcnow()
        self.connection.execute(
            insert(AdminAccount),
            [
                {
                    "username": username,
                    "password_hash": password_hash,
                    "created_at": now,
                    "password_changed_at": now,
                }
            ],
        )

    def set_password(self, username: str, password_hash: str) -> bool:
        result = self.connection.execute(
            update(AdminAccount)
            .where(AdminAccount.username == username)
            .values(password_hash=password_hash, password_changed_at=utcnow())
        )
        assert isinstance(result, CursorResult)
        return bool(result.rowcount)

    def delete(self, username: str) -> bool:
        result = self.connection.execute(
            delete(AdminAccount).where(AdminAccount.username == username)
        )
        assert isinstance(result, CursorResult)
        return bool(result.rowcount)


class LoginFailureRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, username: str, ip: str, at: datetime) -> None:
        self.connection.execute(
            insert(LoginFailure), [{"username": username[:64], "ip": ip[:64], "failed_at": at}]
        )

    def recent(self, column: str, value: str, limit: int) -> list[datetime]:
        """The newest `limit` failure times for this username or IP, newest first."""
        field = LoginFailure.username if column == "username" else LoginFailure.ip
        query = (
            select(LoginFailure.failed_at)
            .where(field == value)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        )
        return list(self.connection.execute(query).scalars())

    def forget(self, username: str) -> None:
        """A successful login clears the username's failures."""
        self.connection.execute(delete(LoginFailure).where(LoginFailure.username == username))

    def prune(self, before: datetime) -> int:
        query = delete(LoginFailure).where(LoginFailure.failed_at < before)
        result = self.connection.execute(query)
        assert isinstance(result, CursorResult)
        return int(result.rowcount)


class RevokedTokenRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def revoke(self, token_id: str, expires_at: datetime, now: datetime) -> None:
        """Record a logout; rows of tokens that have expired by now go with it."""
        self.connection.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
        if not self.is_revoked(token_id):
            self.connection.execute(
                insert(RevokedToken), [{"jti": token_id, "expires_at": expires_at}]
            )

    def is_revoked(self, token_id: str) -> bool:
        query = select(RevokedToken.jti).where(RevokedToken.jti == token_id)
        return self.connection.execute(query).first() is not None


class IngestFailureRepository:
    """Ingests refused for a wrong password, by client address."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, ip: str, at: datetime) -> None:
        self.connection.execute(insert(IngestFailure), [{"ip": ip[:64], "failed_at": at}])

    def recent(self, ip: str, limit: int) -> list[datetime]:
        """The newest `limit` failure times of this address, newest first."""
        query = (
            select(IngestFailure.failed_at)
            .where(IngestFailure.ip == ip[:64])
            .order_by(IngestFailure.failed_at.desc())
            .limit(limit)
        )
        return list(self.connection.execute(query).scalars())

    def prune(self, before: datetime) -> int:
        query = delete(IngestFailure).where(IngestFailure.failed_at < before)
        result = self.connection.execute(query)
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
