"""SECURITY.md T4, T1 and T11: every change made with the session cookie needs
the CSRF header; no id in any path reaches past its own table or directory; the
ids the public sees are long random tokens, and a near miss is answered like
any other unknown id."""

from __future__ import annotations

import re
import string

import httpx
import pytest
from fastapi import FastAPI

from support import admin_routes, assert_error, booth_fields, make_image

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
async def browser(app: FastAPI, admin_token: str) -> httpx.AsyncClient:
    """A browser holding the admin's session cookie, as the web UI does."""
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://booth.test",
        cookies={"photochanger_session": admin_token},
    )


async def test_every_cookie_authenticated_change_needs_the_csrf_header(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, admin_token: str
) -> None:
    changes = [(m, p) for m, p in await admin_routes(client) if m in CHANGES]
    assert len(changes) >= 8, changes
    async with browser:
        for method, path in changes:
            for header in ({}, {"X-CSRF-Token": "forged"}):
                answer = await browser.request(method, path, json={}, headers=header)
                assert_error(answer, 403, "csrf_failed")
        # The same request with a Bearer token (which another site cannot
        # make a browser send) is not asked for the header.
        bearer = {"Authorization": f"Bearer {admin_token}"}
        answer = await client.post("/api/cleanup", headers=bearer)
        assert answer.status_code != 403


TRICKS = [
    # Plain dot segments never reach the app: httpx (like a browser, nginx and
    # uvicorn's own clients) resolves them; tests/hostile sends them raw.
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5c..%5cwindows",
    "slot-００１",
    "slot-001%00",
    "slot-001%2F..%2Fslot-002",
    "%252e%252e%252f",
    "x" * 5000,
    "'; DROP TABLE job; --",
]


async def test_no_id_in_any_path_reaches_outside_its_own_kind(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    bearer = {"Authorization": f"Bearer {admin_token}"}
    document = (await client.get("/openapi.json")).json()
    templated = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if "{" in path
        for method in operations
    ]
    templated += [("GET", "/r/{job_id}"), ("GET", "/public/results/{job_id}/qr.png")]
    assert len(templated) >= 10
    for method, path in templated:
        for trick in TRICKS:
            concrete = re.sub(r"\{[^}]+\}", trick, path)
            if method == "POST" and path.startswith("/api/ingest/"):
                answer = await client.post(
                    concrete,
                    data=booth_fields(),
                    files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
                )
            else:
                answer = await client.request(method, concrete, headers=bearer, json={})
            assert 400 <= answer.status_code < 500, (method, concrete, answer.status_code)
            assert "root:" not in answer.text
            if answer.headers.get("content-type", "").startswith("application/json"):
                assert "failure_reason" in answer.json(), (method, concrete)


async def test_public_ids_are_long_random_tokens_and_a_near_miss_is_a_plain_404(
    client: httpx.AsyncClient,
) -> None:
    ids = []
    for seed in range(3):
        answer = await client.post(
            "/api/ingest/slot-001",
            data=booth_fields(),
            files={"fileToUpload": ("a.jpg", make_image(seed=seed), "image/jpeg")},
        )
        assert answer.status_code == 200
        ids.append(answer.headers["x-job-id"])
        assert answer.headers["x-result-url"].endswith(f"/public/results/{ids[-1]}")
    alphabet = set(string.ascii_letters + string.digits + "-_")
    for job_id in ids:
        assert len(job_id) >= 24  # 144 random bits
        assert set(job_id) <= alphabet
    assert len(set(ids)) == len(ids)
    assert len({a[:4] for a in ids}) == len(ids)  # no shared, counting prefix

    unknown = await client.get(f"/public/results/{'A' * 24}")
    for job_id in ids:
        near = job_id[:-1] + ("A" if job_id[-1] != "A" else "B")
        miss = await client.get(f"/public/results/{near}")
        assert miss.status_code == unknown.status_code == 404
        assert miss.json() == unknown.json()
