"""`photochanger backup` and `photochanger restore` (docs/operations.md#backups),
run as an operator would: a real server with jobs and results, a backup taken
while ingests are running, restored into a fresh installation that then serves
the same results and the same job log."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from conftest import PG_URL, start_live_server
from photochanger.config import Settings
from photochanger.db import create_engine
from photochanger.migrate import head_revision
from photochanger.models import Job
from support import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    INGEST_PASSWORD,
    SessionFactory,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    photochanger,
)

RACING_INGESTS = 500
"""At most this many ingests run beside the backup; they stop when it ends."""
COMPARED = (
    "id",
    "slot_id",
    "source",
    "status",
    "outcome",
    "failure_reason",
    "provider",
    "started_at",
    "finished_at",
    "duration_ms",
    "input_size",
    "result_mime",
    "result_size",
)


def installation_env(config: Settings) -> dict[str, str]:
    return {
        "PHOTOCHANGER_DATA_DIR": str(config.data_dir),
        "PHOTOCHANGER_DATABASE_URL": config.resolved_database_url,
        "PHOTOCHANGER_MEDIA_ROOT": str(config.resolved_media_root),
    }


def fresh_config(data_dir: Path, database_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        ingest_password=INGEST_PASSWORD,
        enable_test_providers=True,
        instance_id="restored",
        public_base_url="http://booth.test",
        **extra,
    )


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Where a restore goes: a database that does not exist yet (SQLite) or an
    empty one (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'photochanger.db'}"
        return
    assert PG_URL is not None
    name = f"restore_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def ingest(http: httpx.Client, slot: str, seed: int) -> httpx.Response:
    return http.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": (f"p{seed}.jpg", make_image(seed=seed), "image/jpeg")},
    )


def job_log(http: httpx.Client) -> dict[str, dict[str, Any]]:
    login = http.post("/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    page = http.get("/api/jobs", params={"limit": 500}, headers=headers)
    assert page.status_code == 200, page.text
    assert page.json()["next_cursor"] is None
    return {job["id"]: {key: job[key] for key in COMPARED} for job in page.json()["jobs"]}


def results_of(http: httpx.Client, log: dict[str, dict[str, Any]]) -> dict[str, str]:
    """SHA-256 of every done job's public result."""
    found = {}
    for job_id, job in log.items():
        if job["status"] == "done":
            answer = http.get(f"/public/results/{job_id}")
            assert answer.status_code == 200, (job_id, answer.text)
            found[job_id] = hashlib.sha256(answer.content).hexdigest()
    return found


async def wait_for_pending_job(factory: SessionFactory, slot_id: str) -> str:
    for _ in range(400):
        async with factory() as session:
            job = (
                await session.scalars(
                    select(Job).where(Job.slot_id == slot_id, Job.status == "pending")
                )
            ).first()
        if job is not None:
            return job.id
        await asyncio.sleep(0.05)
    raise AssertionError(f"no pending job on {slot_id}")


