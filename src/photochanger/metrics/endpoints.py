"""`GET /metrics` (SPEC §8): the Prometheus text format, for whom
`PHOTOCHANGER_METRICS_ACCESS` allows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from photochanger.dependencies import ConfigDep, DatabaseDep
from photochanger.errors import NotAuthenticated, error_responses
from photochanger.metrics.access import check_access
from photochanger.metrics.dependencies import MetricsDep
from photochanger.metrics.service import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The metrics in Prometheus' text exposition format.",
            "content": {"text/plain": {}},
        },
        404: {"description": "this client may not read the metrics (or they are off)"},
        **error_responses(NotAuthenticated),
    },
)
async def metrics(
    request: Request, config: ConfigDep, database: DatabaseDep, metrics: MetricsDep
) -> Response:
    """Prometheus metrics (docs/operations.md lists them): ingests by slot,
    provider and outcome, provider calls, admissions refused, what the media
    store holds, cleanup, and the process. Readable per
    `PHOTOCHANGER_METRICS_ACCESS`: `loopback` (default) clients on this host
    only; `token` any client sending `Authorization: Bearer
    <PHOTOCHANGER_METRICS_TOKEN>`; `off` nobody. A client that may not read them
    gets 404, as for a page that does not exist; a missing or wrong token, 401."""
    check_access(request, config)
    body = await metrics.scrape(database)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
