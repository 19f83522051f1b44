"""The soak's hostile requests (bench/soak.py): each is sent by a booth between
its valid photos and must get the answer SPEC §3.2 gives that input. Those a
client library would not send (path tricks, a lying Content-Length, a body that
stalls or is cut off) go over a raw socket."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable

from soak_clients import Booth
from soak_traffic import (
    CLOSED,
    Outcome,
    multipart,
    new_boundary,
    raw_exchange,
)

UNKNOWN_SLOTS = ("slot-016", "slot-000", "slot-1", "SLOT-001", "slot-0001", "slot-001x", "admin")
UNICODE_SLOTS = (
    "slot-\uff10\uff10\uff11",
    "слот-001",
    "slot-001\u200b",
    "slot\u2010001",
    "slot-001\u0301",
)
PATH_TRICKS = (
    "/api/ingest/../slot-001",
    "/api/ingest/..%2Fslot-001",
    "/api/ingest/slot-001/..",
    "/api/ingest/slot-001/../../../etc/passwd",
    "/api/ingest/%2e%2e/%2e%2e/etc/passwd",
    "/api/ingest/slot-001%00",
    "/api/ingest/slot-001%2F..%2F..%2Fetc%2Fpasswd",
    "/api/ingest//slot-001",
)


def only(*statuses: Outcome) -> frozenset[Outcome]:
    return frozenset(statuses)


async def wrong_password(b: Booth) -> None:
    """From a few attackers' addresses: ten wrong passwords lock one out for 15
    minutes (429), which must not touch the booths' own addresses."""
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    slot = b.ctx.plan.pick(b.ctx.rng)
    attacker = f"203.0.113.{b.ctx.rng.randint(1, 3)}"
    await b.ingest(
        "wrong password",
        slot,
        photo,
        password=b.ctx.wrong_password,
        allowed=only(401, 429),
        hostile=True,
        address=attacker,
    )


async def missing_field(b: Booth) -> None:
    boundary = new_boundary()
    slot = b.ctx.plan.pick(b.ctx.rng)
    if b.ctx.rng.random() < 0.5:
        kind = "no password field"
        body = multipart(
            [], [("fileToUpload", "a.jpg", b.ctx.photos.small, "image/jpeg")], boundary
        )
    else:
        kind = "no file field"
        body = multipart([("password", b.ctx.ingest_password)], [], boundary)
    await b.post(
        kind, slot, body, f"multipart/form-data; boundary={boundary}", only(400), hostile=True
    )


