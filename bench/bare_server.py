"""The bench's baseline: a bare Starlette endpoint that does only the part of an
ingest nobody can skip — it streams the multipart upload through the ingest's own
parser (`photochanger.multipart.parse_upload_form`: python-multipart push parser,
spooled to a temp file past 256 KiB, SHA-1 and SHA-256 on the way) and answers a
small JSON with the size and the SHA-256. No database, no provider, no answer image.

With `--keep` it also does the least that any ingest following SPEC §3.3 and §5.1
must add: the photo stays in memory while a budget like the server's allows, it
is kept as a file through the media store (`LocalMediaStore`: temp file and
rename, or a link of the spooled upload) and its bytes are the answer, as an
instant provider's result would be. Still no database, validation or provider.
On a machine where keeping data is dear (bench/README.md), this is the ceiling
of any implementation, and the distance from it is what the rest of ours costs.

    .venv/bin/python bench/bare_server.py --port 8100 --spool-dir /tmp/spool [--keep]

It runs under uvicorn with the same options as `photochanger serve` (uvloop and
httptools when installed, no access log, keep-alive 15 s).
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from photochanger.config import GLOBAL_UPLOAD_CAP_MB
from photochanger.errors import PhotoChangerError
from photochanger.media.store import LocalMediaStore
from photochanger.multipart import SpooledFile, parse_upload_form
from photochanger.photo_memory import ByteBudget

FILE_LIMIT_BYTES = GLOBAL_UPLOAD_CAP_MB * 1024 * 1024
PHOTO_MEMORY_BYTES = 16 * 1024 * 1024  # the server's default budget (photo_memory_mb)


def create_app(spool_dir: Path, keep: bool = False) -> Starlette:
    spool_dir.mkdir(parents=True, exist_ok=True)
    store = LocalMediaStore(spool_dir.parent / "media")
    store.prepare()
    budget = ByteBudget(PHOTO_MEMORY_BYTES) if keep else None

    async def keep_and_answer(file: SpooledFile) -> Response:
        key = f"results/{datetime.now(UTC):%Y/%m/%d}/{secrets.token_urlsafe(18)}.jpg"
        if file.data is not None:
            await store.put_bytes(key, file.data)
            return Response(file.data, media_type="image/jpeg")
        assert file.path is not None
        size = await store.put_file(key, file.path)
        return StreamingResponse(
            store.stream(key), media_type="image/jpeg", headers={"content-length": str(size)}
        )

    async def upload(request: Request) -> Response:
        length = request.headers.get("content-length")
        try:
            form = await parse_upload_form(
                request.stream(),
                request.headers.get("content-type"),
                declared_length=int(length) if length else None,
                file_limit=FILE_LIMIT_BYTES,
                spool_dir=spool_dir,
                budget=budget,
            )
        except PhotoChangerError as error:
            return error.to_response()
        try:
            if form.file is None or form.file.size == 0:
                return JSONResponse({"status": "error", "details": "no file"}, status_code=400)
            if keep:
                return await keep_and_answer(form.file)
            return JSONResponse(
                {"size": form.file.size, "sha256": form.file.sha256.hexdigest()},
                headers={"Cache-Control": "no-store"},
            )
        finally:
            if form.file is not None:
                form.file.discard()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/api/ingest/{slot_id:path}", upload, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--spool-dir", type=Path, required=True)
    parser.add_argument(
        "--keep", action="store_true", help="keep the photo in a media store and answer with it"
    )
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.spool_dir.resolve(), args.keep),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=15,
        server_header=False,
    )


if __name__ == "__main__":
    main()
