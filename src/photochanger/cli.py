"""The one command line: `photochanger migrate | serve | info | demo | admin … |
provider-check | cleanup | backup | restore`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy.exc import DBAPIError

from photochanger.auth.service import (
    FIRST_ADMIN,
    AccountError,
    create_account,
    delete_account,
    ensure_first_admin,
    list_accounts,
    set_account_password,
)
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.migrate import upgrade_to_head
from photochanger.providers.check import check_provider, checkable_providers
from photochanger.settings.service import ensure_ingest_password, read_ingest_password

T = TypeVar("T")

KEEP_ALIVE_SECONDS = 15
"""How long `serve` keeps an idle connection open; a reverse proxy's pool must
let its idle connections go sooner (deploy/nginx.conf: `keepalive_timeout` in the
upstream), or it may send a booth's POST down one the server is closing."""


def main(argv: Sequence[str] | None = None) -> int:
    """The `photochanger` program: logs of the commands go to stderr as JSON
    (`serve` logs to stdout), their answers to stdout."""
    from photochanger.logs import configure_logging

    configure_logging(Settings().log_level, stream=sys.stderr)
    return run_command(argv)


def run_command(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="photochanger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="create or upgrade the database schema")

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    info = commands.add_parser("info", help="print slot-001's ingest URL and the ingest password")
    info.add_argument("--host", default="127.0.0.1", help="the address `serve` listens on")
    info.add_argument("--port", type=int, default=8000, help="the port `serve` listens on")

    demo = commands.add_parser("demo", help="send a sample photo through a running server")
    demo.add_argument("--slot", default="slot-001")
    demo.add_argument("--image", type=Path, help="photo to send (default: a generated one)")
    demo.add_argument("--out", type=Path, default=Path("demo-result.jpg"))
    demo.add_argument("--url", help="server base URL (default: PHOTOCHANGER_PUBLIC_BASE_URL)")
    demo.add_argument("--password", help="ingest password (default: read from the database)")

    check = commands.add_parser(
        "provider-check", help="send one small request to a cloud provider with its key"
    )
    check.add_argument("provider", choices=checkable_providers())
    check.add_argument("--out", type=Path, help="save the returned image here")

    cleanup = commands.add_parser(
        "cleanup", help="delete expired results, previews and provider-media files (for cron)"
    )
    cleanup.add_argument("--slot", help="clean only this slot (e.g. slot-003)")

    commands.add_parser(
        "stats-rebuild",
        help="sum the statistics rollups again from the jobs (after a manual edit of `job`)",
    )

    backup = commands.add_parser(
        "backup", help="copy the database and the media into a new directory (while serving)"
    )
    backup.add_argument("destination", type=Path, help="a new or empty directory")
    restore = commands.add_parser(
        "restore", help="restore a backup into an empty data directory and database"
    )
    restore.add_argument("source", type=Path, help="a directory made by `photochanger backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace the database and media that are there"
    )

    admin = commands.add_parser("admin", help="manage the admin accounts of the web UI")
    accounts = admin.add_subparsers(dest="admin_command", required=True)
    for name, text in (
        ("create", "create an account (password generated and printed unless given)"),
        ("set-password", "change an account's password (its old tokens stop working)"),
    ):
        command = accounts.add_parser(name, help=text)
        command.add_argument("username")
        command.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
    accounts.add_parser("list", help="list the accounts")
    delete = accounts.add_parser("delete", help="delete an account")
    delete.add_argument("username")

    args = parser.parse_args(argv)
    config = Settings()
    handler = {
        "migrate": _migrate,
        "serve": _serve,
        "info": _info,
        "demo": _demo,
        "provider-check": _provider_check,
        "admin": _admin,
        "cleanup": _cleanup,
        "stats-rebuild": _stats_rebuild,
        "backup": _backup,
        "restore": _restore,
    }
    return handler[args.command](config, args)


def _migrate(config: Settings, _args: argparse.Namespace) -> int:
    async def run() -> str | None:
        config.prepare_directories()
        database = Database(create_engine(config.resolved_database_url))
        try:
            await upgrade_to_head(database.engine)
            return await ensure_ingest_password(database, config)
        finally:
            await database.dispose()

    generated = asyncio.run(run())
    print("Database is up to date.")
    if generated:
        print(f"New ingest password: {generated} (`photochanger info` shows it again)")
    return 0


def served_at(config: Settings, host: str, port: int) -> Settings:
    """Without `PHOTOCHANGER_PUBLIC_BASE_URL`, the links the server gives out
    (`X-Result-Url`, printed ingest URLs) point at the address it serves on, so
    `make run PORT=8765` answers with port 8765, not the default's 8000."""
    if "public_base_url" in config.model_fields_set:
        return config
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared
    if ":" in shown:
        shown = f"[{shown}]"
    return config.model_copy(update={"public_base_url": f"http://{shown}:{port}"})


def _serve(config: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from photochanger.app import create_app
    from photochanger.http_protocol import BoundedHttpProtocol
    from photochanger.logs import configure_logging

    configure_logging(config.log_level, stream=sys.stdout)
    config = served_at(config, args.host, args.port)
    try:
        first_password = _with_database(config, ensure_first_admin)
    except DBAPIError:
        print(_NOT_MIGRATED, file=sys.stderr)
        return 2
    if first_password:
        # Shown once, on the operator's console, never through the logs.
        print(
            f"Created the first admin account: {FIRST_ADMIN} / {first_password} "
            "(shown once; change it with `photochanger admin set-password admin`)",
            flush=True,
        )
    print(f"Ingest URL of slot-001: {config.public_base_url}/api/ingest/slot-001", flush=True)
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        http=BoundedHttpProtocol,  # a bounded request head, JSON 400s
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        # The client's address comes from X-Forwarded-For only on connections from
        # these proxies (never uvicorn's own FORWARDED_ALLOW_IPS variable).
        proxy_headers=True,
        forwarded_allow_ips=config.trusted_proxies,
    )
    return 0


def _info(config: Settings, args: argparse.Namespace) -> int:
    config = served_at(config, args.host, args.port)
    password = _stored_password(config)
    if password is None:
        return 2
    print(f"Ingest URL (slot-001): {config.public_base_url}/api/ingest/slot-001")
    print(f"Ingest password:       {password}")
    print("Try it:                photochanger demo   (or: make demo)")
    return 0


def _demo(config: Settings, args: argparse.Namespace) -> int:
    from photochanger.samples import sample_photo

    base = (args.url or config.public_base_url).rstrip("/")
    password = args.password
    if password is None:
        password = _stored_password(config)
        if password is None:
            return 2
    photo = args.image.read_bytes() if args.image else sample_photo()
    name = args.image.name if args.image else "sample.jpg"
    try:
        response = httpx.post(
            f"{base}/api/ingest/{args.slot}",
            data={"password": password},
            files={"fileToUpload": (name, photo, "application/octet-stream")},
            timeout=70,
        )
    except httpx.HTTPError as exc:
        print(f"Could not reach {base}: {exc}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"{response.status_code}: {response.text}", file=sys.stderr)
        return 1
    args.out.write_bytes(response.content)
    print(f"Saved {len(response.content)} bytes ({response.headers['content-type']}) to {args.out}")
    print(f"Job {response.headers['x-job-id']}, public link {response.headers['x-result-url']}")
    return 0


def _stored_password(config: Settings) -> str | None:
    """The ingest password from the database, or None (with a hint) when the
    database is missing or not migrated yet."""

    try:
        return _with_database(config, read_ingest_password)
    except DBAPIError:
        print(_NOT_MIGRATED, file=sys.stderr)
        return None


def _provider_check(config: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the provider answered with an image, 1 when it failed, 2 when
    it cannot be asked (no key, database not migrated)."""
    try:
        report = asyncio.run(check_provider(config, args.provider))
    except DBAPIError:
        print("The database is not ready: run `photochanger migrate` first.", file=sys.stderr)
        return 2
    print("\n".join(report.lines))
    if report.image is not None and args.out is not None:
        args.out.write_bytes(report.image)
        print(f"  saved to {args.out}")
    return report.exit_code


_NOT_MIGRATED = (
    "The database is missing or not migrated: run `photochanger migrate` first "
    "(with the same PHOTOCHANGER_DATA_DIR / PHOTOCHANGER_DATABASE_URL)."
)


def _with_database(config: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(create_engine(config.resolved_database_url))
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _admin(config: Settings, args: argparse.Namespace) -> int:
    """Exit 0 on success, 1 when the command cannot be done (unknown account,
    short password…), 2 when the database is not ready."""
    password: str | None = None
    if getattr(args, "password_stdin", False):
        password = sys.stdin.readline().rstrip("\r\n")
    command = args.admin_command
    try:
        if command == "list":
            for account in _with_database(config, list_accounts):
                print(f"{account.username}\tcreated {account.created_at:%Y-%m-%d %H:%M} UTC")
            return 0
        if command == "delete":
            _with_database(config, lambda database: delete_account(database, args.username))
            print(f"Deleted {args.username}.")
            return 0
        change = create_account if command == "create" else set_account_password
        stored = _with_database(config, lambda database: change(database, args.username, password))
    except AccountError as error:
        print(str(error), file=sys.stderr)
        return 1
    except DBAPIError:
        print(_NOT_MIGRATED, file=sys.stderr)
        return 2
    verb = "Created" if command == "create" else "Changed the password of"
    print(f"{verb} {args.username}.")
    if password is None:
        print(f"Password (shown once): {stored}")
    return 0


def _cleanup(config: Settings, args: argparse.Namespace) -> int:
    """Exit 0 after a pass (also when a file could not be deleted: it is left for
    the next run and counted), 1 for an unknown slot, 2 when the database is not
    ready."""
    from photochanger.cleanup.schemas import CleanupSummary
    from photochanger.cleanup.service import CleanupService
    from photochanger.errors import SlotNotFound
    from photochanger.media.open_store import open_media_store

    async def clean(database: Database) -> CleanupSummary:
        async with open_media_store(config) as store:  # the directory or the bucket
            return await CleanupService(database, store).run(args.slot)

    try:
        summary = _with_database(config, clean)
    except SlotNotFound as error:
        print(error.details, file=sys.stderr)
        return 1
    except DBAPIError:
        print(_NOT_MIGRATED, file=sys.stderr)
        return 2
    scope = f"slot {summary.slot_id}" if summary.slot_id else "all slots"
    print(f"Cleanup of {scope} in {summary.duration_ms} ms:")
    for kind, removed in summary.removed.items():
        print(f"  {kind}: {removed.count} removed, {removed.bytes} bytes")
    print(f"  files already missing: {summary.missing_files}")
    print(f"  files that could not be deleted (left for the next run): {summary.failed}")
    print(f"  login failures pruned: {summary.login_failures_pruned}")
    return 0


def _stats_rebuild(config: Settings, _args: argparse.Namespace) -> int:
    """The triggers keep the rollups as jobs are written; this sums them again
    from `job` and `media_object` in one transaction (ingests wait for it).
    Exit 2 when the database is not ready."""
    from photochanger.models.job_rollup_sql import rebuild

    async def run(database: Database) -> tuple[int, int]:
        started = time.monotonic()
        await database.write(rebuild)
        rows = await database.read(
            lambda connection: int(
                connection.exec_driver_sql("SELECT count(*) FROM job_minute_counts").scalar_one()
            )
        )
        return rows, round((time.monotonic() - started) * 1000)

    try:
        rows, took = _with_database(config, run)
    except DBAPIError:
        print(_NOT_MIGRATED, file=sys.stderr)
        return 2
    print(f"Statistics rollups rebuilt in {took} ms ({rows} slot-minutes with jobs).")
    return 0


def _backup(config: Settings, args: argparse.Namespace) -> int:
    from photochanger.backup.commands import backup_command

    return backup_command(config, args.destination)


def _restore(config: Settings, args: argparse.Namespace) -> int:
    from photochanger.backup.commands import restore_command

    return restore_command(config, args.source, force=args.force)