async def test_a_backup_taken_while_serving_restores_into_a_fresh_installation(
    config: Settings,
    app: FastAPI,
    factory: SessionFactory,
    admin_token: str,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await configure_slot(factory, "slot-002", **echo(fail_with="no image in the answer"))
    await configure_slot(factory, "slot-003", **echo(delay_seconds=6))
    backup_dir = tmp_path / "backup"
    server = start_live_server(config)
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            for seed in range(3):
                assert ingest(http, "slot-001", seed).status_code == 200
            assert ingest(http, "slot-002", 9).status_code == 502
            before = job_log(http)

            slow = threading.Thread(target=ingest, args=(http, "slot-003", 7))
            slow.start()
            in_flight = await wait_for_pending_job(factory, "slot-003")
            stop = threading.Event()
            racing_answers: list[int] = []

            def race() -> None:
                with httpx.Client(base_url=server.base_url, timeout=60) as other:
                    for seed in range(100, 100 + RACING_INGESTS):
                        if stop.is_set():
                            return
                        racing_answers.append(ingest(other, "slot-001", seed).status_code)

            racing = threading.Thread(target=race)
            racing.start()
            made = await asyncio.to_thread(
                photochanger, "backup", str(backup_dir), env=installation_env(config)
            )
            stop.set()
            racing.join()
            slow.join()
            assert made.returncode == 0, made.stderr
            assert "Backed up to" in made.stdout
            assert racing_answers
            assert set(racing_answers) == {200}
            live = job_log(http)
            live_results = results_of(http, live)
    finally:
        server.stop()

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["format"] == "photochanger-backup"
    assert manifest["version"] == 1
    assert manifest["database"]["schema_revision"] == head_revision()
    assert manifest["media"]["store"] == "local"
    assert manifest["media"]["missing"] == []
    for entry in [manifest["database"]["file"], *manifest["media"]["files"]]:
        data = (backup_dir / entry["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"])

    restored_config = fresh_config(tmp_path / "restored", empty_database_url)
    env = installation_env(restored_config)
    done = photochanger("restore", str(backup_dir), env=env)
    assert done.returncode == 0, done.stderr
    again = photochanger("restore", str(backup_dir), env=env)
    assert again.returncode == 1
    assert "--force" in again.stderr
    migrated = photochanger("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr

    restored_server = start_live_server(restored_config)
    try:
        with httpx.Client(base_url=restored_server.base_url, timeout=60) as http:
            restored = job_log(http)
            restored_results = results_of(http, restored)
    finally:
        restored_server.stop()

    assert len(restored) == manifest["database"]["counts"]["job"]
    # Everything finished before the backup began is there as it was.
    assert {job_id: restored.get(job_id) for job_id in before} == before
    # Nothing that the live server did not have; every finished job as it is there.
    assert set(restored) <= set(live)
    for job_id, job in restored.items():
        if job["status"] != "pending":
            assert job == live[job_id]
    # The ingest that ran across the backup: caught running or done.
    assert restored[in_flight]["status"] in ("pending", "done")
    # Every result the restored database knows is served, byte for byte.
    assert restored_results
    assert restored_results == {job_id: live_results[job_id] for job_id in restored_results}


def seed_media(config: Settings) -> Path:
    """A result file in the installation's media store, as a store would write it."""
    path = config.resolved_media_root / "results" / "2026" / "12" / "07" / "job.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_image())
    return path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_a_damaged_backup_and_writes_nothing(
    config: Settings, app: FastAPI, tmp_path: Path
) -> None:
    seed_media(config)
    backup_dir = tmp_path / "backup"
    assert photochanger("backup", str(backup_dir), env=installation_env(config)).returncode == 0
    damaged = backup_dir / "media" / "results" / "2026" / "12" / "07" / "job.jpg"
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))

    target = tmp_path / "restored"
    env = installation_env(fresh_config(target, f"sqlite+aiosqlite:///{target}/p.db"))
    refused = photochanger("restore", str(backup_dir), env=env)
    assert refused.returncode == 1
    assert "media/results/2026/12/07/job.jpg: checksum differs" in refused.stderr
    assert not (target / "p.db").exists()
    assert not (target / "media").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_force_replaces_an_installation_with_the_backup(
    config: Settings, app: FastAPI, tmp_path: Path
) -> None:
    original = seed_media(config)
    backup_dir = tmp_path / "backup"
    assert photochanger("backup", str(backup_dir), env=installation_env(config)).returncode == 0

    # The installation moves on: a file replaced, another added.
    original.write_bytes(b"changed")
    stray = config.resolved_media_root / "results" / "stray.jpg"
    stray.write_bytes(b"not in the backup")
    env = installation_env(config)
    assert photochanger("restore", str(backup_dir), env=env).returncode == 1
    forced = photochanger("restore", "--force", str(backup_dir), env=env)
    assert forced.returncode == 0, forced.stderr
    assert original.read_bytes() == make_image()
    assert not stray.exists()
    # Restored beside the old tree and swapped in: nothing of either is left over.
    siblings = sorted(path.name for path in config.resolved_media_root.parent.iterdir())
    assert not [name for name in siblings if name.endswith((".restoring", ".replaced"))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_backup_and_restore_refuse_what_they_cannot_do(
    config: Settings, app: FastAPI, tmp_path: Path
) -> None:
    env = installation_env(config)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    refused = photochanger("backup", str(occupied), env=env)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr

    not_a_backup = photochanger("restore", str(occupied), env=env)
    assert not_a_backup.returncode == 1
    assert "manifest.json" in not_a_backup.stderr

    backup_dir = tmp_path / "backup"
    assert photochanger("backup", str(backup_dir), env=env).returncode == 0
    manifest_path = backup_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["database"]["schema_revision"] = "9999_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    target = tmp_path / "restored"
    newer = photochanger(
        "restore",
        str(backup_dir),
        env=installation_env(fresh_config(target, f"sqlite+aiosqlite:///{target}/p.db")),
    )
    assert newer.returncode == 1
    assert "9999_from_the_future" in newer.stderr
    assert not (target / "p.db").exists()

    nothing = tmp_path / "nothing"
    missing = photochanger(
        "backup",
        str(tmp_path / "backup-2"),
        env={**env, "PHOTOCHANGER_DATABASE_URL": f"sqlite+aiosqlite:///{nothing}/p.db"},
    )
    assert missing.returncode == 2
    assert "no database" in missing.stderr
    assert not (nothing / "p.db").exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_backup_without_pg_dump_points_to_the_docs(
    config: Settings, app: FastAPI, tmp_path: Path
) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {**installation_env(config), "PATH": str(empty_path)}
    result = photochanger("backup", str(tmp_path / "backup"), env=env)
    assert result.returncode == 2
    assert "pg_dump is not on PATH" in result.stderr
    assert "docs/operations.md#backups" in result.stderr
    assert not (tmp_path / "backup" / "manifest.json").exists()


# --- an S3 store: the bucket is listed, not copied -----------------------------

BUCKET = "photochanger-backup-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from support import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    return {
        "media_store": "s3",
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        "s3_path_style": True,
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    }


