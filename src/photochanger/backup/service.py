"""Making a backup and restoring one (docs/operations.md#backups).

A backup is a directory: the database (a SQLite file copied with SQLite's
online backup API, or a pg_dump archive), then the local store's media under
`media/` (for an S3 store, the bucket's listing instead), then `manifest.json`
last, so a backup that did not finish has none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from photochanger import __version__
from photochanger.backup.bucket import list_bucket
from photochanger.backup.manifest import (
    DATABASE_FILES,
    BackupError,
    DatabaseDump,
    Manifest,
    MediaCopy,
    describe_file,
)
from photochanger.backup.media import (
    backup_path,
    clear_media,
    copy_media,
    media_in_use,
    media_key,
    replace_media,
    restore_media,
    verify_files,
)
from photochanger.backup.postgres import (
    dump_postgres,
    postgres_in_use,
    restore_postgres,
)
from photochanger.backup.snapshot import (
    Snapshot,
    require_known_revision,
    require_migrated,
)
from photochanger.backup.sqlite import (
    describe_sqlite,
    dump_sqlite,
    restore_sqlite,
    sqlite_in_use,
)
from photochanger.config import Settings


def dialect_of(config: Settings) -> str:
    dialect = make_url(config.resolved_database_url).get_backend_name()
    if dialect not in DATABASE_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {dialect}", exit_code=2)
    return dialect


def sqlite_path(config: Settings) -> Path:
    return Path(make_url(config.resolved_database_url).database or "").resolve()


def create_backup(config: Settings, destination: Path) -> Manifest:
    """Back up the database and media of `config` into `destination` (a new or
    empty directory), while the server may go on serving."""
    dialect = dialect_of(config)
    _prepare_destination(destination)
    database_file = DATABASE_FILES[dialect]
    if dialect == "sqlite":
        snapshot = dump_sqlite(sqlite_path(config), destination / database_file)
    else:
        snapshot = dump_postgres(config.resolved_database_url, destination / database_file)
    require_migrated(snapshot, "the database")
    media = _copy_media(config, destination, snapshot)
    manifest = Manifest(
        created_at=datetime.now(UTC),
        photochanger_version=__version__,
        database=DatabaseDump(
            dialect=dialect,
            file=describe_file(destination, database_file),
            schema_revision=snapshot.schema_revision,
            counts=snapshot.counts,
        ),
        media=media,
    )
    manifest.write(destination)
    return manifest


def _prepare_destination(destination: Path) -> None:
    if destination.exists():
        if not destination.is_dir():
            raise BackupError(f"{destination} exists and is not a directory")
        if any(destination.iterdir()):
            raise BackupError(f"{destination} is not empty: back up into a new directory")
    destination.mkdir(parents=True, exist_ok=True)


def _copy_media(config: Settings, destination: Path, snapshot: Snapshot) -> MediaCopy:
    referenced = {item.key for item in snapshot.live_objects}
    if config.media_store == "s3":
        listed = list_bucket(config)
        return MediaCopy(
            store="s3",
            objects=listed,
            bytes=sum(item.size for item in listed),
            missing=sorted(referenced - {item.key for item in listed}),
        )
    files = copy_media(config.resolved_media_root, destination)
    copied = {entry.path.split("/", 1)[1] for entry in files}
    return MediaCopy(
        store="local",
        files=files,
        bytes=sum(entry.size for entry in files),
        missing=sorted(referenced - copied),
    )


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    warnings: list[str]
    """What the restored installation lacks (media the database references)."""


def restore_backup(config: Settings, source: Path, *, force: bool) -> Restored:
    """Restore the backup in `source` into the database and media of `config`.
    Refuses a database or media store that already holds data unless `force`;
    verifies every checksum before it writes anything; leaves the database at the
    backup's schema revision (`photochanger migrate` upgrades it)."""
    manifest = Manifest.read(source)
    dialect = dialect_of(config)
    if manifest.database.dialect != dialect:
        raise BackupError(
            f"this is a {manifest.database.dialect} backup and the configured database is "
            f"{dialect}: restore it into a {manifest.database.dialect} database "
            "(docs/operations.md#backups)"
        )
    require_known_revision(manifest.database.schema_revision)
    local_media = manifest.media.store == "local"
    if local_media and config.media_store != "local":
        raise BackupError(
            "this backup holds the files of a local media store and the configured store "
            "is not local: restore into PHOTOCHANGER_MEDIA_ROOT, then copy them to the bucket"
        )
    verify_files(source, [manifest.database.file, *manifest.media.files])

    media_root = config.resolved_media_root
    in_use = _data_in_use(config, dialect, media_root if local_media else None)
    if in_use and not force:
        raise BackupError(
            f"{' and '.join(in_use)} already hold data: restore into a fresh data directory "
            "and database, or pass --force to replace them"
        )
    config.prepare_directories()
    database_copy = backup_path(source, manifest.database.file.path)
    if dialect == "sqlite":
        restore_sqlite(database_copy, sqlite_path(config))
        restored = describe_sqlite(sqlite_path(config))
    else:
        restored = restore_postgres(database_copy, config.resolved_database_url, clean=force)
    if local_media:
        # Into a sibling first, swapped in once complete: a disk that fills up
        # midway leaves the media that were there, not half of each.
        staging = media_root.with_name(media_root.name + ".restoring")
        clear_media(staging)
        restore_media(source, manifest.media.files, staging)
        replace_media(staging, media_root)
    if (restored.schema_revision, restored.counts) != (
        manifest.database.schema_revision,
        manifest.database.counts,
    ):
        raise BackupError(
            "the restored database differs from the manifest (revision "
            f"{restored.schema_revision}, counts {restored.counts}); the backup was "
            "verified, so check that nothing else writes to the target database"
        )
    return Restored(manifest, _media_warnings(config, manifest, restored))


def _media_warnings(config: Settings, manifest: Manifest, restored: Snapshot) -> list[str]:
    referenced = {item.key for item in restored.live_objects}
    if manifest.media.store == "local":
        lacking = referenced - {media_key(entry) for entry in manifest.media.files}
        where = f"the media store {config.resolved_media_root}"
    elif config.media_store == "s3":
        lacking = referenced - {item.key for item in list_bucket(config)}
        where = f"the bucket {config.s3_bucket}"
    else:
        return [
            f"the media of this backup live in a bucket: copy its {len(manifest.media.objects)} "
            f"objects into {config.resolved_media_root} or set PHOTOCHANGER_MEDIA_STORE=s3"
        ]
    if not lacking:
        return []
    shown = ", ".join(sorted(lacking)[:5])
    return [f"{len(lacking)} file(s) the database references are not in {where}: {shown}"]


def _data_in_use(config: Settings, dialect: str, media_root: Path | None) -> list[str]:
    found = []
    if dialect == "sqlite":
        if sqlite_in_use(sqlite_path(config)):
            found.append(f"the database {sqlite_path(config)}")
    elif postgres_in_use(config.resolved_database_url):
        found.append(f"the database {make_url(config.resolved_database_url)!r}")
    if media_root is not None and media_in_use(media_root):
        found.append(f"the media store {media_root}")
    return found
