"""The driver shape every provider implements (SPEC §4.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

from photochanger.config import Settings
from photochanger.deadline import Deadline
from photochanger.providers.pricing import ModelPrice, Usage


class OperationSettings(BaseModel):
    """Base of every operation's settings model: unknown keys are an error, so a
    typo in a slot's settings is a 422, not a silently ignored option."""

    model_config = ConfigDict(extra="forbid")


def ru(
    title: str,
    description: str,
    enum: Mapping[str, str] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
) -> JsonDict:
    """A settings field's `json_schema_extra`: its Russian title, help and enum
    labels (`x-i18n.ru`), and English enum labels (`x-enum-labels`) where the raw
    values say too little. Each provider keeps its texts in its own module; the
    admin form shows `x-i18n[lang]`, falling back to the English."""
    texts: JsonDict = {"title": title, "description": description}
    if enum:
        enum_texts: JsonDict = dict(enum)
        texts["enum"] = enum_texts
    extra: JsonDict = {"x-i18n": {"ru": texts}}
    if labels:
        english: JsonDict = dict(labels)
        extra["x-enum-labels"] = english
    return extra


@dataclass(frozen=True)
class Operation:
    """One thing a driver can do, with the model that validates its settings."""

    name: str
    title: str
    settings_model: type[OperationSettings]
    template_roles: tuple[str, ...] = ()
    """The roles of the slot's template images the operation reads, in the order
    it sends them (values of `template_media.schemas.TEMPLATE_ROLES`, spelled
    here as strings because providers sit below the features); the slot page
    offers a drop zone for each."""
    title_i18n: Mapping[str, str] = field(default_factory=dict)
    """`title` in other languages: language code → title (`{"ru": "…"}`)."""

    @property
    def uses_templates(self) -> bool:
        """Whether the slot's template images are read and handed to the driver."""
        return bool(self.template_roles)


@dataclass(frozen=True)
class InputImage:
    """The booth's photo: either still in memory (small) or spooled to a file."""

    mime: str
    size: int
    data: bytes | None = None
    path: Path | None = None

    def read_bytes(self) -> bytes:
        """The whole image; call it from a worker thread when it may be on disk."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


@dataclass(frozen=True)
class TemplateImage:
    role: str
    mime: str
    data: bytes


class InputPublisher(Protocol):
    """Publishes an input image at an unguessable public URL, for providers that
    fetch their inputs by URL (Turbotext, SPEC §4.5). The URL answers until the
    job's deadline, then 410; the pipeline owns the files and their cleanup."""

    async def __call__(self, data: bytes, mime: str) -> str:
        """Store `data` and return its absolute URL under `PUBLIC_BASE_URL`."""
        ...


@dataclass(frozen=True)
class JobContext:
    """Everything a driver may use. A driver never touches the database, the media
    store or the request."""

    job_id: str
    slot_id: str
    operation: str
    settings: OperationSettings
    image: InputImage
    deadline: Deadline
    templates: Sequence[TemplateImage] = ()
    api_key: str | None = None
    """The provider's key, read for this call (env or settings, SPEC §4.6); None
    when none is configured. Never logged."""
    publish: InputPublisher | None = None


@dataclass(frozen=True)
class ProviderResult:
    """The edited image: bytes in memory, or a file the store copies from."""

    mime: str
    data: bytes | None = None
    path: Path | None = None
    response_id: str | None = None
    usage: Usage | None = None
    """What the call used, as billed; None for a provider that bills nothing."""


class ProviderError(Exception):
    """Base of the typed errors a driver may raise; `message` is safe to record."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        response_id: str | None = None,
        reason: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response_id = response_id
        self.reason = reason
        """The provider's own short reason (`NO_IMAGE`, `moderation_blocked`, an
        HTTP status), for statistics; `message` is the text to record."""
        self.usage = usage
        """What a failed call was still billed for (Gemini's 200 without an image)."""


class ProviderTimeout(ProviderError):
    retryable = True


class ProviderTransientError(ProviderError):
    retryable = True


class ProviderPermanentError(ProviderError):
    pass


class ProviderNotConfigured(ProviderError):
    pass


CHECK_PROMPT = "Turn the background into a plain light-blue studio backdrop."
"""The edit `provider-check` asks of a provider that takes a prompt."""


@dataclass(frozen=True)
class CheckRequest:
    """The cheapest useful request `photochanger provider-check` sends: an
    operation and its settings, validated by the operation's model."""

    operation: str
    settings: Mapping[str, Any]


class ProviderDriver(Protocol):
    """A provider, declared by its class: adding one is its module plus a line in
    `registry.PROVIDERS`. `edit` returns the image or raises a `ProviderError`;
    it must give up by `ctx.deadline` (the pipeline also cancels it then)."""

    name: str
    """What slots name it by; its environment variables are derived from it
    (`PHOTOCHANGER_<NAME>_API_KEY`, `PHOTOCHANGER_<NAME>_BASE_URL`)."""
    title: str
    title_i18n: Mapping[str, str]
    """`title` in other languages: language code → title (`{"ru": "…"}`)."""
    operations: Mapping[str, Operation]
    takes_api_key: bool
    """Whether calls need a key: `PHOTOCHANGER_<NAME>_API_KEY`, or one saved on the
    settings page (which wins). The settings page lists a key for each such provider."""
    default_base_url: str | None
    """Where its API lives unless `PHOTOCHANGER_<NAME>_BASE_URL` says otherwise;
    None for a provider with no service to reach (`local`)."""
    check: CheckRequest | None
    """What `provider-check` sends; None when it cannot be checked."""
    remote: bool
    """Whether the photo leaves this machine for a paid service. A remote
    provider gets the photo and templates downscaled to the slot's
    `max_input_megapixels`, upright and without metadata; a slot's daily budget
    stops it. `local` works on the photo as uploaded and costs nothing."""
    prices: Mapping[str, ModelPrice]
    """List prices of its models (model → price, in USD), the price table's
    defaults; the model of a provider that bills per call is its operation."""

    @classmethod
    def from_config(cls, config: Settings) -> Self:
        """The driver this configuration asks for (not started)."""
        ...

    async def edit(self, ctx: JobContext) -> ProviderResult: ...

    async def start(self) -> None:
        """Load models, open clients; called once in the app lifespan."""

    async def close(self) -> None: ...


def configured_base_url(config: Settings, name: str, default: str | None) -> str:
    """A driver's base URL: `PHOTOCHANGER_<NAME>_BASE_URL`, else its default (a
    driver that reaches a service declares one)."""
    if default is None:
        raise TypeError(f"provider {name!r} declares no default_base_url")
    return config.provider_base_url(name, default)
