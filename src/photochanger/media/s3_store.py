"""The S3-compatible media store (`PHOTOCHANGER_MEDIA_STORE=s3`): the same
`MediaStore` as the local directory, on a bucket that every replica shares.

Every key lives under the configured prefix and is checked as the local store
checks it (`InvalidKey`), so no key reaches outside the prefix. A write is one
PUT, which S3 makes visible whole or not at all; reads stream the object's body.
S3's errors become the `OSError`s the callers already handle: a missing key is
`FileNotFoundError`, a refusal `PermissionError`, anything else (unreachable,
throttled after retries, no such bucket) `S3Unavailable`."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from photochanger.config import Settings
from photochanger.errors import ResultExpired
from photochanger.media.image_type import EXTENSIONS
from photochanger.media.store import READ_CHUNK_BYTES, DeleteOutcome, InvalidKey, key_parts
from photochanger.models.base import utcnow

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = structlog.get_logger("photochanger.media")

DELETE_BATCH_KEYS = 1000
"""DeleteObjects takes at most 1000 keys a request."""
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
"""Longer than any healthy answer; a stalled endpoint must not hold an ingest
for the rest of its sync window."""
READY_CHECK_SECONDS = 10
READY_PROBE_KEY = ".ready/probe"
"""The readiness probe's one object, under the prefix (`S3MediaStore.check_writable`)."""
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
"""`404`: a HEAD's error has no body, only its status. A missing bucket is
`NoSuchBucket` on every other request, and stays `S3Unavailable`."""
REFUSED_CODES = frozenset({"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId"})
_MIME_OF_EXTENSION = {extension: mime for mime, extension in EXTENSIONS.items()}


class S3Unavailable(OSError):
    """The bucket could not be reached, or it answered with an error."""


