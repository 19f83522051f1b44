"""Who may read `/metrics` (`PHOTOCHANGER_METRICS_ACCESS`): clients on this host,
clients with the bearer token, or nobody."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.exceptions import HTTPException
from starlette.requests import Request

from photochanger.config import Settings
from photochanger.errors import NotAuthenticated

BEARER = "bearer "


def check_access(request: Request, config: Settings) -> None:
    """Return when the request may read the metrics. Otherwise a client without
    a way in gets the 404 of a page that does not exist, and a client that
    should send the token and did not (or sent a wrong one) a 401."""
    if config.metrics_access == "token":
        if not _has_token(request, config):
            raise NotAuthenticated("send the metrics token: Authorization: Bearer <token>")
        return
    if config.metrics_access == "loopback" and _from_loopback(request):
        return
    raise HTTPException(status_code=404)


def _has_token(request: Request, config: Settings) -> bool:
    assert config.metrics_token is not None  # Settings refuses token access without one
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(BEARER):
        return False
    given = header[len(BEARER) :].strip().encode()
    return hmac.compare_digest(given, config.metrics_token.get_secret_value().encode())


def _from_loopback(request: Request) -> bool:
    """The client's address as uvicorn gives it: on a connection from a proxy in
    `PHOTOCHANGER_FORWARDED_ALLOW_IPS`, the rightmost `X-Forwarded-For` entry that
    is not such a proxy. deploy/nginx.conf replaces the header with the address it
    was connected from, so a guest cannot pass for loopback by sending one."""
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
