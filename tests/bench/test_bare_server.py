"""The bench's baselines (bench/bare_server.py) do what bench/README.md says they
do: the bare endpoint keeps nothing and answers a small JSON; with `keep` it keeps
the photo in a media store and answers with it. The ratios the bench reports are
only as honest as these two."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from starlette.applications import Starlette

from photochanger.multipart import BUDGETED_MEMORY_BYTES, MULTIPART_OVERHEAD_BYTES
from support import make_image

BARE_SERVER = Path(__file__).resolve().parents[2] / "bench" / "bare_server.py"


@pytest.fixture(scope="module")
def bare_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_bare_server", BARE_SERVER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def post(app: Starlette, photo: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        return await client.post(
            "/api/ingest/slot-001",
            data={"password": "bench"},
            files={"fileToUpload": ("IMG_0001.jpg", photo, "image/jpeg")},
        )


def kept_files(root: Path) -> list[Path]:
    return sorted(path for path in (root / "media").rglob("*") if path.is_file())


@pytest.mark.parametrize("size", [(320, 240), (1600, 1200)])  # in memory; spooled to disk
async def test_bare_keeps_nothing_and_answers_json(
    bare_server: ModuleType, tmp_path: Path, size: tuple[int, int]
) -> None:
    photo = make_image("JPEG", size)
    answer = await post(bare_server.create_app(tmp_path / "spool"), photo)

    assert answer.status_code == 200
    assert answer.json() == {"size": len(photo), "sha256": hashlib.sha256(photo).hexdigest()}
    assert kept_files(tmp_path) == []
    assert list((tmp_path / "spool").iterdir()) == []


@pytest.mark.parametrize("size", [(320, 240), (4400, 3300)])  # in memory; spooled to disk
async def test_bare_keep_stores_the_photo_and_answers_with_it(
    bare_server: ModuleType, tmp_path: Path, size: tuple[int, int]
) -> None:
    photo = make_image("JPEG", size)
    if size[0] > 320:  # the server's path for a large photo: straight to a temp file
        assert len(photo) > BUDGETED_MEMORY_BYTES + MULTIPART_OVERHEAD_BYTES
    app = bare_server.create_app(tmp_path / "spool", keep=True)
    answer = await post(app, photo)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.content == photo
    assert answer.headers["content-length"] == str(len(photo))  # as ours answers
    kept = kept_files(tmp_path)
    assert [path.read_bytes() for path in kept if ".tmp" not in path.parts] == [photo]
    assert list((tmp_path / "spool").iterdir()) == []  # the upload's spool file is gone
