"""The provider chain of one job (SPEC §3.5): the slot's provider, retried on
transient failures while the window allows, then its fallback configuration in
what is left of the window. Every attempt is recorded for the job."""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog
from pydantic import ValidationError

from photochanger.config import Settings
from photochanger.deadline import Deadline
from photochanger.errors import (
    BudgetSpent,
    InternalError,
    PhotoChangerError,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
)
from photochanger.ingest.remote_inputs import RemoteInputs
from photochanger.media.metadata import UnreadablePhoto
from photochanger.providers.base import (
    JobContext,
    OperationSettings,
    ProviderDriver,
    ProviderError,
    ProviderNotConfigured,
    ProviderResult,
    ProviderTimeout,
)
from photochanger.providers.http import provider_text
from photochanger.providers.pricing import PriceTable, Usage
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings.provider_keys import api_key_for
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots.repository import SlotConfig

log = structlog.get_logger("photochanger.providers")

MAX_ATTEMPTS_PER_STEP = 3
"""A provider is tried at most this often for one job (the first call + 2 retries)."""
BACKOFF_SECONDS = 0.5
"""First pause before a retry; doubled each time, with ±50 % jitter."""
MIN_ATTEMPT_SECONDS = 4.0
"""A retry starts only when at least this much of the window is left after its
pause: a call that cannot finish is money spent for nothing."""
FALLBACK_RESERVE_SECONDS = 6.0
"""With a fallback configured, the primary must give up this long before the
deadline, so the fallback has a window of its own."""


class StepRole(enum.StrEnum):
    primary = "primary"
    """The slot's own provider configuration."""
    fallback = "fallback"
    """The slot's second configuration, run when the primary fails."""


class AttemptOutcome(enum.StrEnum):
    """How one provider call ended, as `job.attempts` records it."""

    ok = "ok"
    transient = "transient"
    """A failure worth retrying (a 5xx, a dropped connection)."""
    permanent = "permanent"
    timeout = "timeout"
    not_configured = "not_configured"
    crash = "crash"
    """The driver raised something it should not have: our bug, not the provider's."""
    skipped = "skipped"
    """Not called: the slot's daily budget is spent (`reason` `budget`)."""


RETRIED_OUTCOMES = frozenset({AttemptOutcome.transient, AttemptOutcome.timeout})


@dataclass(frozen=True)
class ProviderStep:
    """One provider configuration in the chain: the slot's own, or its fallback."""

    role: StepRole
    driver: ProviderDriver
    operation: str
    settings: OperationSettings
    api_key: str | None

    @property
    def provider(self) -> str:
        return self.driver.name


