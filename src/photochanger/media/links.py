"""The public links of a result (SPEC §5.2), as `media/endpoints.py` serves them.

The job id is the capability; `base_url` is the server's `public_base_url` for an
absolute link, or empty for one relative to the server (the public gallery page)."""

from __future__ import annotations


def result_url(job_id: str, base_url: str = "") -> str:
    return f"{base_url}/public/results/{job_id}"


def preview_url(job_id: str, base_url: str = "") -> str:
    return f"{result_url(job_id, base_url)}/preview.webp"
