"""A real S3-wire server for the S3 media store's tests, registered as a pytest
plugin in tests/conftest.py: moto's server mode (`ThreadedMotoServer`) on
127.0.0.1 (one per test process, on a port the system picks) and a fresh bucket
per test. Nothing here can reach AWS: every client is given the loopback
endpoint and dummy keys, the AWS variables a developer may have set are
replaced for the session, and instance-metadata lookups are off."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

S3_ACCESS_KEY = "testing-access-key"
S3_SECRET_KEY = "testing-secret-key"
S3_REGION = "us-east-1"
S3_PREFIX = "studio/prod"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The moto S3 server's URL on loopback."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
        env.setenv("AWS_CONFIG_FILE", "/dev/null")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1"
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str
    name: str
    prefix: str = S3_PREFIX

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """`Settings` fields of an S3 media store on this bucket."""
        return {
            "media_store": "s3",
            "s3_bucket": self.name,
            "s3_prefix": self.prefix,
            "s3_endpoint_url": self.endpoint,
            "s3_region": S3_REGION,
            "s3_path_style": True,
            "s3_access_key_id": S3_ACCESS_KEY,
            "s3_secret_access_key": S3_SECRET_KEY,
            **overrides,
        }

    def environment(self, **overrides: str) -> dict[str, str]:
        """The same as `PHOTOCHANGER_*` variables, for a `photochanger serve`."""
        values = {**self.settings(), **overrides}
        return {f"PHOTOCHANGER_{name.upper()}": str(value) for name, value in values.items()}

    def object_name(self, key: str) -> str:
        """Where the store keeps `key` in the bucket."""
        return f"{self.prefix}/{key}"


@pytest.fixture
async def s3_client(s3_endpoint: str) -> AsyncIterator[S3Client]:
    """A plain S3 client of the moto server: tests look at the bucket through
    it, never through the store under test."""
    async with get_session().create_client(
        "s3",
        region_name=S3_REGION,
        endpoint_url=s3_endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    ) as client:
        yield client


@pytest.fixture
async def s3_bucket(s3_endpoint: str, s3_client: S3Client) -> AsyncIterator[S3Bucket]:
    """A new, empty bucket, removed with what it holds after the test (unless
    the test removed it)."""
    bucket = S3Bucket(s3_endpoint, f"photochanger-test-{uuid.uuid4().hex[:16]}")
    await s3_client.create_bucket(Bucket=bucket.name)
    yield bucket
    await remove_bucket(s3_client, bucket.name)


async def remove_bucket(client: S3Client, bucket: str) -> None:
    try:
        for name in await object_names(client, bucket):
            await client.delete_object(Bucket=bucket, Key=name)
        await client.delete_bucket(Bucket=bucket)
    except client.exceptions.NoSuchBucket:
        pass


async def object_names(client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    """Every object name in the bucket (under `prefix`), sorted."""
    names: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        names.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(names)


async def object_bytes(client: S3Client, bucket: str, name: str) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    try:
        answer = await client.get_object(Bucket=bucket, Key=name)
    except client.exceptions.NoSuchKey:
        return None
    async with answer["Body"] as body:
        data: bytes = await body.read()
    return data
