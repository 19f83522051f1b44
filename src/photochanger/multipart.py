"""Streaming multipart parsing for every upload (the booth's ingest, the admin's
test run, template images): limits enforced while reading, the photo spooled to
disk past a small threshold, hashed on the way through.

FastAPI's `UploadFile` would read the whole body before our code runs; here the
request stream is fed chunk by chunk to python-multipart's push parser. The
routes that read their body this way describe it to OpenAPI with
`multipart_request_body`, since FastAPI cannot see it in their signature.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from photochanger.config import MB
from photochanger.errors import InvalidRequest, PayloadTooLarge
from photochanger.media.image_type import SNIFF_BYTES, sniff_image_mime
from photochanger.photo_memory import ByteBudget

FILE_FIELD = "fileToUpload"
PASSWORD_FIELD = "password"  # noqa: S105 - a field name
HASH_FIELD = "hash"

SPOOL_MEMORY_BYTES = 256 * 1024
"""Without a memory budget, uploads up to this size stay in memory; larger ones go
to a temp file."""
BUDGETED_MEMORY_BYTES = 4 * 1024 * 1024
"""With a budget (the server's), an upload up to this size stays in memory while
the budget has room for it."""
MULTIPART_OVERHEAD_BYTES = 256 * 1024
"""Body bytes allowed beyond the file limit for boundaries and text fields."""
MAX_TEXT_FIELD_BYTES = 1024
"""Booth metadata is kept, bounded: longer values are cut, not refused."""
MAX_TEXT_FIELDS = 32
MAX_PARTS = 1000
"""A booth sends a dozen parts. Each part costs parser callbacks whatever its
size, so a body of empty parts made the most work per byte: 20 MB of them kept
a core busy for 8 s. Past this many the body is refused."""


@dataclass
class SpooledFile:
    """The photo as it arrived: in memory while small, then in a temp file.

    With a `budget`, the bytes kept in memory are reserved from it, chunk by
    chunk, and given back by `discard()`; when it has no room the photo goes to
    disk at once."""

    spool_dir: Path
    budget: ByteBudget | None = None
    memory_limit: int = BUDGETED_MEMORY_BYTES
    """With a budget: the most of this photo kept in memory (0 when the request's
    length already says it will not fit, so none of it is buffered first)."""
    size: int = 0
    head: bytes = b""
    sha1: hashlib._Hash = field(default_factory=lambda: hashlib.sha1(usedforsecurity=False))
    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    buffer: bytearray | None = field(default_factory=bytearray)
    path: Path | None = None
    _data: bytes | None = None
    _reserved: int = 0
    _file: IO[bytes] | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if len(self.head) < SNIFF_BYTES:
            self.head = (self.head + chunk)[:SNIFF_BYTES]
        self.sha1.update(chunk)
        self.sha256.update(chunk)
        if self.buffer is not None:
            if self._keep_in_memory(len(chunk)):
                self.buffer += chunk
                return
            self.path = self.spool_dir / f"upload-{secrets.token_hex(12)}"
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = os.fdopen(fd, "wb")
            self._file.write(self.buffer)  # no copy of what was held
            self.buffer = None
            self._give_back()
        assert self._file is not None
        self._file.write(chunk)

    def _keep_in_memory(self, more: int) -> bool:
        assert self.buffer is not None
        if self.budget is None:
            return len(self.buffer) + more <= SPOOL_MEMORY_BYTES
        if len(self.buffer) + more > self.memory_limit or not self.budget.take(more):
            return False
        self._reserved += more
        return True

    def _give_back(self) -> None:
        if self.budget is not None and self._reserved:
            self.budget.release(self._reserved)
        self._reserved = 0

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.buffer is not None:
            # One copy, here, rather than one for every reader of `data`.
            self._data, self.buffer = bytes(self.buffer), None

    @property
    def data(self) -> bytes | None:
        """The photo's bytes when it stayed in memory (after `finish()`)."""
        return self._data

    @property
    def contents(self) -> bytes | Path:
        """The bytes while in memory, else the temp file (after `finish()`)."""
        if self._data is not None:
            return self._data
        assert self.path is not None
        return self.path

    @property
    def mime(self) -> str | None:
        return sniff_image_mime(self.head)

    def discard(self) -> None:
        """Remove the temp file, if any, and give back the memory; safe to call
        more than once."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
        self.buffer = None
        self._data = None
        self._give_back()


@dataclass
class UploadForm:
    """The parsed body: the photo, the booth's own fields, the other text fields."""

    password: str | None = None
    client_hash: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    file: SpooledFile | None = None
    file_content_type: str | None = None
    file_name: str | None = None
    file_field: str = FILE_FIELD
    long_fields: dict[str, str] = field(default_factory=dict)
    """Text fields read whole under their own limit (the test run's `slot_payload`),
    not kept as booth metadata."""


class _FormBuilder:
    """Turns python-multipart's callbacks into an `UploadForm`."""

    def __init__(
        self,
        file_limit: int,
        spool_dir: Path,
        declared_length: int | None,
        file_field: str,
        long_fields: Mapping[str, int],
        budget: ByteBudget | None,
    ) -> None:
        self.form = UploadForm(file_field=file_field)
        self._budget = budget
        self._long_fields = long_fields
        self._file_limit = file_limit
        self._spool_dir = spool_dir
        self._declared_length = declared_length
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._target: SpooledFile | bytearray | None = None
        self._name = ""
        self._parts = 0

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidRequest(f"the body has more than {MAX_PARTS} parts")
        self._headers = {}
        self._target = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).strip().lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == self.form.file_field and self.form.file is not None:
            # Which of two photos the booth meant is a guess, and a check that
            # read the other one (a proxy's, a scanner's) would be fooled.
            raise InvalidRequest(f"more than one {self._name!r} part")
        if self._name == self.form.file_field:
            memory_limit = BUDGETED_MEMORY_BYTES
            if self._declared_length and self._declared_length > (
                BUDGETED_MEMORY_BYTES + MULTIPART_OVERHEAD_BYTES
            ):
                memory_limit = 0
            self.form.file = SpooledFile(self._spool_dir, self._budget, memory_limit)
            content_type = self._headers.get(b"content-type", b"").decode("latin-1")
            self.form.file_content_type = content_type[:100] or None
            filename = params.get(b"filename", b"").decode("utf-8", "replace")
            self.form.file_name = _storable(filename[:255]) or None
            self._target = self.form.file
        elif b"filename" in params:
            self._target = None  # another file part: read past it, keep nothing
        else:
            self._target = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        target = self._target
        if isinstance(target, SpooledFile):
            if target.size + (end - start) > self._file_limit:
                raise PayloadTooLarge(self.too_large_details())
            target.write(data[start:end])
        elif isinstance(target, bytearray) and self._name in self._long_fields:
            # Cutting a JSON document would only make a confusing 422 later.
            if len(target) + (end - start) > self._long_fields[self._name]:
                limit_kib = self._long_fields[self._name] // 1024
                raise PayloadTooLarge(f"field {self._name!r} is over {limit_kib} KiB")
            target += data[start:end]
        elif isinstance(target, bytearray) and len(target) < MAX_TEXT_FIELD_BYTES:
            target += data[start : min(end, start + MAX_TEXT_FIELD_BYTES - len(target))]

    def on_part_end(self) -> None:
        target = self._target
        if isinstance(target, SpooledFile):
            target.finish()
        elif isinstance(target, bytearray):
            value = target.decode("utf-8", "replace")
            if self._name in self._long_fields:
                self.form.long_fields[self._name] = value
            elif self._name == PASSWORD_FIELD:
                self.form.password = value
            elif self._name == HASH_FIELD:
                self.form.client_hash = _storable(value.strip()[:128])
            elif len(self.form.metadata) < MAX_TEXT_FIELDS:
                self.form.metadata[_storable(self._name[:64])] = _storable(value)
        self._target = None

    def too_large_details(self) -> str:
        limit_mb = self._file_limit / MB
        if self._declared_length:
            size = f"about {self._declared_length / MB:.1f} MB"
        else:
            size = f"more than {limit_mb:.1f} MB"
        return f"file is {size}; the limit is {limit_mb:.1f} MB"

    def body_too_large_details(self, body_limit: int) -> str:
        """The body went past the file limit and the multipart allowance: the
        photo's own size says which one is to blame."""
        photo = self.form.file
        if photo is not None and photo.size > self._file_limit - MULTIPART_OVERHEAD_BYTES:
            return self.too_large_details()
        return (
            f"the request is more than {body_limit / MB:.1f} MB; "
            f"the limit is {self._file_limit / MB:.1f} MB for the file and "
            f"{MULTIPART_OVERHEAD_BYTES // 1024} KiB for the other fields"
        )


