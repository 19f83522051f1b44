"""A fake of OpenAI's `POST /v1/images/edits` that speaks its wire format
(multipart in, `ImagesResponse` JSON out, `{"error": {message, type, param, code}}`
error bodies, `x-request-id` header) and checks the request as the real API does:
Bearer key, an image, a prompt."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from fakes.server import FakeServer, FilePart, Received, Reply
from support import make_image

API_KEY = "sk-proj-fake-openai-key-0123456789abcdef5678"


def _request_id() -> dict[str, str]:
    return {"x-request-id": "req_" + secrets.token_hex(16)}


def error(
    http_status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    **options: Any,
) -> Reply:
    """The API's error body, e.g. (400, "Your request was rejected…", code="moderation_blocked")."""
    payload = {"error": {"message": message, "type": type, "param": param, "code": code}}
    headers = {**_request_id(), **options.pop("headers", {})}
    return Reply.json(payload, status=http_status, headers=headers, **options)


def moderation_blocked() -> Reply:
    return error(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, "
        "contact us at help.openai.com and include the request ID.",
        type="image_generation_user_error",
        code="moderation_blocked",
    )


def success(image: bytes | None = None, *, b64: str | None = None, **options: Any) -> Reply:
    """An `ImagesResponse` with one image and the usage the API reports."""
    image = image if image is not None else make_image("PNG", (96, 64), seed=11)
    payload = {
        "created": 1_795_000_000,
        "background": "opaque",
        "data": [{"b64_json": b64 if b64 is not None else base64.b64encode(image).decode()}],
        "output_format": "png",
        "quality": "medium",
        "size": "1024x1024",
        "usage": {
            "input_tokens": 583,
            "input_tokens_details": {"image_tokens": 518, "text_tokens": 65},
            "output_tokens": 1056,
            "total_tokens": 1639,
        },
    }
    headers = {**_request_id(), **options.pop("headers", {})}
    return Reply.json(payload, headers=headers, **options)


def _check(request: Received) -> Reply | None:
    if request.method != "POST" or request.path != "/v1/images/edits":
        return error(404, f"Invalid URL ({request.method} {request.path})")
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith("Bearer "):
        return error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    key = authorization.removeprefix("Bearer ")
    if key != API_KEY:
        masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:]
        return error(401, f"Incorrect API key provided: {masked}.", code="invalid_api_key")
    images = [v for name, v in request.form if name in ("image", "image[]")]
    if not images or not all(isinstance(v, FilePart) for v in images):
        return error(400, "Missing required parameter: 'image'.", param="image")
    if not request.fields("prompt"):
        return error(400, "Missing required parameter: 'prompt'.", param="prompt")
    return None


class OpenAIFake(FakeServer):
    """The fake Images API; `received` holds the requests, `queue()` the answers."""

    def __init__(self) -> None:
        super().__init__(default=lambda _request: success(), check=_check)
