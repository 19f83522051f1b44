"""The upload is streamed (SPEC §3.1): limits hold while reading and memory stays
flat. Through a real uvicorn on loopback, since an in-process transport hands
the body over whole."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from conftest import LiveServer
from photochanger.config import Settings
from support import (
    SessionFactory,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    multipart_body,
    noise_jpeg,
    put_setting,
    raw_http_request,
    tmp_file_count,
)

MB = 1024 * 1024


def chunked(body_parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in body_parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def endless_upload(total: int, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\nbooth-secret\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    yield b"\xff\xd8\xff\xe0" + b"\0" * (64 * 1024 - 4)
    sent = 64 * 1024
    block = b"\x5a" * (256 * 1024)
    while sent < total:
        yield block
        sent += len(block)


def warm_up(server: LiveServer) -> None:
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", make_image(), "image/jpeg")}
    )
    status, _, _ = raw_http_request(
        server.base_url,
        "/api/ingest/slot-001",
        {"Content-Type": content_type, "Content-Length": str(len(body))},
        [body],
    )
    assert status == 200


async def test_25_mb_chunked_upload_is_refused_while_memory_stays_flat(
    live_server: LiveServer, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    warm_up(live_server)
    before = live_server.memory_kb("VmHWM")
    for _ in range(3):
        status, _, body = raw_http_request(
            live_server.base_url,
            "/api/ingest/slot-001",
            {
                "Content-Type": "multipart/form-data; boundary=b0undary",
                "Transfer-Encoding": "chunked",
            },
            chunked(endless_upload(25 * MB, "b0undary")),
        )
        assert status == 413, body
        assert b'"payload_too_large"' in body
    growth_mb = (live_server.memory_kb("VmHWM") - before) / 1024
    assert growth_mb < 30, f"peak RSS grew {growth_mb:.0f} MB for a refused 25 MB upload"
    assert tmp_file_count(config.resolved_spool_dir) == 0


async def test_expect_100_continue_over_the_cap_gets_413_before_the_body(
    live_server: LiveServer,
) -> None:
    status, _, body = raw_http_request(
        live_server.base_url,
        "/api/ingest/slot-001",
        {
            "Content-Type": "multipart/form-data; boundary=b0undary",
            "Content-Length": str(25 * MB),
            "Expect": "100-continue",
        },
        wait_for_continue=True,
    )
    assert status == 413
    assert b"payload_too_large" in body


async def test_expect_100_continue_within_the_cap_is_processed(
    live_server: LiveServer, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    photo = make_image("JPEG", (300, 200))
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo, "image/jpeg")}
    )
    status, headers, answer = raw_http_request(
        live_server.base_url,
        "/api/ingest/slot-001",
        {"Content-Type": content_type, "Content-Length": str(len(body)), "Expect": "100-continue"},
        [body],
        wait_for_continue=True,
    )
    assert status == 200
    assert answer == photo
    assert headers["content-type"] == "image/jpeg"


async def test_large_upload_is_spooled_and_answered_with_flat_memory(
    live_server: LiveServer, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    warm_up(live_server)
    photo = noise_jpeg(15 * MB)
    assert len(photo) > 12 * MB
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo, "image/jpeg")}
    )
    before = live_server.memory_kb("VmHWM")
    status, headers, answer = raw_http_request(
        live_server.base_url,
        "/api/ingest/slot-001",
        {"Content-Type": content_type, "Transfer-Encoding": "chunked"},
        chunked(iter([body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)])),
    )
    assert status == 200
    assert answer == photo
    assert int(headers["content-length"]) == len(photo)
    growth_mb = (live_server.memory_kb("VmHWM") - before) / 1024
    assert growth_mb < len(photo) / MB, f"peak RSS grew {growth_mb:.0f} MB"
    assert tmp_file_count(config.resolved_spool_dir) == 0


async def test_an_upload_slower_than_the_window_is_cut_off(
    live_server: LiveServer, factory: SessionFactory, config: Settings
) -> None:
    await put_setting(factory, "sync_response_seconds", 10)
    photo = noise_jpeg(10 * MB)
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo, "image/jpeg")}
    )

    def trickle() -> Iterator[bytes]:
        yield body[: len(body) // 2]  # past 4 MiB: spooled to disk by now
        time.sleep(11)  # then the booth stalls past the window

    status, _, answer = raw_http_request(
        live_server.base_url,
        "/api/ingest/slot-001",
        {"Content-Type": content_type, "Content-Length": str(len(body))},
        trickle(),
    )
    assert status == 504
    assert b'"provider_timeout"' in answer
    finished = [
        json.loads(line)
        for line in live_server.log_text().splitlines()
        if "ingest_finished" in line
    ]
    assert finished[-1]["failure_reason"] == "provider_timeout"
    assert 9_500 <= finished[-1]["duration_ms"] < 11_000
    assert tmp_file_count(config.resolved_spool_dir) == 0
