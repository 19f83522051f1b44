"""An S3 store's side of a backup: the bucket is not copied (versioning and
replication are the provider's tools for that); its listing, made after the
database copy, is written into the manifest, and restore checks the bucket
still holds what the restored database references."""

from __future__ import annotations

import asyncio

from botocore.exceptions import BotoCoreError, ClientError

from photochanger.backup.manifest import BackupError, StoredObject
from photochanger.config import Settings
from photochanger.media.s3_store import open_s3_store


def list_bucket(config: Settings) -> list[StoredObject]:
    """Every object under the store's prefix, by its media key."""

    async def run() -> list[StoredObject]:
        async with open_s3_store(config) as store:
            found = []
            pages = store.client.get_paginator("list_objects_v2").paginate(
                Bucket=store.bucket, Prefix=store.prefix
            )
            async for page in pages:
                for item in page.get("Contents", []):
                    found.append(
                        StoredObject(
                            key=item["Key"][len(store.prefix) :],
                            size=item["Size"],
                            etag=item.get("ETag", "").strip('"') or None,
                        )
                    )
            return sorted(found, key=lambda item: item.key)

    try:
        return asyncio.run(run())
    except (BotoCoreError, ClientError) as error:
        raise BackupError(f"cannot list the bucket {config.s3_bucket}: {error}") from None
