"""deploy/photochanger.service: `systemd-analyze verify` where systemd is
installed (the unit rendered under a temp directory standing for
/srv/photochanger, so the commands it names exist), and everywhere a read of
its sections."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from deploy_files import UNIT, unit_sections

INSTALLED_AT = "/srv/photochanger"


def render_unit(root: Path) -> Path:
    """The unit with its install directory moved to `root`, which gets a
    `.venv/bin/photochanger` and an `.env` as an installation has."""
    executable = root / ".venv" / "bin" / "photochanger"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    (root / ".env").write_text("")
    (root / ".data").mkdir()
    unit = root / "photochanger.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED_AT, str(root)))
    return unit


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here; the section checks still ran")
    return subprocess.run(
        [tool, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )


def test_the_unit_serves_after_migrating_on_loopback() -> None:
    unit = unit_sections(UNIT.read_text())
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["User"] == "photochanger"
    assert service["ExecStartPre"].endswith("/photochanger migrate")
    assert service["ExecStart"].endswith("photochanger serve --host 127.0.0.1 --port 8000")
    assert service["Restart"] == "always"
    assert service["ProtectSystem"] == "strict"
    # The data directory is the one path it may write, and it is the default
    # data directory (`.data`) of its working directory.
    assert service["ReadWritePaths"] == f"{service['WorkingDirectory']}/.data"
    assert int(service["TimeoutStopSec"]) > 60  # an ingest in flight finishes
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    checked = analyze("verify", str(render_unit(tmp_path / "srv")))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_systemd_analyze_names_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: an unknown key is reported."""
    unit = render_unit(tmp_path / "srv")
    unit.write_text(unit.read_text().replace("Restart=always", "Restart=always\nRestartt=no"))
    checked = analyze("verify", str(unit))
    assert "Unknown key 'Restartt'" in checked.stderr


def test_the_unit_is_sandboxed(tmp_path: Path) -> None:
    checked = analyze("security", "--offline=true", str(render_unit(tmp_path / "srv")))
    assert checked.returncode == 0, checked.stderr
    level = checked.stdout.rsplit("Overall exposure level for photochanger.service:", 1)[1]
    assert float(level.split()[0]) <= 4.0, level
