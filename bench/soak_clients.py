"""The soak's traffic (bench/soak.py), part two: the clients. Booths send valid
photos (small, large, PNG, WebP, re-sends, two sends of one photo at once, a
DSLR Remote Pro request with `Expect: 100-continue` and its SHA-1) mixed with
hostile requests; after a good answer a guest sometimes opens the result, its
preview, its page or its QR code. An admin logs in, lists and reads jobs,
statistics, slots and settings, saves settings, test-runs slots and cleans up;
the public gallery and `/metrics` are read on their own timers."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from soak_traffic import (
    NO_ANSWER,
    ROLE_STATUSES,
    Outcome,
    Photos,
    SlotPlan,
    Tally,
    check_image_answer,
    multipart,
    new_boundary,
    outcome_detail,
    raw_exchange,
    request_head,
)

OK = frozenset[Outcome]({200})


@dataclass
class Context:
    """What every client of one soak shares."""

    port: int
    ingest_password: str
    wrong_password: str
    """A password no booth should send, tried on purpose; must not reach the log."""
    plan: SlotPlan
    photos: Photos
    tally: Tally
    window: float
    stop_at: float
    think: float
    rng: random.Random

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def answer_timeout(self) -> float:
        return self.window + 20

    def running(self) -> bool:
        return time.monotonic() < self.stop_at


@dataclass
class Booth:
    ctx: Context
    client: httpx.AsyncClient
    address: str
    """The booth's own address, as the trusted proxy on loopback forwards it, so
    the attackers' wrong passwords lock out their addresses, not the booths'."""
    last: tuple[str, bytes, str] | None = None
    """The last photo answered 200: slot, bytes, job id (for re-sends)."""

    def head(self, path: str, headers: dict[str, str], method: str = "POST") -> bytes:
        """A raw request's head, from this booth's address."""
        return request_head(path, {"X-Forwarded-For": self.address, **headers}, method)

    async def post(
        self,
        kind: str,
        slot: str,
        body: bytes,
        content_type: str,
        allowed: frozenset[Outcome],
        *,
        hostile: bool = False,
        address: str | None = None,
    ) -> httpx.Response | None:
        """One POST to the ingest; the answer when it came (and was counted)."""
        path = f"/api/ingest/{urllib.parse.quote(slot, safe='')}"
        headers = {"content-type": content_type, "x-forwarded-for": address or self.address}
        try:
            response = await self.client.post(
                self.ctx.url + path,
                content=body,
                headers=headers,
                timeout=self.ctx.answer_timeout,
            )
        except httpx.TimeoutException:
            self.ctx.tally.record(kind, NO_ANSWER, allowed, hostile=hostile, detail=slot)
            return None
        except httpx.HTTPError as error:
            outcome = f"error:{type(error).__name__}"
            self.ctx.tally.record(kind, outcome, allowed, hostile=hostile, detail=slot)
            return None
        detail = f"{slot} {outcome_detail(response)}"
        self.ctx.tally.record(kind, response.status_code, allowed, hostile=hostile, detail=detail)
        if response.status_code == 200:
            check_image_answer(self.ctx.tally, kind, response)
        return response

    async def ingest(
        self,
        kind: str,
        slot: str,
        photo: bytes,
        *,
        password: str | None = None,
        filename: str = "IMG_0001.JPG",
        content_type: str = "image/jpeg",
        extra: Sequence[tuple[str, str]] = (),
        allowed: frozenset[Outcome] | None = None,
        hostile: bool = False,
        address: str | None = None,
    ) -> httpx.Response | None:
        fields = [("password", password or self.ctx.ingest_password), *extra]
        boundary = new_boundary()
        body = multipart(fields, [("fileToUpload", filename, photo, content_type)], boundary)
        statuses = allowed if allowed is not None else self.statuses(slot)
        content_type = f"multipart/form-data; boundary={boundary}"
        response = await self.post(
            kind, slot, body, content_type, statuses, hostile=hostile, address=address
        )
        if response is not None and response.status_code == 200:
            self.ctx.tally.job_ids.append(response.headers.get("x-job-id", ""))
            self.last = (slot, photo, response.headers.get("x-job-id", ""))
            if self.ctx.rng.random() < 0.3:
                await self.guest_opens(response)
        return response

    def statuses(self, slot: str) -> frozenset[Outcome]:
        return ROLE_STATUSES[self.ctx.plan.role_of(slot)]

    async def guest_opens(self, response: httpx.Response) -> None:
        """A guest scans the QR code: the result, its preview, page or QR image."""
        job = response.headers.get("x-job-id", "")
        path = self.ctx.rng.choice(
            [
                f"/public/results/{job}",
                f"/public/results/{job}/preview.webp",
                f"/r/{job}",
                f"/public/results/{job}/qr.png",
            ]
        )
        kind = "guest " + path.replace(job, "{job}")
        await get(self.ctx, self.client, kind, path, OK)

    # Valid photos ---------------------------------------------------------------

    async def valid(self) -> None:
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.photos.fresh(self.ctx.photos.small)
        await self.ingest(f"valid {self.ctx.plan.role_of(slot)}", slot, photo)

    async def resend(self) -> None:
        """The booth gave up waiting and sends the same photo again (SPEC §3.5)."""
        if self.last is None:
            return await self.valid()
        slot, photo, job = self.last
        response = await self.ingest("re-send", slot, photo)
        if response is not None and response.headers.get("x-job-id") == job:
            self.ctx.tally.deduplicated += 1

    async def double(self) -> None:
        """One photo sent twice at once: the second waits for the first's job."""
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.photos.fresh(self.ctx.photos.small)
        answers = await asyncio.gather(
            self.ingest("double send", slot, photo), self.ingest("double send", slot, photo)
        )
        ids = {a.headers.get("x-job-id") for a in answers if a is not None and a.status_code == 200}
        if len(ids) == 1 and all(a is not None and a.status_code == 200 for a in answers):
            self.ctx.tally.deduplicated += 1

    async def large(self) -> None:
        slot = self.ctx.plan.pick(self.ctx.rng)
        await self.ingest("valid large 12 MP", slot, self.ctx.photos.fresh(self.ctx.photos.large))

    async def png(self) -> None:
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.rng.choice(self.ctx.photos.pngs)
        await self.ingest("valid PNG", slot, photo, filename="photo.png", content_type="image/png")

    async def webp(self) -> None:
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.rng.choice(self.ctx.photos.webps)
        await self.ingest("valid WebP", slot, photo, filename="p.webp", content_type="image/webp")

    async def dslr(self) -> None:
        """DSLR Remote Pro's own request: `Expect: 100-continue`, a SHA-1 `hash`."""
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.photos.fresh(self.ctx.photos.medium)
        boundary = new_boundary()
        fields = [
            ("password", self.ctx.ingest_password),
            ("hash", hashlib.sha1(photo).hexdigest()),  # noqa: S324 - what the booth sends
            ("time", "2026-12-08 21:00:00"),
            ("user_id", "7"),
            ("id", "IMG_0042"),
            ("profile", "soak"),
            ("status", "ok"),
            ("name", "IMG_0042.JPG"),
            ("model", "Canon EOS R6"),
            ("version", "3.30"),
        ]
        body = multipart(fields, [("fileToUpload", "IMG_0042.JPG", photo, "image/jpeg")], boundary)
        head = self.head(
            f"/api/ingest/{slot}",
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(body)),
                "Expect": "100-continue",
            },
        )
        outcome = await raw_exchange(
            self.ctx.port, head, [body], expect_continue=True, answer_within=self.ctx.answer_timeout
        )
        self.ctx.tally.record("valid DSLR Remote Pro (raw)", outcome, self.statuses(slot))


