"""The bench's baseline: a bare Starlette endpoint that does only the part of an
ingest nobody can skip — it streams the multipart upload through the ingest's own
parser (`photochanger.ingest.upload.parse_ingest_form`: python-multipart push parser,
spooled to a temp file past 256 KiB, SHA-1 and SHA-256 on the way) and answers a
small JSON with the size and the SHA-256. No database, no provider, no answer image.

    .venv/bin/python bench/bare_server.py --port 8100 --spool-dir /tmp/spool

It runs under uvicorn with the same options as `photochanger serve` (uvloop and
httptools when installed, no access log, keep-alive 15 s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from photochanger.config import GLOBAL_UPLOAD_CAP_MB
from photochanger.errors import PhotoChangerError
from photochanger.ingest.upload import parse_ingest_form

FILE_LIMIT_BYTES = GLOBAL_UPLOAD_CAP_MB * 1024 * 1024


def create_app(spool_dir: Path) -> Starlette:
    spool_dir.mkdir(parents=True, exist_ok=True)

    async def upload(request: Request) -> Response:
        length = request.headers.get("content-length")
        try:
            form = await parse_ingest_form(
                request.stream(),
                request.headers.get("content-type"),
                declared_length=int(length) if length else None,
                file_limit=FILE_LIMIT_BYTES,
                spool_dir=spool_dir,
            )
        except PhotoChangerError as error:
            return error.to_response()
        try:
            if form.file is None or form.file.size == 0:
                return JSONResponse({"status": "error", "details": "no file"}, status_code=400)
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
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.spool_dir.resolve()),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=15,
        server_header=False,
    )


if __name__ == "__main__":
    main()
