"""The soak's traffic (bench/soak.py), part one: what every request is counted
against, the photos, the slot plan, and the two ways a request is sent — httpx
for well-formed ones, a raw socket for those a client library will not send
(path tricks, a lying Content-Length, a body that stops or is cut off).

Every request has a *kind* and the set of answers allowed for that kind: the
statuses SPEC §3.2 documents for that input (a wrong password is a 401 and
nothing else), `closed` for a request the client cut off on purpose. Anything
else is counted as unexpected, a 500 always."""

from __future__ import annotations

import asyncio
import io
import itertools
import random
import secrets
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np
import numpy.typing as npt
from PIL import Image

from load import base_photo, unique
from photochanger.media.image_type import SNIFF_BYTES, sniff_image_mime

Outcome = int | str
"""An HTTP status, or `closed` (the client hung up on purpose), `no_answer` (none
within the client's timeout) or `error:<what>` (the connection broke)."""

CLOSED = "closed"
NO_ANSWER = "no_answer"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True)
class SlotPlan:
    """Which slot plays which part. The rest stay as a fresh install left them."""

    flaky: tuple[str, ...] = ("slot-001", "slot-002", "slot-003", "slot-004", "slot-005")
    """`gemini` on the flaky fake, `on_failure: error`."""
    original: str = "slot-006"
    """`gemini` on the flaky fake, `on_failure: original` (SPEC §10)."""
    fallback: str = "slot-007"
    """`gemini` on the flaky fake, `local` background replacement as its fallback."""
    local: tuple[str, ...] = ("slot-008", "slot-009", "slot-010")
    """`local`: background_replace, stylize, enhance."""
    disabled: str = "slot-011"
    """Inactive: 404 `slot_disabled`."""
    small_limit: str = "slot-012"
    """`local` with `size_limit_mb: 1`: a 2 MB photo is a 413."""

    def role_of(self, slot: str) -> str:
        if slot in self.flaky:
            return "flaky"
        if slot == self.original:
            return "original"
        if slot == self.fallback:
            return "fallback"
        return "local"

    def pick(self, rng: random.Random) -> str:
        """A slot for a valid photo: mostly the flaky provider, then the rest."""
        role = rng.choices(["flaky", "original", "fallback", "local"], weights=[45, 15, 15, 25])[0]
        if role == "flaky":
            return rng.choice(self.flaky)
        if role == "local":
            return rng.choice(self.local)
        return self.original if role == "original" else self.fallback


ROLE_STATUSES: dict[str, frozenset[Outcome]] = {
    # 503 is documented for a database or store that cannot keep up (SPEC §3.2).
    "flaky": frozenset({200, 429, 502, 503, 504}),
    # `on_failure: original` never sends the booth away with 502/503/504 (SPEC §10).
    "original": frozenset({200, 429}),
    "fallback": frozenset({200, 429, 502, 503, 504}),
    "local": frozenset({200, 429, 502, 503, 504}),
}


