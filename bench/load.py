"""Bounded load from simulated booths (issue 18, point 7): B booths each send P
photos, one after another as a booth does, against one replica and then two
replicas sharing one database and one media directory (a round-robin client
stands in for the balancer). The provider is the `echo` test provider with a
fixed delay per slot, spread over 2–8 s, so the time the service adds to the
provider's is measured exactly: latency − the slot's delay.

Prints throughput, p50/p95/p99 of the added time, errors (must be zero) and the
RSS of each server process (with its local-model workers). Everything stays on
127.0.0.1 and stops by itself. With PostgreSQL (two replicas are SPEC §9's
shape), run it under a throw-away server:

    scripts/with-postgres.sh .venv/bin/python bench/load.py [--booths 20 --photos 50]

Without PHOTOCHANGER_TEST_PG_URL it uses one SQLite file for both replicas."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import delete, insert, text, update

from photochanger.db import create_engine
from photochanger.models import Setting, Slot

PASSWORD = "bench-booth-password"  # noqa: S105 - a throw-away server's ingest password
SLOTS = [f"slot-{n:03d}" for n in range(1, 16)]
DELAYS = {slot: 2.0 + 6.0 * n / (len(SLOTS) - 1) for n, slot in enumerate(SLOTS)}
"""Provider latency per slot: 2.0 s for slot-001 … 8.0 s for slot-015."""
PHOTOCHANGER = Path(sys.executable).with_name("photochanger")


def base_photo() -> bytes:
    rng = np.random.default_rng(3)
    pixels = np.clip(rng.normal(128, 40, (1500, 2000, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def unique(photo: bytes, n: int) -> bytes:
    """The same picture with a comment of its own: a new SHA-256, so no photo is
    answered as a re-send of another (SPEC §3.5)."""
    text = f"booth photo {n}".encode()
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return photo[:2] + segment + photo[2:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    workdir: Path
    database_url: str

    def env(self, name: str, port: int) -> dict[str, str]:
        return {
            **os.environ,
            "PHOTOCHANGER_ENVIRONMENT": "development",
            "PHOTOCHANGER_DATA_DIR": str(self.workdir),
            "PHOTOCHANGER_DATABASE_URL": self.database_url,
            "PHOTOCHANGER_INGEST_PASSWORD": PASSWORD,
            "PHOTOCHANGER_ENABLE_TEST_PROVIDERS": "true",
            "PHOTOCHANGER_INSTANCE_ID": name,
            "PHOTOCHANGER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "PHOTOCHANGER_CLEANUP_ENABLED": "false",
            "PHOTOCHANGER_LOG_LEVEL": "WARNING",
        }


def prepare(setup: Setup) -> None:
    """Migrate, then every slot on `echo` with its delay, limits out of the way."""
    subprocess.run([str(PHOTOCHANGER), "migrate"], env=setup.env("setup", 1), check=True)

    async def configure() -> None:
        engine = create_engine(setup.database_url)
        async with engine.begin() as connection:
            for slot, delay in DELAYS.items():
                await connection.execute(
                    update(Slot)
                    .where(Slot.id == slot)
                    .values(provider="echo", operation="echo", settings={"delay_seconds": delay})
                )
            for key in ("slot_concurrency_limit", "provider_concurrency_limit"):
                await connection.execute(delete(Setting).where(Setting.key == key))
                await connection.execute(
                    insert(Setting).values(key=key, value=1000, updated_by="bench")
                )
        await engine.dispose()

    asyncio.run(configure())


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """VmRSS of the server and its children (the local model's workers)."""
        total = 0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task")
        for task in children.iterdir():
            kids = (task / "children").read_text().split()
            pids += [int(kid) for kid in kids]
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024


def start(setup: Setup, name: str) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [str(PHOTOCHANGER), "serve", "--port", str(port)],
        env=setup.env(name, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(name, port, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server {name} did not start")


@dataclass
class Result:
    added_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def booth(
    number: int, photos: int, urls: list[str], photo: bytes, result: Result, counter: list[int]
) -> None:
    async with httpx.AsyncClient(timeout=70, trust_env=False) as client:
        for _ in range(photos):
            counter[0] += 1
            n = counter[0]
            slot = SLOTS[n % len(SLOTS)]
            url = urls[n % len(urls)]
            started = time.perf_counter()
            try:
                response = await client.post(
                    f"{url}/api/ingest/{slot}",
                    data={"password": PASSWORD, "time": str(n), "id": str(number)},
                    files={"fileToUpload": ("photo.jpg", unique(photo, n), "image/jpeg")},
                )
            except httpx.HTTPError as exc:
                result.errors.append(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                result.errors.append(f"{response.status_code} {response.text[:80]}")
                continue
            result.added_ms.append((elapsed - DELAYS[slot]) * 1000)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run_case(setup: Setup, replicas: int, booths: int, photos: int, photo: bytes) -> str:
    servers = [start(setup, f"replica-{n}") for n in range(replicas)]
    try:
        result = Result()
        started = time.perf_counter()
        counter = [random.randrange(len(SLOTS))]
        urls = [server.url for server in servers]

        async def all_booths() -> None:
            await asyncio.gather(
                *(booth(n, photos, urls, photo, result, counter) for n in range(booths))
            )

        asyncio.run(all_booths())
        wall = time.perf_counter() - started
        rss = ", ".join(f"{server.name} {server.rss_mb():.0f} MB" for server in servers)
    finally:
        for server in servers:
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=30)
    done = len(result.added_ms)
    added = result.added_ms or [float("nan")]
    return (
        f"| {replicas} | {done} | {done / wall:.2f} | {statistics.median(added):.0f} | "
        f"{percentile(added, 0.95):.0f} | {percentile(added, 0.99):.0f} | "
        f"{len(result.errors)} | {rss} |"
        + (f"\n  errors: {sorted(set(result.errors))[:5]}" if result.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booths", type=int, default=20)
    parser.add_argument("--photos", type=int, default=50, help="photos per booth")
    args = parser.parse_args()
    photo = base_photo()
    pg_url = os.environ.get("PHOTOCHANGER_TEST_PG_URL")
    print(
        f"{args.booths} booths × {args.photos} photos of {len(photo) / 1e6:.1f} MB, echo "
        f"2–8 s by slot, database: {'PostgreSQL' if pg_url else 'SQLite'}"
    )
    print("| replicas | photos | photos/s | added p50 ms | p95 | p99 | errors | RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for replicas in (1, 2):
        with tempfile.TemporaryDirectory(prefix="photochanger-load-") as workdir:
            url = pg_url or f"sqlite+aiosqlite:///{workdir}/photochanger.db"
            if pg_url:
                reset_postgres(pg_url)
            setup = Setup(Path(workdir), url)
            prepare(setup)
            print(run_case(setup, replicas, args.booths, args.photos, photo), flush=True)


def reset_postgres(url: str) -> None:
    """Drop every table of the bench's database, so each case starts empty."""

    async def reset() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


if __name__ == "__main__":
    main()