def s3_env(settings: dict[str, Any]) -> dict[str, str]:
    return {
        f"PHOTOCHANGER_{name.upper()}": str(value).lower() if isinstance(value, bool) else value
        for name, value in settings.items()
    }


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[Any]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    yield client, name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def config(config: Settings, request: pytest.FixtureRequest) -> Settings:
    """With `s3_bucket` requested, the app stores its media in that bucket."""
    if "bucket" not in request.fixturenames:
        return config
    endpoint = request.getfixturevalue("s3_endpoint")
    _client, name = request.getfixturevalue("bucket")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{**config.model_dump(), **s3_settings(endpoint, name)},
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_s3_backup_lists_the_bucket_and_restore_names_what_it_lacks(
    config: Settings,
    client: httpx.AsyncClient,
    factory: SessionFactory,
    bucket: tuple[Any, str],
    s3_endpoint: str,
    tmp_path: Path,
) -> None:
    s3, name = bucket
    await configure_slot(factory, "slot-001", **echo())
    answer = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("p.jpg", make_image(), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    in_bucket = {item["Key"]: item["Size"] for item in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert in_bucket

    settings = s3_settings(s3_endpoint, name)
    backup_dir = tmp_path / "backup"
    made = photochanger(
        "backup", str(backup_dir), env={**installation_env(config), **s3_env(settings)}
    )
    assert made.returncode == 0, made.stderr
    assert "objects in the bucket" in made.stdout
    media = json.loads((backup_dir / "manifest.json").read_text())["media"]
    assert media["store"] == "s3"
    assert {item["key"]: item["size"] for item in media["objects"]} == in_bucket
    assert media["files"] == []
    assert media["missing"] == []
    assert not (backup_dir / "media").exists()

    lost = sorted(in_bucket)[0]
    s3.delete_object(Bucket=name, Key=lost)
    target = tmp_path / "restored"
    restored_config = fresh_config(target, f"sqlite+aiosqlite:///{target}/p.db")
    restored = photochanger(
        "restore",
        str(backup_dir),
        env={**installation_env(restored_config), **s3_env(settings)},
    )
    assert restored.returncode == 0, restored.stderr
    assert f"are not in the bucket {name}: {lost}" in restored.stderr
