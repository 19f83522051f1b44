"""How the Turbotext driver fails: each provider answer maps to a typed error
that the pipeline records (never a crash, never a broken image handed on), the
deadline bounds the polling, and the key never reaches the logs."""

from __future__ import annotations

import itertools
import logging
import time

import pytest
import structlog

from fakes.turbotext import RESULT_PNG, Answer, FakeTurbotext, json_answer
from fakes.turbotext_bench import API_KEY, Turbotext, image2image
from photochanger.logs import configure_logging
from photochanger.providers.base import (
    ProviderError,
    ProviderPermanentError,
    ProviderTimeout,
    ProviderTransientError,
)
from photochanger.providers.http import MAX_ANSWER_BYTES

# Timing tests do not depend on the database: SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("Недостаточно средств на балансе", ProviderPermanentError),
        ("invalid api key", ProviderPermanentError),
        ("url_error", ProviderPermanentError),
        ("Сервер перегружен, попробуйте позже", ProviderTransientError),
        ("queue is busy, try again", ProviderTransientError),
    ],
)
async def test_an_error_text_from_create_queue_is_the_failure(
    turbotext: Turbotext, fake: FakeTurbotext, error: str, kind: type[ProviderError]
) -> None:
    fake.scenario.create = json_answer({"success": False, "error": error})
    with pytest.raises(ProviderError) as raised:
        await turbotext.run(image2image())
    assert type(raised.value) is kind
    assert error in raised.value.message
    assert fake.calls("get_result") == []


async def test_an_error_text_from_get_result_fails_with_the_queue_id(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    fake.scenario.reconnects = 1
    fake.scenario.result = json_answer({"success": False, "error": "face not detected"})
    with pytest.raises(ProviderPermanentError, match="face not detected") as raised:
        await turbotext.run(image2image())
    assert raised.value.response_id == "4242"
    assert len(fake.calls("get_result")) == 2


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ProviderPermanentError),
        (403, ProviderPermanentError),
        (404, ProviderPermanentError),
        (429, ProviderTransientError),
        (500, ProviderTransientError),
        (502, ProviderTransientError),
    ],
)
async def test_http_errors_of_create_queue(
    turbotext: Turbotext, fake: FakeTurbotext, status: int, kind: type[ProviderError]
) -> None:
    fake.scenario.create = Answer(status, b"<html>nginx</html>", "text/html")
    with pytest.raises(ProviderError) as raised:
        await turbotext.run(image2image())
    assert type(raised.value) is kind
    assert raised.value.reason == str(status)
    assert f"HTTP {status}" in raised.value.message
    assert len(fake.calls()) == 1  # the pipeline, not the driver, retries a create


