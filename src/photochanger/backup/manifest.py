"""`manifest.json`, written last into a backup: what the backup holds and the
checksums restore verifies before it touches anything."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

FORMAT: Literal["photochanger-backup"] = "photochanger-backup"
VERSION = 1
MANIFEST_NAME = "manifest.json"
MEDIA_DIRECTORY = "media"
DATABASE_FILES = {"sqlite": "photochanger.db", "postgresql": "photochanger.pgdump"}
"""The database's file in a backup: a SQLite database file, or pg_dump's custom format."""

_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BackupFile(BaseModel):
    path: str = Field(description="Relative to the backup's directory, `/`-separated.")
    size: int
    sha256: str


class DatabaseDump(BaseModel):
    dialect: Literal["sqlite", "postgresql"]
    file: BackupFile
    schema_revision: str | None = Field(description="The Alembic revision of the copy.")
    counts: dict[str, int] = Field(description="Rows of every table in the copy.")


class StoredObject(BaseModel):
    key: str
    size: int
    etag: str | None = None


class MediaCopy(BaseModel):
    store: Literal["local", "s3"]
    files: list[BackupFile] = Field(
        default_factory=list, description="The local store's files, copied under `media/`."
    )
    objects: list[StoredObject] = Field(
        default_factory=list,
        description="An S3 store's objects (the bucket's listing under the prefix, made "
        "after the database copy): listed, not copied.",
    )
    bytes: int
    missing: list[str] = Field(
        description="Keys of live `media_object` rows in the copied database whose file "
        "or object was not there (removed by cleanup between the two copies, or lost "
        "before)."
    )


class Manifest(BaseModel):
    format: Literal["photochanger-backup"] = FORMAT
    version: int = VERSION
    created_at: datetime
    photochanger_version: str
    database: DatabaseDump
    media: MediaCopy

    def write(self, directory: Path) -> None:
        """Written last, through a temp file: a backup without a manifest is not one."""
        temp = directory / f".{MANIFEST_NAME}.part"
        temp.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(temp, directory / MANIFEST_NAME)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BackupError(
                f"{directory} has no {MANIFEST_NAME}: not a backup made by "
                "`photochanger backup`, or one that did not finish"
            ) from None
        try:
            manifest = cls.model_validate_json(text)
        except ValidationError as error:
            raise BackupError(f"{path} is not a PhotoChanger backup manifest: {error}") from None
        if manifest.version > VERSION:
            raise BackupError(
                f"{path} is a version {manifest.version} backup; this PhotoChanger reads "
                f"up to version {VERSION}: restore it with a newer PhotoChanger"
            )
        return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_with_checksum(source: Path, target: Path) -> tuple[int, str]:
    """Copy `source` to `target` (a new file) reading it once; its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def describe_file(directory: Path, relative: str) -> BackupFile:
    path = directory / relative
    return BackupFile(path=relative, size=path.stat().st_size, sha256=sha256_of(path))