def _storable(text: str) -> str:
    """Text a client sent, as it can be kept: PostgreSQL stores no NUL
    character in text or JSON (it refused the whole job, tests/hostile)."""
    return text.replace("\x00", "\ufffd")


def boundary_of(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise InvalidRequest("expected a multipart/form-data body")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise InvalidRequest("multipart body without a valid boundary")
    return boundary


def declared_length(content_length: str | None) -> int | None:
    """The body's length as its `Content-Length` header declares it (None when absent)."""
    if content_length is None:
        return None
    # Digits only: int() would also take a sign, spaces, underscores and other
    # scripts' digits, none of which a Content-Length may have (RFC 9110 §8.6).
    if not (content_length.isascii() and content_length.isdigit()):
        raise InvalidRequest("invalid Content-Length")
    try:
        return int(content_length)
    except ValueError:  # past Python's 4300 digits
        raise InvalidRequest("invalid Content-Length") from None


def check_declared_length(declared_length: int | None, file_limit: int) -> None:
    """SPEC §3.1: a Content-Length already over the cap is refused before reading."""
    if declared_length is not None and declared_length > file_limit + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge(
            f"request is {declared_length / MB:.1f} MB; the limit is {file_limit / MB:.1f} MB"
        )


async def parse_upload_form(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    *,
    declared_length: int | None,
    file_limit: int,
    spool_dir: Path,
    file_field: str = FILE_FIELD,
    long_fields: Mapping[str, int] | None = None,
    budget: ByteBudget | None = None,
) -> UploadForm:
    """Read the whole multipart body into an `UploadForm`.

    The image arrives in the part named `file_field` (the booth's `fileToUpload`,
    the test run's `test_image`, a template's `file`); `long_fields` names text
    fields kept whole up to their byte limit (they must fit the body's overhead
    allowance); `budget` lets a photo stay in memory up to 4 MiB while it has
    room (else past 256 KiB it goes to a temp file). Raises `InvalidRequest`
    for a body that is not well-formed multipart and `PayloadTooLarge` as soon as
    the photo (or the body) passes its limit. On any error the spooled file is
    removed (and its memory given back) before the error leaves this function.
    """
    boundary = boundary_of(content_type)
    check_declared_length(declared_length, file_limit)
    builder = _FormBuilder(
        file_limit, spool_dir, declared_length, file_field, long_fields or {}, budget
    )
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": builder.on_part_begin,
            "on_part_data": builder.on_part_data,
            "on_part_end": builder.on_part_end,
            "on_header_field": builder.on_header_field,
            "on_header_value": builder.on_header_value,
            "on_header_end": builder.on_header_end,
            "on_headers_finished": builder.on_headers_finished,
        },
    )
    body_limit = file_limit + MULTIPART_OVERHEAD_BYTES
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > body_limit:
                raise PayloadTooLarge(builder.body_too_large_details(body_limit))
            if chunk:
                parser.write(chunk)
        if parser.state != MultipartState.END:
            raise InvalidRequest("the multipart body ended early")
    except MultipartParseError:
        _discard(builder.form)
        raise InvalidRequest("the multipart body is malformed") from None
    except BaseException:
        _discard(builder.form)
        raise
    return builder.form


def _discard(form: UploadForm) -> None:
    if form.file is not None:
        form.file.discard()


BINARY_PART: dict[str, object] = {"type": "string", "format": "binary"}
"""The OpenAPI schema of a file part."""


def multipart_request_body(
    properties: dict[str, dict[str, object]],
    *,
    required: list[str],
    other_fields: dict[str, object] | None = None,
) -> dict[str, object]:
    """The `openapi_extra` of a route that parses its own multipart body: the
    parts it reads (`other_fields` is the schema of any further text field)."""
    schema: dict[str, object] = {"type": "object", "required": required, "properties": properties}
    if other_fields is not None:
        schema["additionalProperties"] = other_fields
    content = {"multipart/form-data": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}
