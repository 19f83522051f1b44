"""Soak (issue 19, point 5): a real `photochanger serve` under mixed valid and
hostile load for `--minutes` (default 10), its Gemini slots on a flaky fake
(bench/flaky_provider.py: errors, hangs past the window, garbage, truncated
bodies, resets), then checked: no job left `pending`, no orphan media file or
row, an empty spool directory, no 500, flat RSS, and no secret in the log.

    .venv/bin/python bench/soak.py [--minutes 10 --booths 12 --postgres URL]

The server runs in `production` mode with every secret set (ingest and admin
passwords, JWT secret, metrics token, provider keys, one of them saved through
the settings page), all random per run; its stdout/stderr is captured and
searched for each of them and for every Bearer token the soak was given.
Prints a table of every request by kind and answer, the checks, and exits 1
when a must-be-zero figure is not zero. See bench/README.md ("Soak")."""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from load import PHOTOCHANGER, Server, Setup, free_port, reset_postgres
from soak_checks import (
    DatabaseState,
    media_report,
    read_database,
    spool_leftovers,
)
from soak_clients import Admin, Context, booth, operator, public_reader
from soak_hostile import HOSTILE
from soak_report import RssLog, report
from soak_traffic import Photos, SlotPlan, Tally

ADMIN_USERNAME = "soak-admin"
BENCH = Path(__file__).resolve().parent
RSS_SAMPLE_SECONDS = 5.0


@dataclass(frozen=True)
class SoakSecrets:
    """Everything that must never reach the log, new for every run."""

    ingest_password: str
    admin_password: str
    jwt_secret: str
    metrics_token: str
    gemini_key: str
    """Saved on the settings page; the one the fake accepts."""
    gemini_environment_key: str
    """`PHOTOCHANGER_GEMINI_API_KEY`, overridden by the saved one."""
    openai_key: str
    turbotext_key: str
    wrong_ingest_password: str
    wrong_admin_password: str

    @classmethod
    def generate(cls) -> SoakSecrets:
        def token(prefix: str = "") -> str:
            return prefix + secrets.token_urlsafe(24)

        return cls(
            ingest_password=token("booth-"),
            admin_password=token("admin-"),
            jwt_secret=token() + token(),
            metrics_token=token() + token(),
            gemini_key=token("AIzaSy"),
            gemini_environment_key=token("AIzaSy"),
            openai_key=token("sk-proj-"),
            turbotext_key=token("tt-"),
            wrong_ingest_password=token("typo-"),
            wrong_admin_password=token("guess-"),
        )

    def named(self, bearer_tokens: list[str]) -> dict[str, str]:
        named = {name.replace("_", " "): value for name, value in vars(self).items()}
        named.update({f"admin Bearer token {n + 1}": t for n, t in enumerate(bearer_tokens)})
        return named


def server_env(
    setup: Setup, port: int, secret: SoakSecrets, fake_url: str, log_level: str
) -> dict[str, str]:
    return {
        **setup.env("soak", port),
        "PHOTOCHANGER_ENVIRONMENT": "production",
        "PHOTOCHANGER_ENABLE_TEST_PROVIDERS": "false",
        "PHOTOCHANGER_INGEST_PASSWORD": secret.ingest_password,
        "PHOTOCHANGER_JWT_SECRET": secret.jwt_secret,
        "PHOTOCHANGER_METRICS_ACCESS": "token",
        "PHOTOCHANGER_METRICS_TOKEN": secret.metrics_token,
        "PHOTOCHANGER_GEMINI_BASE_URL": fake_url,
        "PHOTOCHANGER_GEMINI_API_KEY": secret.gemini_environment_key,
        "PHOTOCHANGER_OPENAI_API_KEY": secret.openai_key,
        "PHOTOCHANGER_TURBOTEXT_API_KEY": secret.turbotext_key,
        "PHOTOCHANGER_LOG_LEVEL": log_level,
        "PHOTOCHANGER_CLEANUP_ENABLED": "true",
        "PHOTOCHANGER_CLEANUP_INTERVAL_SECONDS": "60",
    }


