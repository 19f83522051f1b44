"""The OpenAPI document comes from the routes' docstrings and lists every
documented error of the ingest."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate


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
    headers = ingest["responses"]["200"]["headers"]
    assert set(headers) == {"X-Job-Id", "X-Result-Url", "X-PhotoChanger-Degraded"}
    body = ingest["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["password", "fileToUpload"]
    results = document["paths"]["/public/results/{job_id}"]["get"]
    assert set(results["responses"]) >= {"200", "404", "410"}


async def test_the_document_is_valid_openapi_with_text_and_errors_for_every_route(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    validate(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), f"{where} has no docstring"
            errors = [code for code in operation["responses"] if code[0] in "45"]
            if path.startswith("/api/") or method != "get" or "{" in path:
                assert errors, f"{where} documents no error answer"