@contextmanager
def _as_os_errors(key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in MISSING_CODES:
            raise FileNotFoundError(f"no media object {key!r}") from None
        if code in REFUSED_CODES:
            raise PermissionError(f"the bucket refused {key!r} ({code})") from None
        raise S3Unavailable(f"the bucket answered {code or 'an error'} for {key!r}") from None
    except BotoCoreError as error:
        raise S3Unavailable(f"the bucket is unreachable ({type(error).__name__})") from None


class S3MediaStore:
    """`client` is the app's one S3 client (made and closed by `open_s3_store`);
    `presigner`, when given, signs the download URLs of `download_url` (the
    `redirect` mode of public results), else results stream through the app."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "",
        presigner: S3Client | None = None,
        presign_seconds: int = 300,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = "/".join(key_parts(prefix)) + "/" if prefix else ""
        self._presigner = presigner
        self._presign_seconds = presign_seconds

    def object_key(self, key: str) -> str:
        """The bucket's name for `key`: under the prefix, always."""
        return self.prefix + "/".join(key_parts(key))

    def local_path(self, key: str) -> Path | None:
        return None

    async def put_bytes(self, key: str, data: bytes) -> int:
        name = self.object_key(key)
        content_type = _MIME_OF_EXTENSION.get(key.rsplit(".", 1)[-1], "application/octet-stream")
        with _as_os_errors(key):
            await self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            )
        return len(data)

    async def put_file(self, key: str, source: Path) -> int:
        self.object_key(key)  # an invalid key fails before the file is read
        # Read whole (on a thread): a result or template is at most tens of MB,
        # and one PUT of known length is atomic with no multipart upload to
        # abort when the process dies half-way.
        data = await asyncio.to_thread(source.read_bytes)
        return await self.put_bytes(key, data)

    async def read(self, key: str) -> bytes:
        name = self.object_key(key)
        with _as_os_errors(key):
            answer = await self.client.get_object(Bucket=self.bucket, Key=name)
            async with answer["Body"] as body:
                return await body.read()

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        name = self.object_key(key)
        with _as_os_errors(key):
            answer = await self.client.get_object(Bucket=self.bucket, Key=name)
        body = answer["Body"]
        try:
            while True:
                with _as_os_errors(key):
                    chunk = await body.read(READ_CHUNK_BYTES)
                if not chunk:
                    return
                yield chunk
        finally:
            # Also when the reader gives up early: the connection is not reused
            # with an unread body on it.
            body.close()

    async def exists(self, key: str) -> bool:
        name = self.object_key(key)
        try:
            with _as_os_errors(key):
                await self.client.head_object(Bucket=self.bucket, Key=name)
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> bool:
        name = self.object_key(key)
        with _as_os_errors(key):
            await self.client.delete_object(Bucket=self.bucket, Key=name)
        return True

    async def delete_many(self, keys: Sequence[str]) -> dict[str, DeleteOutcome]:
        """DeleteObjects, up to 1000 keys a request. S3 answers a key that was
        already gone as deleted, so `missing` is only for keys no object can
        have; a request that fails makes its keys `failed`."""
        outcomes: dict[str, DeleteOutcome] = {}
        keys_of: dict[str, str] = {}
        for key in keys:
            try:
                keys_of[self.object_key(key)] = key
            except InvalidKey:
                outcomes[key] = "missing"
        names = list(keys_of)
        for start in range(0, len(names), DELETE_BATCH_KEYS):
            batch = names[start : start + DELETE_BATCH_KEYS]
            try:
                with _as_os_errors(batch[0]):
                    answer = await self.client.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                    )
            except OSError as error:
                log.warning("s3_delete_failed", keys=len(batch), error=str(error))
                outcomes.update({keys_of[name]: "failed" for name in batch})
                continue
            refused: dict[str, DeleteOutcome] = {}
            for problem in answer.get("Errors", []):
                name = problem.get("Key", "")
                refused[name] = "missing" if problem.get("Code") == "NoSuchKey" else "failed"
            if refused:
                log.warning("s3_delete_refused", keys=len(refused))
            for name in batch:
                outcomes[keys_of[name]] = refused.get(name, "deleted")
        return outcomes

    async def check_writable(self) -> None:
        """The probe object `<prefix>/.ready/probe` written and removed (what the
        app needs: put and delete under the prefix, no bucket-wide permission).
        One fixed key for every check of every replica: a check cancelled
        between its PUT and its DELETE (a client that gave up, the timeout)
        leaves that one small object, which the next check overwrites and
        removes, never a new object per call."""
        async with asyncio.timeout(READY_CHECK_SECONDS):  # TimeoutError is an OSError
            await self.put_bytes(READY_PROBE_KEY, b"ok")
            await self.delete(READY_PROBE_KEY)

    async def download_url(
        self, key: str, *, filename: str, mime: str, expires_at: datetime | None = None
    ) -> str | None:
        """A presigned GET, valid `presign_seconds` but never past `expires_at`:
        a link handed out just before the result expires must not keep serving
        it afterwards. `ResultExpired` when less than a second is left."""
        if self._presigner is None:
            return None
        seconds = self._presign_seconds
        if expires_at is not None:
            left = math.floor((expires_at - utcnow()).total_seconds())
            if left < 1:
                raise ResultExpired("this result has expired")
            seconds = min(seconds, left)
        name = self.object_key(key)
        with _as_os_errors(key):
            url: str = await self._presigner.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": name,
                    "ResponseContentType": mime,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=seconds,
            )
        return url


def client_config(config: Settings) -> AioConfig:
    return AioConfig(
        signature_version="s3v4",
        s3={"addressing_style": "path" if config.s3_path_style else "auto"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=config.s3_max_connections,
        # Checksums only where S3 requires them (DeleteObjects): several
        # S3-compatible servers refuse the newer default's checksum trailers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


@asynccontextmanager
async def open_s3_store(config: Settings) -> AsyncIterator[S3MediaStore]:
    """The store on `config`'s bucket, with its client; both closed on exit."""
    assert config.s3_bucket is not None
    # None: botocore's own chain (AWS_* variables, profile, instance role).
    key_id = config.s3_access_key_id.get_secret_value() if config.s3_access_key_id else None
    secret = config.s3_secret_access_key.get_secret_value() if config.s3_secret_access_key else None
    session = get_session()
    async with AsyncExitStack() as stack:

        async def client_at(endpoint_url: str | None) -> S3Client:
            return await stack.enter_async_context(
                session.create_client(
                    "s3",
                    region_name=config.s3_region,
                    endpoint_url=endpoint_url,
                    config=client_config(config),
                    aws_access_key_id=key_id,
                    aws_secret_access_key=secret,
                )
            )

        client = await client_at(config.s3_endpoint_url)
        presigner = None
        if config.s3_public_results == "redirect":
            public = config.s3_public_endpoint_url
            # Presigning is local work: this client never opens a connection.
            presigner = client if public is None else await client_at(public)
        yield S3MediaStore(
            client,
            config.s3_bucket,
            prefix=config.s3_prefix,
            presigner=presigner,
            presign_seconds=config.s3_presign_seconds,
        )
