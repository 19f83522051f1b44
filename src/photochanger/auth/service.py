"""Login, the lockout, token checks and account management (SPEC §6.1)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from photochanger.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    generate_password,
    hash_password,
    verify_password,
)
from photochanger.auth.repository import (
    Account,
    AccountRepository,
    LoginFailureRepository,
    RevokedTokenRepository,
)
from photochanger.auth.tokens import (
    TOKEN_LIFETIME,
    TokenClaims,
    issue_token,
    milliseconds,
    read_token,
)
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.errors import InvalidCredentials, NotAuthenticated, RateLimited
from photochanger.models.base import utcnow
from photochanger.settings.repository import SettingRepository

log = structlog.get_logger("photochanger.auth")

LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
JWT_SECRET_SETTING = "jwt_secret"  # noqa: S105 - a setting key, not a secret
FIRST_ADMIN = "admin"
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}")


class AccountError(ValueError):
    """A CLI account command that cannot be done (bad name, short password, …)."""


@dataclass(frozen=True)
class Admin:
    """The admin a request is authenticated as."""

    username: str


@dataclass(frozen=True)
class LoginToken:
    access_token: str
    expires_in: int
    csrf_token: str


def locked_until(failures: list[datetime]) -> datetime | None:
    """When a lock ends, given the newest failures (newest first): ten failures
    within fifteen minutes lock further attempts for fifteen minutes after the
    last of them. Refused attempts are not failures, so a lock does not extend
    itself."""
    if len(failures) < LOCKOUT_FAILURES:
        return None
    newest, tenth = failures[0], failures[LOCKOUT_FAILURES - 1]
    if newest - tenth > LOCKOUT_WINDOW:
        return None
    return newest + LOCKOUT_WINDOW


class AuthService:
    def __init__(self, database: Database, secret: str) -> None:
        self._database = database
        self._secret = secret

    async def login(self, username: str, password: str, ip: str) -> LoginToken:
        """A token for the right password; 401 otherwise; 429 while the username
        or the client's IP is locked out. Never logs the password."""
        now = utcnow()

        def read(connection: Connection) -> tuple[Account | None, datetime | None]:
            failures = LoginFailureRepository(connection)
            until = [
                locked_until(failures.recent(column, value, LOCKOUT_FAILURES))
                for column, value in (("username", username), ("ip", ip))
            ]
            lock = max((moment for moment in until if moment is not None), default=None)
            return AccountRepository(connection).get(username), lock

        account, lock = await self._database.read(read)
        if lock is not None and lock > now:
            retry_after = max(1, math.ceil((lock - now).total_seconds()))
            log.warning("login_refused", username=username[:64], ip=ip, reason="locked_out")
            raise RateLimited("too many failed logins: try again later", retry_after=retry_after)
        stored_hash = account.password_hash if account else None
        if not await asyncio.to_thread(verify_password, stored_hash, password):
            await self._database.write(
                lambda connection: LoginFailureRepository(connection).add(username, ip, now)
            )
            reason = "unknown_user" if account is None else "wrong_password"
            log.warning("login_failed", username=username[:64], ip=ip, reason=reason)
            raise InvalidCredentials("wrong username or password")
        await self._database.write(
            lambda connection: LoginFailureRepository(connection).forget(username)
        )
        token, claims = issue_token(username, self._secret, now)
        log.info("login_succeeded", username=username, ip=ip)
        return LoginToken(
            access_token=token,
            expires_in=int(TOKEN_LIFETIME.total_seconds()),
            csrf_token=claims.csrf,
        )

    async def authenticate(self, token: str) -> TokenClaims:
        """The claims of a token whose account still exists, whose password has
        not changed since it was issued, and which no logout revoked."""
        claims = read_token(token, self._secret)
        if claims is None:
            raise NotAuthenticated("the admin token is missing, invalid or expired")

        def read(connection: Connection) -> tuple[Account | None, bool]:
            account = AccountRepository(connection).get(claims.username)
            return account, RevokedTokenRepository(connection).is_revoked(claims.token_id)

        account, revoked = await self._database.read(read)
        if (
            account is None
            or revoked
            or milliseconds(account.password_changed_at) > milliseconds(claims.issued_at)
        ):
            raise NotAuthenticated("the admin token is no longer valid: log in again")
        return claims

    async def logout(self, token: str) -> bool:
        """Revoke a valid token on every replica; False when it was not valid."""
        claims = read_token(token, self._secret)
        if claims is None:
            return False
        now = utcnow()
        await self._database.write(
            lambda connection: RevokedTokenRepository(connection).revoke(
                claims.token_id, claims.expires_at, now
            )
        )
        log.info("logout", username=claims.username)
        return True


async def resolve_jwt_secret(database: Database, config: Settings) -> str:
    """`PHOTOCHANGER_JWT_SECRET` when set; else the one stored in the database,
    generated by whichever replica starts first, so every replica signs alike."""
    if config.jwt_secret is not None:
        return config.jwt_secret.get_secret_value()

    def store(connection: Connection) -> None:
        repository = SettingRepository(connection)
        if not repository.exists(JWT_SECRET_SETTING):
            repository.put(JWT_SECRET_SETTING, secrets.token_urlsafe(48), updated_by="system")

    with contextlib.suppress(IntegrityError):  # another replica stored it first
        await database.write(store)
    values = await database.read(lambda connection: SettingRepository(connection).all_values())
    return str(values[JWT_SECRET_SETTING])


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError("a username is 1-64 letters, digits or . _ @ -")
    return username


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


async def create_account(database: Database, username: str, password: str | None) -> str:
    """Create an account; returns its password (the given one or a generated one)."""
    check_username(username)
    password = check_new_password(password) if password is not None else generate_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        await database.write(
            lambda connection: AccountRepository(connection).create(username, password_hash)
        )
    except IntegrityError:
        raise AccountError(f"an account named {username!r} already exists") from None
    log.info("admin_created", username=username)
    return password


async def set_account_password(database: Database, username: str, password: str | None) -> str:
    """Change a password (tokens issued before stop working); returns it."""
    password = check_new_password(password) if password is not None else generate_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    changed = await database.write(
        lambda connection: AccountRepository(connection).set_password(username, password_hash)
    )
    if not changed:
        raise AccountError(f"no account named {username!r}")
    log.info("admin_password_changed", username=username)
    return password


async def delete_account(database: Database, username: str) -> None:
    if not await database.write(lambda connection: AccountRepository(connection).delete(username)):
        raise AccountError(f"no account named {username!r}")
    log.info("admin_deleted", username=username)


async def list_accounts(database: Database) -> list[Account]:
    return await database.read(lambda connection: AccountRepository(connection).list())


async def ensure_first_admin(database: Database) -> str | None:
    """On a fresh install, create the `admin` account; returns its password
    (to be shown once), or None when an account exists already."""
    if await database.read(lambda connection: AccountRepository(connection).count()):
        return None
    try:
        return await create_account(database, FIRST_ADMIN, None)
    except AccountError:
        return None  # another replica created it first
