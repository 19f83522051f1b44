"""A declared query parameter given twice is a 422 naming it (query_params.py);
one given once, or an undeclared one repeated, is answered as before."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/stats/overview", "window_minutes=5&window_minutes=6", "query.window_minutes"),
        ("/api/stats/timeseries", "bucket_minutes=5&window_minutes=60&bucket_minutes=5",
         "query.bucket_minutes"),
        ("/api/jobs", "status=done&slot_id=slot-001&status=failed", "query.status"),
    ],
)  # fmt: skip
async def test_a_declared_parameter_given_twice_is_a_422(
    admin_client: httpx.AsyncClient, path: str, query: str, field: str
) -> None:
    response = await admin_client.get(f"{path}?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["failure_reason"] == "validation_error"
    assert [error["field"] for error in body["errors"]] == [field]


async def test_once_each_or_undeclared_twice_is_answered(admin_client: httpx.AsyncClient) -> None:
    once = await admin_client.get("/api/stats/overview?window_minutes=5&source=all")
    assert once.status_code == 200
    assert once.json()["window_minutes"] == 5
    undeclared = await admin_client.get("/api/stats/overview?utm=a&utm=b")
    assert undeclared.status_code == 200
