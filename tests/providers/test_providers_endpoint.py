"""GET /api/providers: every driver's operations and settings schemas."""

from __future__ import annotations

import httpx


async def test_lists_local_operations_with_their_settings_schemas(
    admin_client: httpx.AsyncClient,
) -> None:
    response = await admin_client.get("/api/providers")
    assert response.status_code == 200
    providers = {p["name"]: p for p in response.json()["providers"]}
    assert "local" in providers
    operations = {op["name"]: op for op in providers["local"]["operations"]}
    assert set(operations) >= {"background_replace", "stylize", "enhance"}
    background = operations["background_replace"]["settings_schema"]
    assert background["type"] == "object"
    assert background["additionalProperties"] is False
    assert set(background["properties"]["background"]["enum"]) >= {"template", "studio", "blur"}
    stylize = operations["stylize"]["settings_schema"]
    assert "cartoon" in stylize["properties"]["style"]["enum"]


async def test_lists_the_cloud_providers_edit_forms(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/providers")
    providers = {p["name"]: p for p in response.json()["providers"]}
    gemini = providers["gemini"]["operations"][0]["settings_schema"]
    assert "gemini-3.1-flash-image" in gemini["properties"]["model"]["enum"]
    assert gemini["required"] == ["prompt"]
    openai = providers["openai"]["operations"][0]["settings_schema"]
    assert openai["properties"]["model"]["default"] == "gpt-image-1.5"
    assert "input_fidelity" in openai["properties"]


async def test_shows_template_roles_and_russian_titles(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/providers")
    providers = {p["name"]: p for p in response.json()["providers"]}
    local = providers["local"]
    assert local["title_i18n"] == {"ru": "Встроенный (офлайн)"}
    operations = {op["name"]: op for op in local["operations"]}
    assert operations["background_replace"]["template_roles"] == ["background"]
    assert operations["enhance"]["template_roles"] == []
    assert operations["enhance"]["title_i18n"]["ru"] == "Автоуровни и лёгкая резкость"
    assert providers["openai"]["operations"][0]["template_roles"] == [
        "template",
        "style",
        "face",
        "background",
    ]
    turbotext = {op["name"]: op for op in providers["turbotext"]["operations"]}
    assert turbotext["mix_images"]["template_roles"] == ["style"]
    assert turbotext["deepfake_photo"]["template_roles"] == ["body"]
    assert turbotext["generate_image2image"]["template_roles"] == []
    style = operations["stylize"]["settings_schema"]["properties"]["style"]
    assert style["x-i18n"]["ru"]["enum"]["cartoon"] == "Мультфильм"
