"""The fuzzed server: `photochanger serve` on loopback over a database of its
own, with the test admin account, a few real jobs and a template image, and a
JWT secret this process knows, so every admin case gets a token of its own (a
fuzzed `POST /api/logout` revokes the one it was sent with, and must not lock
the next case out)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from conftest import LiveServer, start_live_server
from photochanger.auth.repository import AccountRepository
from photochanger.auth.tokens import issue_token
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.models.base import utcnow
from support import ADMIN_USERNAME, INGEST_PASSWORD, make_image

JWT_SECRET = secrets.token_urlsafe(48)
"""Every fuzzed server of this test process signs with it."""

BOOTH_PHOTOS = tuple(
    make_image(fmt, size, seed)
    for seed, (fmt, size) in enumerate(
        [("JPEG", (48, 32)), ("PNG", (32, 48)), ("WEBP", (40, 40)), ("JPEG", (3, 1))]
    )
)
"""Small photos a booth could send: each format, a landscape, a portrait, a
square and a sliver."""

SLOT_IDS = tuple(f"slot-{n:03d}" for n in range(1, 16))


def admin_token() -> str:
    """A valid admin token, as `POST /api/login` would issue it."""
    token, _ = issue_token(ADMIN_USERNAME, JWT_SECRET, utcnow())
    return token


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token()}"}


@dataclass
class FuzzTarget:
    server: LiveServer
    real_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Ids of things that exist, by path parameter (`job_id`: jobs with a
    result; `template_id`, `slot_id`), made before any fuzzing (which may
    disable a slot or delete a template)."""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def ingest_password(self) -> str:
        """The ingest password now: the admin pass changes it at random."""
        answer = httpx.get(f"{self.base_url}/api/settings", headers=admin_headers(), timeout=30)
        answer.raise_for_status()
        password: str = answer.json()["ingest_password"]["value"]
        return password


def fuzz_settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only argument
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        ingest_password=INGEST_PASSWORD,
        enable_test_providers=True,
        instance_id="fuzz",
        public_base_url="http://booth.test",
    )


def start_fuzz_target(config: Settings, admin_password_hash: str) -> FuzzTarget:
    """The server on `config`'s migrated database, with the admin account."""

    async def create_admin() -> None:
        database = Database(create_engine(config.resolved_database_url))
        try:
            await database.write(
                lambda connection: AccountRepository(connection).create(
                    ADMIN_USERNAME, admin_password_hash
                )
            )
        finally:
            await database.dispose()

    asyncio.run(create_admin())
    server = start_live_server(
        config,
        {
            "PHOTOCHANGER_JWT_SECRET": JWT_SECRET,
            # A periodic cleanup between two cases would make one answer depend
            # on the clock; `POST /api/cleanup` is fuzzed instead.
            "PHOTOCHANGER_CLEANUP_ENABLED": "false",
            "PHOTOCHANGER_LOCAL_WORKERS": "1",
        },
    )
    target = FuzzTarget(server)
    target.real_ids = {
        "slot_id": SLOT_IDS,
        "job_id": tuple(_ingest(target.base_url, photo) for photo in BOOTH_PHOTOS),
        "template_id": (_upload_template(target.base_url),),
    }
    return target


def _ingest(base_url: str, photo: bytes) -> str:
    answer = httpx.post(
        f"{base_url}/api/ingest/slot-001",
        data={"password": INGEST_PASSWORD},
        files={"fileToUpload": ("photo", photo, "application/octet-stream")},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Job-Id"]


def _upload_template(base_url: str) -> str:
    answer = httpx.post(
        f"{base_url}/api/template-media",
        headers=admin_headers(),
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("backdrop", BOOTH_PHOTOS[0], "image/jpeg")},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    template_id: str = answer.json()["id"]
    return template_id