def start_fake(api_key: str, seed: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    command = [
        sys.executable,
        str(BENCH / "flaky_provider.py"),
        "--api-key",
        api_key,
        "--seed",
        str(seed),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("listening "):
        process.kill()
        raise SystemExit(f"the flaky provider did not start: {line!r} (see {log_path})")
    return process, line.removeprefix("listening ")


def command(env: dict[str, str], *args: str, stdin: str = "") -> None:
    """One `photochanger` command before the server starts; its output stays out
    of the server's log (and of the secret scan): nothing it prints is served."""
    done = subprocess.run(
        [str(PHOTOCHANGER), *args], env=env, input=f"{stdin}\n".encode(), capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(f"photochanger {args[0]} failed: {done.stderr.decode()[-2000:]}")


def start_server(env: dict[str, str], port: int, log_path: Path) -> Server:
    """`photochanger serve` with its stdout and stderr in `log_path` (load.start
    sends them to /dev/null)."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(PHOTOCHANGER), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server("soak", port, process)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1, trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the server did not start (see {log_path})")


def configure(
    server: Server, secret: SoakSecrets, plan: SlotPlan, window: int, tokens: list[str]
) -> None:
    """Settings and slots through the admin API, as a studio would set them up."""
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        login = client.post(
            "/api/login", json={"username": ADMIN_USERNAME, "password": secret.admin_password}
        )
        login.raise_for_status()
        tokens.append(login.json()["access_token"])
        client.headers["Authorization"] = f"Bearer {tokens[-1]}"
        settings = {
            "sync_response_seconds": window,
            "slot_concurrency_limit": 4,
            "provider_concurrency_limit": 30,
            "provider_keys": {"gemini": secret.gemini_key},
        }
        _ok(client.put("/api/settings", json=settings))
        gemini = {"provider": "gemini", "operation": "edit"}
        prompt = {"prompt": "Put the guests on a sunny beach; keep their faces and clothes."}
        slots: dict[str, dict[str, object]] = {
            **{
                slot: {**gemini, "settings": prompt, "name": f"Flaky {slot}"} for slot in plan.flaky
            },
            plan.original: {
                **gemini,
                "settings": prompt,
                "on_failure": "original",
                "name": "Never empty",
            },
            plan.fallback: {
                **gemini,
                "settings": prompt,
                "name": "With a fallback",
                "fallback": {
                    "provider": "local",
                    "operation": "background_replace",
                    "settings": {},
                },
            },
            plan.disabled: {"active": False},
            plan.small_limit: {
                "provider": "local",
                "operation": "enhance",
                "settings": {},
                "size_limit_mb": 1,
            },
        }
        for slot, operation in zip(
            plan.local, ("background_replace", "stylize", "enhance"), strict=True
        ):
            slots[slot] = {"provider": "local", "operation": operation, "settings": {}}
        for slot, body in slots.items():
            _ok(client.put(f"/api/slots/{slot}", json=body))
        _ok(client.post("/api/gallery/share", json={"minutes": 120}))


def _ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        request = response.request
        raise SystemExit(
            f"setup: {request.method} {request.url} -> {response.status_code} {response.text}"
        )


async def run_load(
    ctx: Context, admin: Admin, server: Server, metrics_token: str, booths: int, rss: RssLog
) -> None:
    started = time.monotonic()

    async def monitor() -> None:
        minute = 1
        while ctx.running():
            await asyncio.sleep(RSS_SAMPLE_SECONDS)
            elapsed = time.monotonic() - started
            label = None
            if elapsed >= minute * 60:
                label, minute = f"minute {minute}", minute + 1
            rss.sample(server, elapsed, label, ctx.tally)

    await asyncio.gather(
        *(booth(ctx, number, HOSTILE) for number in range(booths)),
        admin.run(),
        public_reader(ctx),
        operator(ctx, metrics_token),
        monitor(),
    )


async def settle(url: str, media_root: Path, window: int) -> DatabaseState:
    """Wait until no job is pending (at most a window and a half past the load)
    and the media directory has stopped changing, then read the database."""
    deadline = time.monotonic() + window * 1.5 + 15
    state = await read_database(url)
    while state.pending and time.monotonic() < deadline:
        await asyncio.sleep(1)
        state = await read_database(url)
    previous: set[Path] | None = None
    for _ in range(30):
        files = await asyncio.to_thread(lambda: set(media_root.rglob("*")))
        if files == previous:
            break
        previous = files
        await asyncio.sleep(2)
    return await read_database(url)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fake_faults(fake_url: str) -> dict[str, int]:
    try:
        answer: dict[str, int] = httpx.get(f"{fake_url}/_faults", timeout=5, trust_env=False).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--booths", type=int, default=12)
    parser.add_argument("--window", type=int, default=10, help="sync_response_seconds (10-60)")
    parser.add_argument("--think", type=float, default=1.0, help="a booth's longest pause, s")
    parser.add_argument(
        "--postgres", metavar="URL", help="postgresql+asyncpg://… (default: SQLite)"
    )
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="photochanger-soak-"))
    failed = soak(args, workdir)
    if failed or args.keep:
        print(f"\nwork directory (server log: server.log): {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


def soak(args: argparse.Namespace, workdir: Path) -> bool:
    """The whole soak; True when a check failed."""
    secret = SoakSecrets.generate()
    plan = SlotPlan()
    print(
        f"soak: {args.minutes:g} min, {args.booths} booths, window {args.window} s, "
        f"database {'PostgreSQL' if args.postgres else 'SQLite'}, seed {args.seed}",
        flush=True,
    )
    photos = Photos.make()
    database_url = args.postgres or f"sqlite+aiosqlite:///{workdir}/photochanger.db"
    if args.postgres:
        reset_postgres(args.postgres)
    setup = Setup(workdir, database_url)
    fake, fake_url = start_fake(secret.gemini_key, args.seed, workdir / "fake.log")
    server: Server | None = None
    tokens: list[str] = []
    tally = Tally()
    rss = RssLog()
    try:
        port = free_port()
        env = server_env(setup, port, secret, fake_url, args.log_level)
        command(env, "migrate")
        command(
            env, "admin", "create", ADMIN_USERNAME, "--password-stdin", stdin=secret.admin_password
        )
        server = start_server(env, port, workdir / "server.log")
        configure(server, secret, plan, args.window, tokens)
        rng = random.Random(args.seed)
        ctx = Context(
            port=port,
            ingest_password=secret.ingest_password,
            wrong_password=secret.wrong_ingest_password,
            plan=plan,
            photos=photos,
            tally=tally,
            window=args.window,
            stop_at=time.monotonic() + args.minutes * 60,
            think=args.think,
            rng=rng,
        )
        admin = Admin(
            ctx, ADMIN_USERNAME, secret.admin_password, tokens, secret.wrong_admin_password
        )
        rss.sample(server, 0.0, "start", tally)
        asyncio.run(run_load(ctx, admin, server, secret.metrics_token, args.booths, rss))
        print("  load stopped; waiting for in-flight work", flush=True)
        state = asyncio.run(settle(database_url, workdir / "media", args.window))
        media = media_report(workdir / "media", state.media)
        spool = spool_leftovers(workdir / "spool")
        rss.sample(server, args.minutes * 60 + 1, "end", tally)
        rss.save(workdir / "rss.tsv")
        faults = fake_faults(fake_url)
    finally:
        if server is not None:
            stop(server.process)
        stop(fake)
    log_text = (workdir / "server.log").read_text(errors="replace")
    return report(args, tally, state, media, spool, rss, faults, log_text, secret.named(tokens))


if __name__ == "__main__":
    main()
