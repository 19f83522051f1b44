"""The OpenAPI document comes from the routes' docstrings and lists every
documented error of the ingest."""

from __future__ import annotations

import httpx


async def test_ingest_documents_every_error_status(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    ingest = document["paths"]["/api/ingest/{slot_id}"]["post"]
    assert "booth" in ingest["description"]
    assert set(ingest["responses"]) >= {
        "200",
        "400",
        "401",
        "404",
        "413",
        "415",
        "429",
        "500",
        "502",
        "503",
        "504",
    }
    body = ingest["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["password", "fileToUpload"]
    results = document["paths"]["/public/results/{job_id}"]["get"]
    assert set(results["responses"]) >= {"200", "404", "410"}