async def get(
    ctx: Context,
    client: httpx.AsyncClient,
    kind: str,
    path: str,
    allowed: frozenset[Outcome],
    **options: object,
) -> httpx.Response | None:
    """One GET, counted."""
    return await call(ctx, client, kind, "GET", path, allowed, **options)


async def call(
    ctx: Context,
    client: httpx.AsyncClient,
    kind: str,
    method: str,
    path: str,
    allowed: frozenset[Outcome],
    **options: object,
) -> httpx.Response | None:
    try:
        response = await client.request(
            method,
            ctx.url + path,
            timeout=ctx.answer_timeout,
            **options,  # type: ignore[arg-type]
        )
    except httpx.TimeoutException:
        ctx.tally.record(kind, NO_ANSWER, allowed, detail=path)
        return None
    except httpx.HTTPError as error:
        ctx.tally.record(kind, f"error:{type(error).__name__}", allowed, detail=path)
        return None
    ctx.tally.record(
        kind, response.status_code, allowed, detail=f"{path} {outcome_detail(response)}"
    )
    return response


async def booth(
    ctx: Context, number: int, hostile: dict[str, tuple[float, Callable[[Booth], Awaitable[None]]]]
) -> None:
    """One booth until the soak ends: a valid photo or a hostile request, then a pause."""
    actions: dict[str, tuple[float, Callable[[Booth], Awaitable[None]]]] = {
        "valid": (40, Booth.valid),
        "resend": (6, Booth.resend),
        "double": (3, Booth.double),
        "large": (1.5, Booth.large),
        "png": (3, Booth.png),
        "webp": (3, Booth.webp),
        "dslr": (5, Booth.dslr),
        **hostile,
    }
    names = list(actions)
    weights = [actions[name][0] for name in names]
    async with httpx.AsyncClient(trust_env=False) as client:
        unit = Booth(ctx, client, address=f"192.0.2.{number + 1}")
        while ctx.running():
            name = ctx.rng.choices(names, weights=weights)[0]
            await actions[name][1](unit)
            await asyncio.sleep(ctx.rng.uniform(0, ctx.think))


