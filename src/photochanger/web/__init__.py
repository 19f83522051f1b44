"""The studio's web UI (SPEC §7): HTML shells served by the same process, plain
ES modules and one stylesheet under `static/`, one catalog per language."""
