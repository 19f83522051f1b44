"""Reading and saving slots (SPEC §6.2), and checking a test run's unsaved values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Row

from photochanger.audit.repository import AuditRepository
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.errors import (
    SlotNotFound,
    SlotVersionConflict,
    ValidationFailed,
    field_errors,
)
from photochanger.media.links import preview_url, result_url
from photochanger.models.base import utc_midnight, utcnow
from photochanger.models.job import outcome_of
from photochanger.providers.pricing import budget_reached, micros_to_amount
from photochanger.providers.registry import ProviderRegistry, UnknownProvider
from photochanger.settings.repository import SettingRepository
from photochanger.slots.override import SlotOverride
from photochanger.slots.repository import SlotRepository
from photochanger.slots.schemas import (
    AuditRecord,
    FallbackConfig,
    RecentResult,
    SlotAudit,
    SlotDetail,
    SlotList,
    SlotPayload,
    SlotSummary,
    SlotUpdate,
)
from photochanger.template_media.repository import TemplateMediaRepository
from photochanger.template_media.schemas import TemplateRole
from photochanger.template_media.service import template_info

FieldErrors = list[dict[str, str]]
CONFIG_FIELDS = (
    "name",
    "provider",
    "operation",
    "settings",
    "fallback",
    "on_failure",
    "active",
    "size_limit_mb",
    "max_input_megapixels",
    "keep_metadata",
    "daily_budget",
)
NULLABLE_FIELDS = ("fallback", "settings", "daily_budget")
"""null removes the fallback and the budget; null settings are {}."""


def provider_errors(
    registry: ProviderRegistry,
    provider: str,
    operation: str,
    settings: Mapping[str, Any],
    prefix: str = "",
) -> tuple[dict[str, Any] | None, FieldErrors]:
    """The settings as the operation's model normalises them, or the field errors
    (paths like `settings.prompt`, `fallback.settings.model`) the UI highlights."""
    try:
        driver = registry.get(provider)
    except UnknownProvider:
        return None, [{"field": f"{prefix}provider", "message": f"unknown provider {provider!r}"}]
    if operation not in driver.operations:
        known = ", ".join(driver.operations)
        message = f"{provider} has no operation {operation!r} (it has: {known})"
        return None, [{"field": f"{prefix}operation", "message": message}]
    try:
        parsed = registry.parse_settings(provider, operation, settings)
    except ValidationError as error:
        return None, field_errors(error.errors(), prefix=f"{prefix}settings.")
    return parsed.model_dump(mode="json"), []


def checked_fallback(
    registry: ProviderRegistry, fallback: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, FieldErrors]:
    """The fallback configuration with its settings normalised, or its errors."""
    if not fallback:
        return None, []
    settings, errors = provider_errors(
        registry,
        fallback["provider"],
        fallback["operation"],
        fallback.get("settings") or {},
        "fallback.",
    )
    return {**fallback, "settings": settings}, errors


def template_errors(
    repository: TemplateMediaRepository,
    slot_id: str,
    chosen: Mapping[TemplateRole, str | None],
) -> FieldErrors:
    """A slot may name only live templates uploaded for it, under their own role."""
    errors: FieldErrors = []
    for role, template_id in chosen.items():
        if template_id is None:
            continue
        row = repository.get(template_id)
        if row is None:
            message = f"no template media {template_id!r}"
        elif row.owner_slot_id != slot_id:
            message = f"template media {template_id!r} was uploaded for another slot"
        elif row.role != role:
            message = f"template media {template_id!r} has role {row.role!r}"
        else:
            continue
        errors.append({"field": f"template_media.{role}", "message": message})
    return errors


class SlotService:
    def __init__(self, database: Database, registry: ProviderRegistry, config: Settings) -> None:
        self._database = database
        self._registry = registry
        self._base = config.public_base_url

    def ingest_url(self, slot_id: str) -> str:
        return f"{self._base}/api/ingest/{slot_id}"

    async def list_slots(self) -> SlotList:
        """Every slot with its last job and what it spent today (UTC), in the
        price table's currency."""

        def read(connection: Connection) -> tuple[list[Row[Any]], dict[str, int], str | None]:
            slots = SlotRepository(connection)
            rows = slots.overview()
            spent = slots.spent_since([row.id for row in rows], utc_midnight(utcnow()))
            return rows, spent, SettingRepository(connection).price_currency()

        rows, spent, currency = await self._database.read(read)
        summaries = []
        for row in rows:
            micros = spent.get(row.id, 0)
            reached = budget_reached(row.daily_budget, micros)
            values = row._asdict()
            degraded_reason = values.pop("last_job_degraded_reason")
            status = values["last_job_status"]
            summaries.append(
                SlotSummary(
                    **values,
                    last_job_outcome=None
                    if status is None
                    else outcome_of(status, degraded_reason),
                    ingest_url=self.ingest_url(row.id),
                    spent_today=micros_to_amount(micros),
                    budget_reached=reached,
                )
            )
        return SlotList(
            currency=currency or self._registry.default_prices().currency,
            spent_today=micros_to_amount(sum(spent.values())),
            slots=summaries,
        )

    async def detail(self, slot_id: str) -> SlotDetail:
        return await self._database.read(lambda c: self._detail(c, slot_id))

    async def audit(self, slot_id: str) -> SlotAudit:
        def read(connection: Connection) -> SlotAudit:
            if SlotRepository(connection).get(slot_id) is None:
                raise SlotNotFound(f"no slot {slot_id[:40]!r}")
            entries = AuditRepository(connection).for_target(slot_id)
            return SlotAudit(entries=[AuditRecord(**entry) for entry in entries])

        return await self._database.read(read)

    async def update(self, slot_id: str, change: SlotUpdate, actor: str) -> SlotDetail:
        """Validate, save with version + 1, bind template media by role and record
        the audit entry: one transaction."""

        def save(connection: Connection) -> SlotDetail:
            slots = SlotRepository(connection)
            templates = TemplateMediaRepository(connection)
            current = slots.get_full(slot_id, for_update=True)
            if current is None:
                raise SlotNotFound(f"no slot {slot_id[:40]!r}")
            if change.version is not None and change.version != current.version:
                raise SlotVersionConflict(
                    f"{slot_id} is at version {current.version}, not {change.version}: "
                    "someone saved it meanwhile; reload it"
                )
            before = self._audit_view(current, templates.bound_to(slot_id))
            values = self._checked(slot_id, current, change, templates)
            values.update(updated_at=utcnow(), updated_by=actor)
            if not slots.save(slot_id, current.version, values):
                raise SlotVersionConflict(f"{slot_id} was saved by someone else meanwhile")
            for role, template_id in change.template_media.items():
                if template_id is None:
                    templates.unbind(slot_id, role)
                elif not templates.bind(slot_id, role, template_id):
                    message = f"template media {template_id!r} was deleted meanwhile"
                    field = f"template_media.{role}"
                    raise ValidationFailed(message, [{"field": field, "message": message}])
            saved = slots.get_full(slot_id)
            assert saved is not None
            AuditRepository(connection).record(
                actor=actor,
                action="slot.update",
                target=slot_id,
                before=before,
                after=self._audit_view(saved, templates.bound_to(slot_id)),
            )
            return self._detail(connection, slot_id)

        return await self._database.write(save)

    def _checked(
        self,
        slot_id: str,
        current: Row[Any],
        change: SlotUpdate,
        templates: TemplateMediaRepository,
    ) -> dict[str, Any]:
        """The slot's new configuration columns: the current ones with the change's
        given fields over them, settings normalised; 422 naming every bad field."""
        given = change.model_fields_set
        values = {name: getattr(current, name) for name in CONFIG_FIELDS}
        values.update({name: getattr(change, name) for name in CONFIG_FIELDS if name in given})
        errors = [
            {"field": name, "message": "must not be null"}
            for name in CONFIG_FIELDS
            if values[name] is None and name not in NULLABLE_FIELDS
        ]
        if errors:
            raise ValidationFailed(f"{slot_id} was not saved: fix the fields named", errors)
        if isinstance(values["fallback"], FallbackConfig):
            values["fallback"] = values["fallback"].model_dump()
        values["settings"], errors = provider_errors(
            self._registry, values["provider"], values["operation"], values["settings"] or {}
        )
        values["fallback"], fallback_errors = checked_fallback(self._registry, values["fallback"])
        errors += fallback_errors
        errors += template_errors(templates, slot_id, change.template_media)
        if errors:
            raise ValidationFailed(f"{slot_id} was not saved: fix the fields named", errors)
        return values

    async def override(self, slot_id: str, raw: str | None) -> SlotOverride:
        """A test run's `slot_payload` (JSON) checked like a save would check it,
        over the stored slot; 422 with the same field paths as `PUT`."""
        if raw is None or not raw.strip():
            return SlotOverride()
        try:
            payload = SlotPayload.model_validate(json.loads(raw))
        except json.JSONDecodeError as error:
            message = f"not JSON: {error.msg}"
            raise ValidationFailed(
                "slot_payload is not valid", [{"field": "slot_payload", "message": message}]
            ) from None
        except ValidationError as error:
            errors = [
                {**problem, "field": problem["field"] or "slot_payload"}
                for problem in field_errors(error.errors())
            ]
            raise ValidationFailed("slot_payload is not valid", errors) from None

        def check(connection: Connection) -> SlotOverride:
            slot = SlotRepository(connection).get(slot_id)
            if slot is None:
                raise SlotNotFound(f"no slot {slot_id[:40]!r}")
            settings, errors = provider_errors(
                self._registry,
                payload.provider or slot.provider,
                payload.operation or slot.operation,
                slot.settings if payload.settings is None else payload.settings,
            )
            raw_fallback = payload.fallback.model_dump() if payload.fallback else None
            fallback, fallback_errors = checked_fallback(self._registry, raw_fallback)
            errors += fallback_errors
            repository = TemplateMediaRepository(connection)
            errors += template_errors(repository, slot_id, payload.template_media)
            if errors:
                raise ValidationFailed("slot_payload is not valid", errors)
            return SlotOverride(
                provider=payload.provider,
                operation=payload.operation,
                settings=settings,
                fallback=fallback,
                replaces_fallback="fallback" in payload.model_fields_set,
                on_failure=payload.on_failure,
                max_input_megapixels=payload.max_input_megapixels,
                keep_metadata=payload.keep_metadata,
                templates={str(role): id_ for role, id_ in payload.template_media.items()},
            )

        return await self._database.read(check)

    def _detail(self, connection: Connection, slot_id: str) -> SlotDetail:
        slot = SlotRepository(connection).get_full(slot_id)
        if slot is None:
            raise SlotNotFound(f"no slot {slot_id[:40]!r}")
        templates = TemplateMediaRepository(connection).bound_to(slot_id)
        results = SlotRepository(connection).recent_results(slot_id, utcnow())
        return SlotDetail(
            **{name: getattr(slot, name) for name in CONFIG_FIELDS},
            id=slot.id,
            version=slot.version,
            updated_at=slot.updated_at,
            updated_by=slot.updated_by,
            ingest_url=self.ingest_url(slot.id),
            template_media=[template_info(row) for row in templates],
            recent_results=[self._recent(row) for row in results],
        )

    def _recent(self, job: Row[Any]) -> RecentResult:
        return RecentResult(
            job_id=job.id,
            started_at=job.started_at,
            finished_at=job.finished_at,
            status=job.status,
            source=job.source,
            mime=job.result_mime,
            public_url=result_url(job.id, self._base),
            preview_url=preview_url(job.id, self._base),
            expires_at=job.result_expires_at,
        )

    @staticmethod
    def _audit_view(slot: Row[Any], templates: list[Row[Any]]) -> dict[str, Any]:
        view: dict[str, Any] = {name: getattr(slot, name) for name in CONFIG_FIELDS}
        view["version"] = slot.version
        view["template_media"] = {row.role: row.id for row in templates}
        return view