@dataclass
class Tally:
    """Every request by kind and answer, and what went wrong."""

    counts: Counter[tuple[str, Outcome]] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    """The first unexpected answers and broken 200s, with what identifies them."""
    bad_answers: int = 0
    """200s that break SPEC §3.3 (wrong type, missing headers) or kept hostile bytes."""
    hostile: int = 0
    deduplicated: int = 0
    """Re-sent photos answered with the first send's job."""
    job_ids: list[str] = field(default_factory=list)
    hostile_kinds: set[str] = field(default_factory=set)

    def group_of(self, kind: str) -> str:
        """Where a kind sits in the report: booths, hostile, admin, guests and ops."""
        if kind in self.hostile_kinds:
            return "2 hostile"
        if kind.startswith(("valid", "re-send", "double")):
            return "1 booth"
        return "3 admin" if kind.startswith("admin") else "4 guests and ops"

    def record(
        self,
        kind: str,
        outcome: Outcome,
        allowed: frozenset[Outcome],
        *,
        hostile: bool = False,
        detail: str = "",
    ) -> None:
        self.counts[kind, outcome] += 1
        self.hostile += hostile
        if hostile:
            self.hostile_kinds.add(kind)
        if outcome not in allowed:
            self.unexpected[kind] += 1
            self.problem(f"{kind}: {outcome} (allowed {sorted(map(str, allowed))}) {detail}")

    def problem(self, text: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(text.strip())

    def bad_answer(self, kind: str, text: str) -> None:
        self.bad_answers += 1
        self.problem(f"{kind}: 200 breaks §3.3: {text}")

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def count_of(self, outcome: Outcome) -> int:
        return sum(n for (_kind, seen), n in self.counts.items() if seen == outcome)

    @property
    def unanswered(self) -> int:
        return sum(
            n
            for (_kind, seen), n in self.counts.items()
            if seen == NO_ANSWER or str(seen).startswith("error:")
        )


def outcome_detail(response: httpx.Response) -> str:
    """What identifies an answer in the server's log: its request id and reason."""
    reason = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            reason = str(response.json().get("failure_reason", ""))
        except ValueError:
            reason = "(not JSON)"
    return f"request_id={response.headers.get('x-request-id', '?')} {reason}"


def check_image_answer(tally: Tally, kind: str, response: httpx.Response) -> None:
    """A 200 of the ingest is an image whose type matches its bytes, with a job
    id and a public link (SPEC §3.3)."""
    mime = response.headers.get("content-type", "")
    sniffed = sniff_image_mime(response.content[:SNIFF_BYTES])
    if mime not in IMAGE_TYPES or sniffed != mime:
        tally.bad_answer(kind, f"Content-Type {mime!r}, bytes {sniffed!r}")
    elif not response.headers.get("x-job-id") or not response.headers.get("x-result-url"):
        tally.bad_answer(kind, "no X-Job-Id/X-Result-Url")
    elif response.headers.get("cache-control") != "no-store":
        tally.bad_answer(kind, f"Cache-Control {response.headers.get('cache-control')!r}")


def multipart(
    fields: Sequence[tuple[str, str]],
    files: Sequence[tuple[str, str, bytes, str]],
    boundary: str,
) -> bytes:
    """A multipart/form-data body: text `fields`, then `files` as (field,
    filename, bytes, content type)."""
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for name, filename, data, content_type in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


def new_boundary() -> str:
    return "----soak" + secrets.token_hex(12)


async def read_final_status(reader: asyncio.StreamReader) -> Outcome:
    """The status of the first non-1xx answer; its body is read (by its length)."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return "error:closed_without_answer"
        status = int(head.split(b" ", 2)[1])
        if 100 <= status < 200:
            continue
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    await reader.readexactly(int(value))
                except asyncio.IncompleteReadError:
                    return "error:answer_cut_off"
        return status


async def raw_exchange(
    port: int,
    head: bytes,
    chunks: Sequence[bytes] = (),
    *,
    expect_continue: bool = False,
    stall: bool = False,
    hang_up: bool = False,
    answer_within: float = 60.0,
) -> Outcome:
    """One request over a plain socket: `head` (request line and headers), then
    the body `chunks`, sent while the answer is awaited (a server may answer
    early). `expect_continue` waits up to 2 s for `100 Continue` first; `stall`
    sends the chunks and then nothing more while keeping the connection open;
    `hang_up` closes the connection after the chunks without waiting."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as error:
        return f"error:{type(error).__name__}"

    async def send() -> None:
        try:
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
            if stall:
                await asyncio.Event().wait()
        except ConnectionError:
            pass  # the server answered and closed: its answer is what counts

    try:
        writer.write(head)
        await writer.drain()
        if expect_continue:
            try:
                async with asyncio.timeout(2.0):
                    interim = await reader.readuntil(b"\r\n\r\n")
            except TimeoutError:
                interim = b""
            if interim and not interim.startswith(b"HTTP/1.1 100"):
                return int(interim.split(b" ", 2)[1])
        if hang_up:
            await send()
            return CLOSED
        sender = asyncio.create_task(send())
        try:
            async with asyncio.timeout(answer_within):
                return await read_final_status(reader)
        except TimeoutError:
            return NO_ANSWER
        finally:
            sender.cancel()
    except (ConnectionError, asyncio.IncompleteReadError) as error:
        return f"error:{type(error).__name__}"
    finally:
        writer.close()


def request_head(path: str, headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _jpeg(pixels: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _photo_like(width: int, height: int, seed: int) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = np.concatenate(
        [
            np.broadcast_to(x * 200 + 30, (height, width, 1)),
            np.broadcast_to(y * 180 + 40, (height, width, 1)),
            np.broadcast_to((1 - x) * 160 + 50, (height, width, 1)),
        ],
        axis=2,
    )
    pixels: npt.NDArray[np.uint8] = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(
        np.uint8
    )
    return pixels


def bomb_png(side: int = 16_000) -> bytes:
    """A PNG of `side`² one-bit pixels (256 MP at 16,000) that compresses to ~30 KB:
    a decompression bomb for anything that decodes before it checks the size."""
    row = b"\x00" * (1 + side // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Photos:
    """Every input the soak sends, made once."""

    small: bytes
    medium: bytes
    large: bytes
    pngs: tuple[bytes, ...]
    webps: tuple[bytes, ...]
    gif: bytes
    bomb: bytes
    polyglot: bytes
    truncated_jpeg: bytes
    counter: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def make(cls) -> Photos:
        small = _jpeg(_photo_like(800, 600, seed=1))
        variants = [_photo_like(320, 240, seed=n) for n in range(16)]
        pngs: list[bytes] = []
        webps: list[bytes] = []
        for pixels in variants:
            for fmt, sink in (("PNG", pngs), ("WEBP", webps)):
                out = io.BytesIO()
                Image.fromarray(pixels).save(out, fmt)
                sink.append(out.getvalue())
        gif = io.BytesIO()
        Image.fromarray(variants[0]).convert("P").save(gif, "GIF")
        html = b"<html><body><script>alert(document.cookie)</script></body></html>"
        comment = b"\xff\xfe" + (len(html) + 2).to_bytes(2, "big") + html
        large = np.random.default_rng(5).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
        return cls(
            small=small,
            medium=base_photo(),
            large=_jpeg(large, quality=85),
            pngs=tuple(pngs),
            webps=tuple(webps),
            gif=gif.getvalue(),
            bomb=bomb_png(),
            polyglot=small[:2] + comment + small[2:] + html,
            truncated_jpeg=small[: len(small) * 3 // 5],
        )

    def fresh(self, photo: bytes) -> bytes:
        """The JPEG `photo` with a comment of its own: a new SHA-256 (no re-send)."""
        return unique(photo, next(self.counter))
