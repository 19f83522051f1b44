"""Security headers on every response (issue 16 §7): a Content-Security-Policy
with no inline script, no framing, no MIME sniffing, a strict referrer policy;
and HSTS on a request that came over TLS (directly, or through a trusted proxy's
`X-Forwarded-Proto`, which uvicorn has applied to the scheme by now).

Pure ASGI, like `middleware.py`: it only touches the response start, so a
streamed photo passes through untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""`data:`/`blob:` images are the slot page's previews of files the admin picked."""

API_DOCS_PATHS = ("/docs", "/redoc")
"""FastAPI's interactive docs load Swagger UI / ReDoc from their CDN with an inline
bootstrap script: the strict policy would blank them, so they keep the headers
below but no CSP. They show only the OpenAPI text, no studio data."""

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_WITH_CSP = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), *_COMMON]
HSTS = (b"strict-transport-security", b"max-age=31536000")
"""A year, without `includeSubDomains`: the studio's other hosts are not ours to pin."""


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = _COMMON if path.startswith(API_DOCS_PATHS) else _WITH_CSP
        if scope.get("scheme") == "https":
            extra = [*extra, HSTS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
