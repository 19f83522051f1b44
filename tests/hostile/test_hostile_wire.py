"""The wire corpus against a real uvicorn (`photochanger serve`) over sockets:
each request's documented answer, never a 500, nothing left behind; a body
trickled a byte every 2 s and a body shorter than its length answered 504
within the sync window; and the server's memory bounded after tens of
megabytes of hostile bodies and heads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import LiveServer
from hostile.invariants import check_answer, check_nothing_left
from hostile.samples import photo
from hostile.wire import WireResult, request_head, send
from hostile.wire_corpus import INGEST, WIRE_CORPUS, short_body, slowloris
from photochanger.config import Settings
from support import SessionFactory, booth_fields, configure_slot, echo, multipart_body, put_setting

WINDOW = 10
"""The shortest sync window the settings allow: the trickle's 504 comes after it."""
PEAK_GROWTH_MB = 64
"""Refused bodies and heads of 64 to 128 MB each, all together, may not raise
the server's peak RSS by this much: buffering any one of them would."""


def warm_up(server: LiveServer) -> None:
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo(), "image/jpeg")}
    )
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    result = send(server.base_url, request_head(INGEST, headers), [body])
    assert result.answer is not None
    assert result.answer.status == 200


def reset_peak_memory(server: LiveServer) -> int:
    """The server's RSS now, made its peak (Linux: `5` to clear_refs), so
    growth below the peak it reached while starting up is seen too."""
    Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
    return server.memory_kb("VmHWM")


def check_window_answer(result: WireResult) -> None:
    assert result.answer is not None
    check_answer(result.answer, 504, "provider_timeout")
    # The window counts from the request's arrival; the margin is for a busy machine.
    assert WINDOW - 1 <= result.seconds <= WINDOW + 5, result.seconds


async def test_hostile_requests_over_a_real_socket(
    live_server: LiveServer, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await put_setting(factory, "sync_response_seconds", WINDOW)
    warm_up(live_server)
    stopped = threading.Event()
    failures: list[str] = []
    with ThreadPoolExecutor(2) as pool:
        # The two slow ones run beside the corpus: they wait out the window anyway.
        head, trickle = slowloris(WINDOW, stopped.is_set)
        trickled = pool.submit(send, live_server.base_url, head, trickle)
        head, body = short_body()
        shortened = pool.submit(send, live_server.base_url, head, body)
        before_kb = reset_peak_memory(live_server)
        for case in WIRE_CORPUS:
            try:
                result = send(
                    live_server.base_url,
                    case.head(),
                    case.body(),
                    wait_for_continue=case.wait_for_continue,
                    half_close=case.half_close,
                )
                if case.status is None:
                    assert result.answer is None, result.answer
                else:
                    assert result.answer is not None, "no answer within 30 s"
                    check_answer(result.answer, case.status, case.failure_reason)
                await check_nothing_left(factory, config, settle=5)
            except AssertionError as error:
                failures.append(f"{case.name}: {error}")
        growth_mb = (live_server.memory_kb("VmHWM") - before_kb) / 1024
        if growth_mb >= PEAK_GROWTH_MB:
            failures.append(f"memory: peak RSS grew {growth_mb:.0f} MB from {before_kb} kB")
        trickled_result, shortened_result = trickled.result(), shortened.result()
        stopped.set()
    if failures:
        pytest.fail("\n".join(failures))
    check_window_answer(trickled_result)
    check_window_answer(shortened_result)
    await check_nothing_left(factory, config, settle=5)
    log = live_server.log_text()
    assert "Traceback" not in log
    assert "internal_error" not in log
