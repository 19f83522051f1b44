"""The checks of `ingest/validation.py` on their own, for inputs the ingest's
tests do not reach."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from photochanger.ingest.validation import client_hash_matches
from photochanger.multipart import SpooledFile


def spooled(data: bytes, tmp_path: Path) -> SpooledFile:
    file = SpooledFile(tmp_path)
    file.write(data)
    file.finish()
    return file


@pytest.mark.parametrize("given", ["é" * 40, "\ufffd" * 64, "ａ" * 40, "0" * 39 + "é"])
def test_a_hash_of_other_characters_is_a_mismatch_not_a_crash(given: str, tmp_path: Path) -> None:
    """compare_digest raises TypeError on non-ASCII str: a booth's `hash` of 40
    such characters was a 500 (tests/hostile)."""
    assert not client_hash_matches(spooled(b"photo", tmp_path), given)


def test_sha1_and_sha256_in_any_case_match(tmp_path: Path) -> None:
    file = spooled(b"photo", tmp_path)
    assert client_hash_matches(file, hashlib.sha1(b"photo").hexdigest().upper())  # noqa: S324
    assert client_hash_matches(file, " " + hashlib.sha256(b"photo").hexdigest() + "\n")
    assert not client_hash_matches(file, hashlib.md5(b"photo").hexdigest())  # noqa: S324
