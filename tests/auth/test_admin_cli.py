"""`photochanger admin create | set-password | list | delete`, and the first
account a fresh install creates at `serve` (SPEC §6.1)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from fastapi import FastAPI

from conftest import start_live_server
from photochanger.cli import run_command
from photochanger.config import Settings
from support import photochanger


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    """`photochanger …` in this process, without its logging set-up (one test
    below runs the real program)."""
    with patch("sys.stdin", io.StringIO(stdin)):
        code = run_command(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_account_lifecycle_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHOTOCHANGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PHOTOCHANGER_DATABASE_URL", raising=False)
    assert run(capsys, "admin", "list")[0] == 2  # not migrated: a hint, no traceback
    assert run(capsys, "migrate")[0] == 0

    code, out, _ = run(capsys, "admin", "create", "anna", "--password-stdin", stdin="right horse\n")
    assert code == 0
    assert "right horse" not in out
    code, out, _ = run(capsys, "admin", "create", "boris")
    assert code == 0
    password = re.search(r"Password \(shown once\): (\S+)", out)
    assert password is not None
    assert len(password.group(1)) >= 16

    code, _, err = run(capsys, "admin", "create", "anna")
    assert (code, "already exists" in err) == (1, True)
    code, _, err = run(capsys, "admin", "create", "carl", "--password-stdin", stdin="abc\n")
    assert (code, "at least 8" in err) == (1, True)
    assert run(capsys, "admin", "create", "bad name!")[0] == 1

    listed = run(capsys, "admin", "list")[1]
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["anna", "boris"]

    changed = run(capsys, "admin", "set-password", "anna", "--password-stdin", stdin="staple9!\n")
    assert changed[0] == 0
    assert run(capsys, "admin", "set-password", "nobody")[0] == 1
    assert run(capsys, "admin", "delete", "boris")[0] == 0
    assert run(capsys, "admin", "delete", "boris")[0] == 1
    assert run(capsys, "admin", "list")[1].startswith("anna\t")


def test_the_admin_command_runs_as_a_program(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    assert photochanger("migrate", env=env).returncode == 0
    created = photochanger(
        "admin", "create", "anna", "--password-stdin", env=env, stdin="right horse\n"
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Created anna."


def test_first_serve_creates_an_admin_and_tells_its_password_once(
    config: Settings, app: FastAPI
) -> None:
    server = start_live_server(config)
    try:
        found = re.search(r"first admin account: admin / (\S+)", server.log_text())
        assert found is not None, server.log_text()
        login = httpx.post(
            f"{server.base_url}/api/login",
            json={"username": "admin", "password": found.group(1)},
        )
        assert login.status_code == 200
    finally:
        server.stop()
    assert found.group(1) not in "\n".join(
        line for line in server.log_text().splitlines() if line.startswith("{")
    )  # never in a log event
    again = start_live_server(config)
    again.stop()
    assert "first admin account" not in again.log_text()
