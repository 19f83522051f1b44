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
    settings_schema: dict[str, Any]


class ProviderInfo(BaseModel):
    name: str
    title: str
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
                operations=[
                    OperationInfo(
                        name=op.name,
                        title=op.title,
                        settings_schema=op.settings_model.model_json_schema(),
                    )
                    for op in driver.operations.values()
                ],
            )
            for driver in registry
        ]
    )