async def empty_file(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    await b.ingest("empty file", slot, b"", allowed=only(400), hostile=True)


async def unknown_slot(b: Booth) -> None:
    slot = b.ctx.rng.choice(UNKNOWN_SLOTS)
    await b.ingest("unknown slot", slot, b.ctx.photos.small, allowed=only(404), hostile=True)


async def unicode_slot(b: Booth) -> None:
    slot = b.ctx.rng.choice(UNICODE_SLOTS)
    await b.ingest("unicode slot id", slot, b.ctx.photos.small, allowed=only(404), hostile=True)


async def disabled_slot(b: Booth) -> None:
    slot = b.ctx.plan.disabled
    await b.ingest("disabled slot", slot, b.ctx.photos.small, allowed=only(404), hostile=True)


async def path_trick(b: Booth) -> None:
    """`..`, encoded slashes, NUL: never a slot, never a file (raw: httpx would
    normalise the path). 400 is uvicorn refusing a target it cannot read."""
    boundary = new_boundary()
    body = multipart(
        [("password", b.ctx.ingest_password)],
        [("fileToUpload", "a.jpg", b.ctx.photos.small, "image/jpeg")],
        boundary,
    )
    head = b.head(
        b.ctx.rng.choice(PATH_TRICKS),
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
    )
    outcome = await raw_exchange(b.ctx.port, head, [body], answer_within=b.ctx.answer_timeout)
    b.ctx.tally.record("path trick (raw)", outcome, only(400, 404), hostile=True)


async def wrong_method(b: Booth) -> None:
    head = b.head("/api/ingest/slot-001", {}, method="GET")
    outcome = await raw_exchange(b.ctx.port, head, answer_within=b.ctx.answer_timeout)
    b.ctx.tally.record("GET on the ingest (raw)", outcome, only(405), hostile=True)


async def not_multipart(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    password = urllib.parse.quote(b.ctx.ingest_password)
    body, content_type = b.ctx.rng.choice(
        [
            (f'{{"password": "{b.ctx.ingest_password}"}}'.encode(), "application/json"),
            (f"password={password}&fileToUpload=x".encode(), "application/x-www-form-urlencoded"),
            (b"just some text", "text/plain"),
            (b.ctx.photos.small, "image/jpeg"),
            (b"--x\r\n\r\n", "multipart/form-data"),  # no boundary
            (b"", "multipart/form-data; boundary=abc"),
        ]
    )
    await b.post("not multipart", slot, body, content_type, only(400), hostile=True)


async def truncated_multipart(b: Booth) -> None:
    """A body cut off before its closing boundary; Content-Length tells the truth."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    boundary = new_boundary()
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    body = multipart(
        [("password", b.ctx.ingest_password)],
        [("fileToUpload", "a.jpg", photo, "image/jpeg")],
        boundary,
    )
    cut = body[: b.ctx.rng.randrange(len(body) // 3, len(body) - len(boundary) - 8)]
    await b.post(
        "truncated multipart",
        slot,
        cut,
        f"multipart/form-data; boundary={boundary}",
        only(400),
        hostile=True,
    )


async def over_slot_limit(b: Booth) -> None:
    photo = b.ctx.photos.fresh(b.ctx.photos.medium)  # 2 MB against a 1 MB slot limit
    await b.ingest(
        "over the slot's limit", b.ctx.plan.small_limit, photo, allowed=only(413), hostile=True
    )


async def oversized_declared(b: Booth) -> None:
    """A Content-Length over the 20 MB cap, as a booth sends it (Expect: 100-continue):
    413 before a byte of the body is read."""
    head = b.head(
        f"/api/ingest/{b.ctx.plan.pick(b.ctx.rng)}",
        {
            "Content-Type": f"multipart/form-data; boundary={new_boundary()}",
            "Content-Length": str(50_000_000),
            "Expect": "100-continue",
        },
    )
    outcome = await raw_exchange(
        b.ctx.port, head, expect_continue=True, answer_within=b.ctx.answer_timeout
    )
    b.ctx.tally.record("oversized Content-Length (raw)", outcome, only(413), hostile=True)


async def oversized_streamed(b: Booth) -> None:
    """21 MB in chunked encoding (no Content-Length): cut off while reading."""
    boundary = new_boundary()
    start = multipart([("password", b.ctx.ingest_password)], [], boundary)[: -len(boundary) - 6]
    start += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; '
        'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode() + b.ctx.photos.small[:2048]
    filler = b"\x00" * (1024 * 1024)

    def chunked(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    chunks = [chunked(start), *(chunked(filler) for _ in range(21)), b"0\r\n\r\n"]
    head = b.head(
        f"/api/ingest/{b.ctx.plan.pick(b.ctx.rng)}",
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
    )
    outcome = await raw_exchange(b.ctx.port, head, chunks, answer_within=b.ctx.answer_timeout)
    b.ctx.tally.record("21 MB streamed, chunked (raw)", outcome, only(413), hostile=True)


async def gif_as_jpeg(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    await b.ingest(
        "GIF named .jpg",
        slot,
        b.ctx.photos.gif,
        filename="IMG_1.jpg",
        allowed=only(415),
        hostile=True,
    )


async def html_as_jpeg(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    page = b"<!doctype html><html><script>fetch('/api/settings')</script></html>"
    await b.ingest(
        "HTML named .jpg", slot, page, filename="IMG_2.jpg", allowed=only(415), hostile=True
    )


async def bomb(b: Booth) -> None:
    """A 256 MP PNG of 30 KB: refused from its header (over 100 MP), never decoded."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    await b.ingest(
        "decompression-bomb PNG", slot, b.ctx.photos.bomb, filename="bomb.png",
        content_type="image/png", allowed=only(413), hostile=True,
    )  # fmt: skip


async def truncated_jpeg(b: Booth) -> None:
    """A JPEG cut off after 60 %: its header reads, its pixels do not. The
    provider cannot use it, and neither can `on_failure: original` (every answer
    not encoded here is redrawn from its pixels), so 502 is the answer there too."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    photo = b.ctx.photos.fresh(b.ctx.photos.truncated_jpeg)
    allowed = b.statuses(slot) | {415, 502}
    await b.ingest("truncated JPEG", slot, photo, allowed=allowed, hostile=True)


async def polyglot(b: Booth) -> None:
    """A JPEG that is also an HTML page (a comment and a tail): the answer must be
    an image without the page (the metadata and what follows the image are cut)."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    photo = b.ctx.photos.fresh(b.ctx.photos.polyglot)
    response = await b.ingest("polyglot JPEG+HTML", slot, photo, hostile=True)
    if response is not None and response.status_code == 200 and b"<script" in response.content:
        b.ctx.tally.bad_answer("polyglot JPEG+HTML", "the answer still carries the HTML")


async def bad_hash(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    await b.ingest("wrong hash field", slot, photo, extra=[("hash", "deadbeef" * 5)], hostile=True)


async def metadata_flood(b: Booth) -> None:
    """200 text fields of 2 KiB: kept bounded (32 fields of 1 KiB) or refused."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    extra = [(f"field{n}", "x" * 2048) for n in range(200)]
    allowed = b.statuses(slot) | {400, 413}
    await b.ingest("metadata flood", slot, photo, extra=extra, allowed=allowed, hostile=True)


async def evil_filename(b: Booth) -> None:
    slot = b.ctx.plan.pick(b.ctx.rng)
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    name = b.ctx.rng.choice(
        ["../../../../etc/passwd", "..\\..\\boot.ini", "a\u202egpj.exe", "%00.jpg"]
    )
    await b.ingest("path in the file name", slot, photo, filename=name, hostile=True)


async def slow_client(b: Booth) -> None:
    """Half the body, then nothing (the connection stays open): the upload spends
    the sync window and is answered 504."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    boundary = new_boundary()
    photo = b.ctx.photos.fresh(b.ctx.photos.small)
    body = multipart(
        [("password", b.ctx.ingest_password)],
        [("fileToUpload", "a.jpg", photo, "image/jpeg")],
        boundary,
    )
    head = b.head(
        f"/api/ingest/{slot}",
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
    )
    outcome = await raw_exchange(
        b.ctx.port, head, [body[: len(body) // 2]], stall=True, answer_within=b.ctx.answer_timeout
    )
    b.ctx.tally.record("slow client stops sending (raw)", outcome, only(504), hostile=True)


async def hang_up(b: Booth) -> None:
    """A booth that disconnects mid-upload: no answer to read, nothing may be left."""
    slot = b.ctx.plan.pick(b.ctx.rng)
    boundary = new_boundary()
    photo = b.ctx.photos.fresh(b.ctx.rng.choice([b.ctx.photos.small, b.ctx.photos.medium]))
    body = multipart(
        [("password", b.ctx.ingest_password)],
        [("fileToUpload", "a.jpg", photo, "image/jpeg")],
        boundary,
    )
    head = b.head(
        f"/api/ingest/{slot}",
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
    )
    cut = body[: b.ctx.rng.randrange(len(body) // 10, len(body) - 100)]
    outcome = await raw_exchange(b.ctx.port, head, [cut], hang_up=True)
    b.ctx.tally.record("disconnect mid-upload (raw)", outcome, only(CLOSED), hostile=True)


HOSTILE: dict[str, tuple[float, Callable[[Booth], Awaitable[None]]]] = {
    "wrong_password": (3, wrong_password),
    "missing_field": (2, missing_field),
    "empty_file": (1.5, empty_file),
    "unknown_slot": (2, unknown_slot),
    "unicode_slot": (1.5, unicode_slot),
    "disabled_slot": (1, disabled_slot),
    "path_trick": (2, path_trick),
    "wrong_method": (1, wrong_method),
    "not_multipart": (2, not_multipart),
    "truncated_multipart": (2, truncated_multipart),
    "over_slot_limit": (1, over_slot_limit),
    "oversized_declared": (1.5, oversized_declared),
    "oversized_streamed": (0.4, oversized_streamed),
    "gif_as_jpeg": (1.5, gif_as_jpeg),
    "html_as_jpeg": (1.5, html_as_jpeg),
    "bomb": (1, bomb),
    "truncated_jpeg": (1.5, truncated_jpeg),
    "polyglot": (2, polyglot),
    "bad_hash": (1.5, bad_hash),
    "metadata_flood": (1, metadata_flood),
    "evil_filename": (1.5, evil_filename),
    "slow_client": (1, slow_client),
    "hang_up": (2, hang_up),
}
"""Hostile requests by name: relative weight (beside the valid photos' 61.5) and sender."""
