"""SECURITY.md T6: a login's cost and answer do not tell whether the username
exists — an unknown username is verified against a dummy argon2 hash, as
costly as the real one, and both failures answer alike."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher

from photochanger.auth import passwords
from support import ADMIN_USERNAME, assert_error


async def test_an_unknown_user_costs_one_argon2_verification_like_a_known_one(
    client: httpx.AsyncClient, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spy on the hasher's `verify`, calling through; a timing test would be
    noise on this machine, so the test shows the same work is done."""
    verified: list[str] = []
    verify = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str, password: str) -> bool:
        verified.append(hash)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    answers = {}
    for username in (ADMIN_USERNAME, "nobody-by-this-name"):
        answer = await client.post("/api/login", json={"username": username, "password": "x" * 12})
        answers[username] = assert_error(answer, 401, "invalid_credentials")
    assert len(verified) == 2
    known, dummy = verified
    assert dummy == passwords._dummy_hash()
    assert PasswordHasher().check_needs_rehash(dummy) is False  # today's full parameters
    assert known.split("$")[3] == dummy.split("$")[3]  # the same memory/time/parallelism
    assert answers[ADMIN_USERNAME] == answers["nobody-by-this-name"]
