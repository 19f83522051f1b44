"""The one CLI, run as a user would: as a subprocess."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import LiveServer
from fakes import gemini
from fakes.gemini import GeminiFake
from photochanger.cli import served_at
from photochanger.config import Settings
from support import INGEST_PASSWORD, make_image, photochanger


def test_migrate_generates_and_prints_the_password_once(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    first = photochanger("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "New ingest password:" in first.stdout
    password = first.stdout.split("New ingest password:", 1)[1].split()[0]
    assert len(password) >= 12

    second = photochanger("migrate", env=env)
    assert second.returncode == 0
    assert password not in second.stdout

    info = photochanger("info", env=env)
    assert info.returncode == 0
    assert "http://127.0.0.1:8000/api/ingest/slot-001" in info.stdout
    assert password in info.stdout


def test_configured_password_is_used_and_not_printed(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data"), "PHOTOCHANGER_INGEST_PASSWORD": "s3t"}
    result = photochanger("migrate", env=env)
    assert result.returncode == 0
    assert "s3t" not in result.stdout
    assert "s3t" in photochanger("info", env=env).stdout


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    result = photochanger("serve", "--port", "1", env=env)
    assert result.returncode != 0
    assert "photochanger migrate" in result.stdout + result.stderr


def test_demo_sends_a_photo_through_a_running_server(
    live_server: LiveServer, config: Settings, tmp_path: Path
) -> None:
    env = {
        "PHOTOCHANGER_DATABASE_URL": config.resolved_database_url,
        "PHOTOCHANGER_LOG_LEVEL": "INFO",  # as a user has it; DEBUG would let httpx speak
    }
    out = tmp_path / "result.jpg"
    result = photochanger(
        "demo", "--slot", "slot-002", "--url", live_server.base_url, "--out", str(out), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "Saved" in result.stdout
    assert result.stderr == ""  # no library's log lines on the user's terminal
    edited = Image.open(out)
    assert edited.format == "JPEG"

    photo = tmp_path / "mine.png"
    photo.write_bytes(make_image("PNG", (400, 300)))
    result = photochanger(
        "demo",
        "--image",
        str(photo),
        "--url",
        live_server.base_url,
        "--password",
        INGEST_PASSWORD,
        "--out",
        str(tmp_path / "r.png"),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(io.BytesIO((tmp_path / "r.png").read_bytes())).size == (400, 300)


def test_demo_reports_a_wrong_password(live_server: LiveServer, tmp_path: Path) -> None:
    result = photochanger(
        "demo",
        "--url",
        live_server.base_url,
        "--password",
        "nope",
        "--out",
        str(tmp_path / "x.jpg"),
        env={},
    )
    assert result.returncode == 1
    assert "invalid_password" in result.stderr


def test_info_before_migrate_gives_a_hint_not_a_traceback(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "nothing-here")}
    for command in (["info"], ["demo", "--url", "http://127.0.0.1:9"]):
        result = photochanger(*command, env=env)
        assert result.returncode == 2
        assert "photochanger migrate" in result.stderr
        assert "Traceback" not in result.stderr


def test_provider_check_reports_what_the_provider_answered(
    tmp_path: Path, gemini_fake: GeminiFake
) -> None:
    env = {
        "PHOTOCHANGER_DATA_DIR": str(tmp_path / "data"),
        "PHOTOCHANGER_GEMINI_BASE_URL": gemini_fake.base_url,
    }
    assert photochanger("migrate", env=env).returncode == 0

    no_key = photochanger("provider-check", "gemini", env=env)
    assert no_key.returncode == 2
    assert "no key configured" in no_key.stdout
    assert gemini_fake.received == []

    env["PHOTOCHANGER_GEMINI_API_KEY"] = gemini.API_KEY
    out = tmp_path / "check.png"
    ok = photochanger("provider-check", "gemini", "--out", str(out), env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "gemini: OK" in ok.stdout
    assert "response id: resp-" in ok.stdout
    assert Image.open(out).format == "PNG"
    assert gemini_fake.last.headers["x-goog-api-key"] == gemini.API_KEY

    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY", "Unsafe image."))
    failed = photochanger("provider-check", "gemini", env=env)
    assert failed.returncode == 1
    assert "reason: IMAGE_SAFETY" in failed.stdout
    assert gemini.API_KEY not in failed.stdout + failed.stderr + ok.stdout + ok.stderr


def test_links_follow_the_served_port_unless_a_public_url_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHOTOCHANGER_PUBLIC_BASE_URL", raising=False)
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    assert photochanger("migrate", env=env).returncode == 0
    info = photochanger("info", "--port", "8765", env=env)
    assert "http://127.0.0.1:8765/api/ingest/slot-001" in info.stdout
    public = {**env, "PHOTOCHANGER_PUBLIC_BASE_URL": "https://booth.example.com"}
    info = photochanger("info", "--port", "8765", env=public)
    assert "https://booth.example.com/api/ingest/slot-001" in info.stdout


def test_served_at_names_a_reachable_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHOTOCHANGER_PUBLIC_BASE_URL", raising=False)
    config = Settings(data_dir=tmp_path)
    every_interface = "0.0.0.0"  # noqa: S104 - an address to name, not to bind
    assert served_at(config, every_interface, 9000).public_base_url == "http://127.0.0.1:9000"
    assert served_at(config, "::1", 9000).public_base_url == "http://[::1]:9000"
    configured = Settings(data_dir=tmp_path, public_base_url="https://booth.example.com/")
    assert (
        served_at(configured, every_interface, 9000).public_base_url == "https://booth.example.com"
    )
