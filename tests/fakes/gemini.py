"""A fake of the Gemini API's `generateContent` that speaks its REST wire format
(camelCase JSON, `{"error": {code, message, status}}` error bodies) and checks the
request the way the real API does: key header, path, `contents`, no image
`responseMimeType`."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

from fakes.server import FakeServer, Received, Reply
from support import make_image

API_KEY = "AIzaSy-fake-gemini-key-0123456789abcdef"
PATH = re.compile(r"^/(v1|v1beta)/models/(?P<model>[a-z0-9.\-]+):generateContent$")
"""The API serves both versions; google-genai 3.x calls v1 by default, SPEC says v1beta."""


def error(http_status: int, status: str, message: str, **options: Any) -> Reply:
    """The API's error body, e.g. (429, "RESOURCE_EXHAUSTED", "Quota exceeded…")."""
    payload = {"error": {"code": http_status, "message": message, "status": status}}
    return Reply.json(payload, status=http_status, **options)


def _blob(image: bytes, mime: str, snake: bool) -> dict[str, Any]:
    data = base64.b64encode(image).decode()
    if snake:
        return {"inline_data": {"mime_type": mime, "data": data}}
    return {"inlineData": {"mimeType": mime, "data": data}}


def answer(
    parts: list[dict[str, Any]] | None,
    *,
    finish_reason: str | None = "STOP",
    finish_message: str | None = None,
    model: str = "gemini-3.1-flash-image",
    **options: Any,
) -> Reply:
    """A 200 with one candidate holding `parts` (None: a candidate without content)."""
    candidate: dict[str, Any] = {"index": 0}
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    if finish_message is not None:
        candidate["finishMessage"] = finish_message
    payload = {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": 1306,
            "candidatesTokenCount": 1120,
            "totalTokenCount": 2676,
            "thoughtsTokenCount": 250,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": 16},
                {"modality": "IMAGE", "tokenCount": 1290},
            ],
        },
        "modelVersion": model,
        "responseId": "resp-" + secrets.token_hex(8),
    }
    return Reply.json(payload, **options)


def success(
    image: bytes | None = None,
    mime: str = "image/png",
    *,
    thoughts: tuple[bytes, ...] = (),
    text: str | None = None,
    snake: bool = False,
    **options: Any,
) -> Reply:
    """An edited image; Gemini 3 models first send interim `thought` images and
    sign the final part."""
    image = image if image is not None else make_image("PNG", (96, 64), seed=7)
    parts: list[dict[str, Any]] = []
    for thought in thoughts:
        parts.append({**_blob(thought, "image/png", snake), "thought": True})
    if thoughts:
        parts.append({"text": "Placing the guests on the beach…", "thought": True})
    if text is not None:
        parts.append({"text": text})
    final = _blob(image, mime, snake)
    if thoughts:
        final["thoughtSignature"] = base64.b64encode(secrets.token_bytes(24)).decode()
    parts.append(final)
    return answer(parts, **options)


def no_image(
    finish_reason: str, finish_message: str | None = None, text: str | None = None
) -> Reply:
    """A 200 whose candidate has no image (text at most)."""
    parts = [{"text": text}] if text is not None else None
    return answer(parts, finish_reason=finish_reason, finish_message=finish_message)


def blocked(block_reason: str) -> Reply:
    """A 200 with no candidate: the prompt itself was blocked."""
    payload = {
        "promptFeedback": {"blockReason": block_reason, "safetyRatings": []},
        "usageMetadata": {"promptTokenCount": 1306, "totalTokenCount": 1306},
        "modelVersion": "gemini-3.1-flash-image",
        "responseId": "resp-blocked",
    }
    return Reply.json(payload)


def _check(request: Received) -> Reply | None:
    if request.method != "POST" or PATH.match(request.path) is None:
        return error(404, "NOT_FOUND", f"{request.path} is not found for API version v1beta")
    key = request.headers.get("x-goog-api-key")
    if key is None:
        return error(
            403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers "
            "without established identity). Please use API Key or other form of API consumer "
            "identity to call this API.",
        )  # fmt: skip
    if key != API_KEY:
        return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    try:
        body = request.json()
    except ValueError:
        return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    if not isinstance(body, dict) or not body.get("contents"):
        return error(
            400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"
        )
    config = body.get("generationConfig") or {}
    if str(config.get("responseMimeType", "")).startswith("image/"):
        return error(
            400,
            "INVALID_ARGUMENT",
            "response_mime_type: allowed mimetypes are text/plain, application/json, …",
        )
    return None


class GeminiFake(FakeServer):
    """The fake Gemini API; `received` holds the requests, `queue()` the answers."""

    def __init__(self) -> None:
        super().__init__(default=lambda _request: success(), check=_check)

    def model_of(self, request: Received) -> str:
        match = PATH.match(request.path)
        assert match is not None
        return match["model"]