@dataclass
class Attempt:
    """One provider call, as recorded on the job (`job.attempts`)."""

    provider: str
    operation: str
    role: StepRole
    started_ms: int
    duration_ms: int = 0
    outcome: AttemptOutcome = AttemptOutcome.ok
    reason: str | None = None
    error: str | None = None
    response_id: str | None = None
    usage: dict[str, Any] | None = None
    """What the call was billed for (`Usage.as_record`)."""
    cost_micros: int | None = None
    """Its estimated cost; 0 for a provider that is not remote, None when its
    model has no price."""

    def as_record(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def job_cost(attempts: Sequence[Attempt]) -> int | None:
    """The job's estimated cost: its calls' costs added; None when none is known."""
    costs = [attempt.cost_micros for attempt in attempts if attempt.cost_micros is not None]
    return sum(costs) if costs else None


@dataclass
class ChainOutcome:
    result: ProviderResult
    produced_by: str
    attempts: list[Attempt]
    degraded_reason: str | None = None
    """Why the answer is not the slot's provider's edit (SPEC §10), if it is not."""
    details: str | None = None
    """What went wrong, for a degraded answer."""


def chain_steps(
    slot: SlotConfig,
    runtime: RuntimeSettings,
    registry: ProviderRegistry,
    config: Settings,
) -> list[ProviderStep]:
    """The slot's provider configuration, then its fallback (SPEC §3.5). A
    primary that cannot run is a 503; a broken fallback is logged and skipped."""

    def step(
        role: StepRole, provider: str, operation: str, settings: dict[str, Any]
    ) -> ProviderStep:
        driver = registry.get(provider)
        return ProviderStep(
            role=role,
            driver=driver,
            operation=operation,
            settings=registry.parse_settings(provider, operation, settings),
            api_key=api_key_for(driver, runtime, config),
        )

    try:
        steps = [step(StepRole.primary, slot.provider, slot.operation, slot.settings)]
    except (UnknownProvider, UnknownOperation):
        raise ServiceUnavailable(
            f"provider {slot.provider!r} is not available for {slot.id}"
        ) from None
    except ValidationError:
        raise ServiceUnavailable(f"{slot.id} has invalid provider settings") from None
    if slot.fallback:
        fallback = slot.fallback
        try:
            steps.append(
                step(
                    StepRole.fallback,
                    str(fallback.get("provider")),
                    str(fallback.get("operation")),
                    fallback.get("settings") or {},
                )
            )
        except (UnknownProvider, UnknownOperation, ValidationError):
            log.warning("fallback_unusable", slot_id=slot.id)
    return steps


class ProviderChain:
    """Runs the steps in order under one deadline. Keys are scrubbed from every
    recorded message, whatever a provider echoed back.

    A remote step gets the photo and templates from `remote_inputs` (downscaled,
    upright, without metadata); with `skip_remote` (the slot's budget is spent)
    it is not called at all. Every call's usage is priced by `prices`."""

    def __init__(
        self,
        steps: Sequence[ProviderStep],
        *,
        prices: PriceTable,
        remote_inputs: RemoteInputs | None = None,
        skip_remote: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        assert steps
        self._steps = list(steps)
        self._prices = prices
        self._remote_inputs = remote_inputs
        self._skip_remote = skip_remote
        self._sleep = sleep
        self._jitter = jitter

    async def run(self, ctx: JobContext, attempts: list[Attempt]) -> ChainOutcome:
        """The first result of the chain; when every step failed, the §3.2 error
        the client gets. Every call is appended to `attempts` as it ends, so the
        caller can record them whatever happens next."""
        deadline = ctx.deadline
        last: Attempt | None = None
        for index, step in enumerate(self._steps):
            has_next = index + 1 < len(self._steps)
            budget = deadline.shortened(FALLBACK_RESERVE_SECONDS) if has_next else deadline
            step_ctx = replace(
                ctx,
                operation=step.operation,
                settings=step.settings,
                api_key=step.api_key,
                deadline=budget,
            )
            if self._skip_remote and step.driver.remote:
                last = Attempt(
                    provider=step.provider,
                    operation=step.operation,
                    role=step.role,
                    started_ms=max(0, deadline.elapsed_ms()),
                    outcome=AttemptOutcome.skipped,
                    reason="budget",
                    error="the slot's daily budget is spent",
                )
                attempts.append(last)
                continue
            for number in range(1, MAX_ATTEMPTS_PER_STEP + 1):
                result, last = await self._attempt(step, step_ctx)
                attempts.append(last)
                if result is not None:
                    return ChainOutcome(result, step.provider, attempts)
                if last.outcome not in RETRIED_OUTCOMES or number == MAX_ATTEMPTS_PER_STEP:
                    break
                pause = BACKOFF_SECONDS * 2 ** (number - 1) * (0.5 + self._jitter())
                if budget.remaining() - pause < MIN_ATTEMPT_SECONDS:
                    break
                await self._sleep(pause)
            assert last is not None
            if has_next and deadline.remaining() > 0:
                log.warning(
                    "provider_fallback",
                    failed=step.provider,
                    fallback=self._steps[index + 1].provider,
                    outcome=last.outcome,
                )
        assert last is not None
        raise self._client_error(last, attempts, deadline)

    async def _attempt(
        self, step: ProviderStep, ctx: JobContext
    ) -> tuple[ProviderResult | None, Attempt]:
        deadline = ctx.deadline
        attempt = Attempt(
            provider=step.provider,
            operation=step.operation,
            role=step.role,
            started_ms=max(0, deadline.elapsed_ms()),
        )
        started = time.monotonic()
        result: ProviderResult | None = None
        usage: Usage | None = None
        try:
            async with asyncio.timeout(deadline.remaining()):
                if step.driver.remote and self._remote_inputs is not None:
                    ctx = await self._remote_inputs.applied_to(ctx)
                result = await step.driver.edit(ctx)
            attempt.response_id, usage = result.response_id, result.usage
        except (TimeoutError, ProviderTimeout) as exc:
            attempt.outcome = AttemptOutcome.timeout
            attempt.error = "no answer within the window"
            if isinstance(exc, ProviderTimeout):
                attempt.error, attempt.response_id = exc.message, exc.response_id
        except ProviderError as exc:
            attempt.outcome = (
                AttemptOutcome.not_configured
                if isinstance(exc, ProviderNotConfigured)
                else AttemptOutcome.transient
                if exc.retryable
                else AttemptOutcome.permanent
            )
            attempt.error = provider_text(exc.message, secret=step.api_key)
            attempt.reason = exc.reason
            attempt.response_id = exc.response_id
            usage = exc.usage
        except UnreadablePhoto as exc:
            attempt.outcome = AttemptOutcome.permanent
            attempt.reason = "input_undecodable"
            attempt.error = f"the photo could not be prepared for {step.provider}: {exc}"
        except PhotoChangerError:
            raise  # our own side failed (the media store publishing an input): its 503
        except Exception:
            log.exception("provider_crashed", provider=step.provider)
            attempt.outcome = AttemptOutcome.crash
            attempt.error = "the provider failed unexpectedly"
        attempt.duration_ms = int((time.monotonic() - started) * 1000)
        if usage is not None:
            attempt.usage = usage.as_record()
            attempt.cost_micros = self._prices.cost_micros(step.provider, usage)
            if attempt.cost_micros is None:
                log.warning("provider_model_not_priced", provider=step.provider, model=usage.model)
        elif not step.driver.remote:
            attempt.cost_micros = 0
        if attempt.outcome != AttemptOutcome.ok:
            log.warning(
                "provider_attempt_failed",
                provider=step.provider,
                operation=step.operation,
                outcome=attempt.outcome,
                reason=attempt.reason,
                error=attempt.error,
                response_id=attempt.response_id,
            )
        return result, attempt

    @staticmethod
    def _client_error(
        last: Attempt, attempts: Sequence[Attempt], deadline: Deadline
    ) -> PhotoChangerError:
        """The §3.2 answer for a chain whose every step failed, judged by the last."""
        if last.outcome == AttemptOutcome.timeout:
            return ProviderTimedOut(f"no result within the {deadline.window_seconds:.0f} s window")
        if last.outcome == AttemptOutcome.skipped:
            return BudgetSpent("the slot's daily budget is spent; its paid provider was not called")
        if all(attempt.outcome == AttemptOutcome.not_configured for attempt in attempts):
            return ServiceUnavailable(last.error or "the provider is not configured")
        if last.outcome == AttemptOutcome.crash:
            return InternalError("the provider failed unexpectedly")
        return ProviderFailed(last.error or "the provider returned no usable image")
