"""Logs are JSON lines with a request id, one event per ingest; bad input leaves
no stack trace, and no password, in them (SPEC §3.2, §8)."""

from __future__ import annotations

import io
import json
import logging

import httpx
import structlog

from conftest import LiveServer
from photochanger.logs import configure_logging
from support import INGEST_PASSWORD, SessionFactory, booth_fields, configure_slot, echo, make_image


async def test_bad_input_leaves_no_trace_or_secret_in_the_log(
    live_server: LiveServer, factory: SessionFactory
) -> None:
    url = f"{live_server.base_url}/api/ingest/slot-001"
    photo = make_image()
    booth = httpx.AsyncClient()
    sent = [
        await booth.post(url, data=booth_fields(), files={"fileToUpload": ("a.jpg", photo)}),
        await booth.post(url, data=booth_fields(password="wrong-guess")),
        await booth.post(
            url, content=b"garbage", headers={"content-type": "multipart/form-data; boundary=z"}
        ),
        await booth.post(url, data=booth_fields(), files={"fileToUpload": ("a.jpg", b"%PDF-1.7")}),
        await booth.post(f"{url}9", data=booth_fields(), files={"fileToUpload": ("a.jpg", photo)}),
        await booth.post(url, json={"password": INGEST_PASSWORD}),
    ]
    await configure_slot(factory, "slot-001", **echo(fail_with="refused"))
    other = make_image(seed=9)  # a new photo: a re-send would get the first one's result
    sent.append(
        await booth.post(url, data=booth_fields(), files={"fileToUpload": ("a.jpg", other)})
    )
    await booth.aclose()
    assert [r.status_code for r in sent] == [200, 400, 400, 415, 404, 400, 502]
    request_ids = {r.headers["x-request-id"] for r in sent}
    assert len(request_ids) == len(sent)

    live_server.stop()
    text = live_server.log_text()
    assert INGEST_PASSWORD not in text
    assert "wrong-guess" not in text
    assert "Traceback" not in text
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    ingests = [event for event in events if event["event"] == "ingest_finished"]
    assert len(ingests) == len(sent)
    assert {event["request_id"] for event in ingests} == request_ids
    assert [event["outcome"] for event in ingests] == [
        "done",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
    ]
    assert ingests[-1]["failure_reason"] == "provider_error"


def test_library_loggers_are_quiet_but_never_louder_than_asked() -> None:
    """httpx's request lines only at DEBUG; warnings of httpx and alembic at INFO;
    nothing of theirs at ERROR."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        heard = {}
        for level in ("INFO", "DEBUG", "ERROR"):
            buffer = io.StringIO()
            configure_logging(level, stream=buffer)
            logging.getLogger("httpx").info('HTTP Request: POST http://x "HTTP/1.1 200 OK"')
            logging.getLogger("httpcore").warning("connection lost")
            logging.getLogger("alembic").warning("alembic says")
            logging.getLogger("photochanger.providers.http").info("provider_call")
            heard[level] = [json.loads(line)["event"] for line in buffer.getvalue().splitlines()]
    finally:
        root.handlers[:], root.level = saved
        for name in ("httpx", "httpcore", "alembic"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        structlog.reset_defaults()
    assert heard["INFO"] == ["connection lost", "alembic says", "provider_call"]
    assert heard["DEBUG"] == [
        'HTTP Request: POST http://x "HTTP/1.1 200 OK"',
        "connection lost",
        "alembic says",
        "provider_call",
    ]
    assert heard["ERROR"] == []  # quiet is never louder than the level asked for