@dataclass
class Admin:
    """The studio admin: a Bearer token from `POST /api/login`."""

    ctx: Context
    username: str
    password: str
    tokens: list[str] = field(default_factory=list)
    """Every token the soak was given; none may reach the log."""
    wrong_password: str = ""
    """A password tried on purpose; must not reach the log either."""
    wrong_logins: int = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[-1]}"}

    async def login(self, client: httpx.AsyncClient) -> None:
        body = {"username": self.username, "password": self.password}
        response = await call(self.ctx, client, "admin login", "POST", "/api/login", OK, json=body)
        if response is not None and response.status_code == 200:
            self.tokens.append(response.json()["access_token"])
        # A script sends the Bearer token; the session cookie would answer for it.
        client.cookies.clear()

    async def run(self) -> None:
        async with httpx.AsyncClient(trust_env=False) as client:
            await self.login(client)
            for turn in range(1_000_000):
                if not self.ctx.running():
                    return
                await self.one_turn(client, turn)
                await asyncio.sleep(self.ctx.rng.uniform(0.5, 2.0))

    async def one_turn(self, client: httpx.AsyncClient, turn: int) -> None:
        ctx, h = self.ctx, self.headers()
        step = turn % 12
        if turn % 40 == 39:
            await self.login(client)
        elif step == 0:
            page = await get(ctx, client, "admin jobs list", "/api/jobs?limit=50", OK, headers=h)
            if page is not None and page.status_code == 200 and page.json()["jobs"]:
                job = ctx.rng.choice(page.json()["jobs"])["id"]
                await get(ctx, client, "admin job", f"/api/jobs/{job}", OK, headers=h)
        elif step == 1:
            await get(
                ctx, client, "admin stats", "/api/stats/overview?window_minutes=60", OK, headers=h
            )
        elif step == 2:
            await get(
                ctx, client, "admin stats", "/api/stats/slots?window_minutes=60", OK, headers=h
            )
        elif step == 3:
            path = "/api/stats/timeseries?window_minutes=60&bucket_minutes=5"
            await get(ctx, client, "admin stats", path, OK, headers=h)
        elif step == 4:
            await get(
                ctx, client, "admin stats", "/api/stats/failures?window_minutes=60", OK, headers=h
            )
        elif step == 5:
            await get(ctx, client, "admin slots", "/api/slots", OK, headers=h)
            slot = ctx.rng.choice(ctx.plan.flaky + ctx.plan.local)
            await get(ctx, client, "admin slots", f"/api/slots/{slot}", OK, headers=h)
        elif step == 6:
            await self.test_run(client)
        elif step == 7:
            await get(ctx, client, "admin settings", "/api/settings", OK, headers=h)
            # Saved again unchanged: the password goes through the settings path.
            body = {"ingest_password": ctx.ingest_password, "sync_response_seconds": ctx.window}
            await call(
                ctx, client, "admin settings save", "PUT", "/api/settings", OK, json=body, headers=h
            )
        elif step == 8:
            await get(ctx, client, "admin gallery", "/api/gallery", OK, headers=h)
            await get(ctx, client, "admin jobs CSV", "/api/jobs.csv?status=failed", OK, headers=h)
        elif step == 9:
            await call(ctx, client, "admin cleanup", "POST", "/api/cleanup", OK, headers=h)
        elif step == 10:
            await get(ctx, client, "admin without token", "/api/jobs", frozenset({401}))
            bad = {"Authorization": "Bearer " + self.tokens[-1][:-4] + "AAAA"}
            await get(
                ctx, client, "admin bad token", "/api/settings", frozenset({401}), headers=bad
            )
        elif step == 11 and self.wrong_logins < 25:
            # From a guest's address (the loopback proxy is trusted), so the
            # lockout it may earn does not lock the admin out.
            self.wrong_logins += 1
            body = {"username": self.username, "password": self.wrong_password}
            guest = {"X-Forwarded-For": "198.51.100.7"}
            await call(
                ctx, client, "admin wrong login", "POST", "/api/login", frozenset({401, 429}),
                json=body, headers=guest,
            )  # fmt: skip

    async def test_run(self, client: httpx.AsyncClient) -> None:
        slot = self.ctx.plan.pick(self.ctx.rng)
        photo = self.ctx.photos.fresh(self.ctx.photos.small)
        files = {"test_image": ("test.jpg", photo, "image/jpeg")}
        allowed = ROLE_STATUSES[self.ctx.plan.role_of(slot)]
        path = f"/api/slots/{slot}/test-run"
        await call(
            self.ctx, client, "admin test run", "POST", path, allowed, files=files,
            headers=self.headers(),
        )  # fmt: skip