async def test_transient_poll_failures_are_polled_again(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    fake.scenario.polls = [
        Answer(502, b"bad gateway", "text/plain"),
        json_answer({"success": False, "error": "server busy, try again"}),
    ]
    result = await turbotext.run(image2image())
    assert result.data == RESULT_PNG
    assert len(fake.calls("create_queue")) == 1
    assert len(fake.calls("get_result")) == 3


@pytest.mark.parametrize(
    ("create", "poll"),
    [
        (Answer(200, b"<html>not json</html>", "text/html"), None),
        (Answer(200, b"[1, 2]"), None),
        (json_answer({"success": True}), None),  # no queue id
        (None, Answer(200, b'{"success": tr')),
        (None, json_answer({"status": "weird"})),
    ],
    ids=["html", "json-array", "no-queueid", "truncated-json", "neither-result-nor-reconnect"],
)
async def test_malformed_answers_are_permanent_failures(
    turbotext: Turbotext, fake: FakeTurbotext, create: Answer | None, poll: Answer | None
) -> None:
    fake.scenario.create = create
    fake.scenario.polls = [poll] if poll else []
    with pytest.raises(ProviderPermanentError, match=r"JSON|queue id|neither"):
        await turbotext.run(image2image())


@pytest.mark.parametrize(
    ("result", "image", "reason"),
    [
        (json_answer({"success": True, "error": "", "data": {}}), None, "no_image"),
        (json_answer({"success": True, "data": {"image": []}}), None, "no_image"),
        (json_answer({"success": True, "uploaded_image": "ftp://x/y.png"}), None, "no_image"),
        (None, Answer(200, b"<html>login</html>", "image/png"), "not_an_image"),
        (None, Answer(200, RESULT_PNG[: len(RESULT_PNG) // 2], "image/png"), "broken_image"),
        (None, Answer(200, b"\xff\xd8\xff" + bytes(30 * 1024 * 1024)), "answer_too_large"),
        (None, Answer(404, b"not found", "text/plain"), "404"),
    ],
    ids=["no-link", "empty-image-list", "not-http", "html", "truncated", "30-mb", "404"],
)
async def test_a_missing_or_unusable_result_is_a_permanent_failure(
    turbotext: Turbotext,
    fake: FakeTurbotext,
    result: Answer | None,
    image: Answer | None,
    reason: str,
) -> None:
    assert MAX_ANSWER_BYTES < 30 * 1024 * 1024
    fake.scenario.result = result
    if image is not None:
        fake.scenario.image = image
    with pytest.raises(ProviderPermanentError) as raised:
        await turbotext.run(image2image())
    assert raised.value.reason == reason
    assert raised.value.response_id == "4242"


async def test_a_download_that_fails_transiently_is_tried_again(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    fake.scenario.downloads = [Answer(503, b"busy", "text/plain")]
    result = await turbotext.run(image2image())
    assert result.data == RESULT_PNG
    assert [r.path for r in fake.requests if r.method == "GET"] == ["/download.php"] * 2


@sqlite_only
async def test_a_queue_never_ready_times_out_at_the_deadline_with_growing_waits(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    fake.scenario.never_ready = True
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as raised:
        # Polls at 1, 2.5, 4.75, 8.1 and 12.1 s, the next one due at 16.1: the
        # window ends 2.9 s after the last (at 13 s a loaded machine once
        # left the last poll out).
        await turbotext.run(image2image(), window=15)
    elapsed = time.monotonic() - started
    assert 14.7 < elapsed < 15.6
    assert raised.value.response_id == "4242"
    polls = [call.at for call in fake.calls("get_result")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    # 1 s, growing by half each time, capped at 4 s.
    assert gaps == pytest.approx([1.0, 1.5, 2.25, 3.375, 4.0], abs=0.3)


@sqlite_only
@pytest.mark.parametrize("step", ["create_queue", "get_result"])
async def test_a_slow_answer_times_out_at_the_deadline(
    turbotext: Turbotext, fake: FakeTurbotext, step: str
) -> None:
    slow = json_answer({"action": "reconnect"}, delay=10)
    if step == "create_queue":
        fake.scenario.create = json_answer({"success": True, "queueid": 1}, delay=10)
    else:
        fake.scenario.polls = [slow]
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await turbotext.run(image2image(), window=2)
    assert 1.8 < time.monotonic() - started < 2.6


@sqlite_only
async def test_the_key_never_reaches_the_logs(
    turbotext: Turbotext, fake: FakeTurbotext, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("DEBUG")  # everything, stdlib (httpx, uvicorn) and structlog
    try:
        fake.scenario.reconnects = 1
        await turbotext.run(image2image())
        # A provider that echoes the key in its error text.
        fake.reset()
        fake.scenario.create = json_answer({"error": f"bad token {API_KEY}"}, status=401)
        with pytest.raises(ProviderPermanentError) as raised:
            await turbotext.run(image2image())
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
        structlog.reset_defaults()
    out, err = capsys.readouterr()
    assert "turbotext_queued" in out
    assert "turbotext_done" in out
    assert '"http_status": 401' in out
    assert "bad token [redacted]" in out
    assert "HTTP Request: POST" in out  # httpx's own log lines were captured too
    assert API_KEY not in out + err
    assert API_KEY not in raised.value.message
