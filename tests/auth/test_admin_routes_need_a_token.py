"""Every `/api/*` route except ingest and login needs an admin token (SPEC §6.1):
checked over the app's whole route table, so a route added later cannot forget."""

from __future__ import annotations

import httpx

from support import OPEN_ROUTES, admin_routes


async def test_every_admin_route_refuses_a_request_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    routes = await admin_routes(client)
    assert ("GET", "/api/providers") in routes
    for method, path in routes:
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["failure_reason"] == "not_authenticated"


async def test_every_admin_route_documents_its_401(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/") or path in OPEN_ROUTES:
            continue
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)
