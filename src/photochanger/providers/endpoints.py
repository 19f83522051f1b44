from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from photochanger.auth.dependencies import AdminUser
from photochanger.dependencies import RegistryDep
from photochanger.errors import NotAuthenticated, error_responses

router = APIRouter(tags=["providers"])


class OperationInfo(BaseModel):
    name: str
    title: str
    title_i18n: dict[str, str]
    """`title` in other languages, by language code (`{"ru": "…"}`)."""
    settings_schema: dict[str, Any]
    """Each property carries `title` and `description` in English and
    `x-i18n: {lang: {title, description, enum: {value: label}}}` for the others;
    `x-enum-labels: {value: label}` where an English enum value needs a label."""
    template_roles: list[str]
    """The roles of the slot's template images the operation reads, in the order
    it sends them; empty when it reads none."""


class ProviderInfo(BaseModel):
    name: str
    title: str
    title_i18n: dict[str, str]
    operations: list[OperationInfo]


class ProviderList(BaseModel):
    providers: list[ProviderInfo]


@router.get("/api/providers", responses=error_responses(NotAuthenticated))
async def list_providers(registry: RegistryDep, _admin: AdminUser) -> ProviderList:
    """Every registered provider with its operations and the JSON Schema of each
    operation's settings: the admin UI renders the slot form from it."""
    return ProviderList(
        providers=[
            ProviderInfo(
                name=driver.name,
                title=driver.title,
                title_i18n=dict(driver.title_i18n),
                operations=[
                    OperationInfo(
                        name=op.name,
                        title=op.title,
                        title_i18n=dict(op.title_i18n),
                        settings_schema=op.settings_model.model_json_schema(),
                        template_roles=list(op.template_roles),
                    )
                    for op in driver.operations.values()
                ],
            )
            for driver in registry
        ]
    )
