"""`photochanger backup DEST` and `photochanger restore SRC [--force]`: exit 0 when
done, 1 when the backup or restore cannot be done (a non-empty target, a damaged
backup, a failed pg_dump), 2 when the installation is not ready for it (no
database, pg_dump missing)."""

from __future__ import annotations

import sys
from pathlib import Path

from photochanger.backup.manifest import MANIFEST_NAME, BackupError, Manifest
from photochanger.backup.service import create_backup, restore_backup
from photochanger.config import Settings
from photochanger.migrate import head_revision

_MB = 1024 * 1024


def backup_command(config: Settings, destination: Path) -> int:
    try:
        manifest = create_backup(config, destination)
    except BackupError as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a full disk, a directory it may not write
        print(f"Backup failed: {error}", file=sys.stderr)
        return 1
    print(f"Backed up to {destination}:")
    _print_contents(manifest)
    if manifest.media.missing:
        print(
            f"  {len(manifest.media.missing)} file(s) the database references were not found "
            f"(listed under media.missing in {MANIFEST_NAME})"
        )
    return 0


def restore_command(config: Settings, source: Path, *, force: bool) -> int:
    try:
        restored = restore_backup(config, source, force=force)
    except BackupError as error:
        print(f"Restore failed: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"Restore failed: {error}", file=sys.stderr)
        return 1
    manifest = restored.manifest
    print(f"Restored the backup of {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC from {source}:")
    _print_contents(manifest)
    revision = manifest.database.schema_revision
    if revision != head_revision():
        print(
            f"The database is at schema revision {revision}; run `photochanger migrate` "
            f"to bring it to {head_revision()} before serving."
        )
    for warning in restored.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    return 0


def _print_contents(manifest: Manifest) -> None:
    database, media = manifest.database, manifest.media
    counts = database.counts
    print(
        f"  database: {database.dialect}, schema revision {database.schema_revision}, "
        f"{counts.get('job', 0)} jobs, {counts.get('media_object', 0)} media objects "
        f"({database.file.path}, {database.file.size / _MB:.1f} MB)"
    )
    if media.store == "local":
        print(f"  media: {len(media.files)} files, {media.bytes / _MB:.1f} MB (media/)")
    else:
        print(
            f"  media: {len(media.objects)} objects in the bucket, {media.bytes / _MB:.1f} MB "
            f"(listed in {MANIFEST_NAME}; the bucket itself is not copied)"
        )
