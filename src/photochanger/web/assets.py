"""`/static`: the UI's scripts, stylesheet, catalogs and vendored files."""

from __future__ import annotations

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from photochanger.web.shell import STATIC_DIR


class StaticAssets(StaticFiles):
    """Static files that a browser revalidates (ETag, 304) on every use: a deploy
    is seen at once, and on a venue's network a 304 costs next to nothing."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response