async def public_reader(ctx: Context) -> None:
    """Guests on the public gallery (rate limited: 429 is a documented answer)."""
    limited = frozenset[Outcome]({200, 429})
    async with httpx.AsyncClient(trust_env=False) as client:
        for turn in range(1_000_000):
            if not ctx.running():
                return
            await get(ctx, client, "public gallery", "/pub/gallery", limited)
            if turn % 10 == 5:
                await get(ctx, client, "public gallery ZIP", "/pub/gallery.zip", limited)
            if turn % 5 == 2:
                await get(ctx, client, "public gallery page", "/pubgallery", OK)
                unknown = "/public/results/" + "0" * 36
                await get(ctx, client, "public unknown result", unknown, frozenset({404}))
            await asyncio.sleep(ctx.rng.uniform(2.0, 5.0))


async def operator(ctx: Context, metrics_token: str) -> None:
    """Ops: Prometheus scrapes with its token, health checks."""
    async with httpx.AsyncClient(trust_env=False) as client:
        for turn in range(1_000_000):
            if not ctx.running():
                return
            auth = {"Authorization": f"Bearer {metrics_token}"}
            await get(ctx, client, "metrics", "/metrics", OK, headers=auth)
            if turn % 4 == 3:
                wrong = {"Authorization": "Bearer " + "x" * 40}
                await get(
                    ctx, client, "metrics wrong token", "/metrics", frozenset({401}), headers=wrong
                )
            await get(ctx, client, "health", "/healthz", OK)
            await get(ctx, client, "health", "/readyz", OK)
            await asyncio.sleep(10)
