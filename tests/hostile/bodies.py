"""A booth's multipart body as parts, so hostile variants are made by changing
a part, its headers or the boundary rather than by writing bytes by hand."""

from __future__ import annotations

from dataclasses import dataclass, replace

from support import INGEST_PASSWORD, booth_fields

BOUNDARY = b"----DSLRRemoteProBoundary7Hq2"
CRLF = b"\r\n"


@dataclass(frozen=True)
class Part:
    name: bytes
    content: bytes
    filename: bytes | None = None
    content_type: bytes | None = None
    extra_headers: tuple[bytes, ...] = ()

    def head(self) -> bytes:
        disposition = b'Content-Disposition: form-data; name="' + self.name + b'"'
        if self.filename is not None:
            disposition += b'; filename="' + self.filename + b'"'
        lines = [disposition, *self.extra_headers]
        if self.content_type is not None:
            lines.append(b"Content-Type: " + self.content_type)
        return CRLF.join(lines) + CRLF + CRLF


def photo_part(data: bytes, filename: bytes = b"IMG_0001.JPG", **changes: object) -> Part:
    part = Part(b"fileToUpload", data, filename, b"image/jpeg")
    return replace(part, **changes)  # type: ignore[arg-type]


def booth_parts(photo: bytes, *, password: str = INGEST_PASSWORD) -> list[Part]:
    """What DSLR Remote Pro sends: its text fields, then the photo."""
    fields = [Part(k.encode(), v.encode()) for k, v in booth_fields(password=password).items()]
    return [*fields, photo_part(photo)]


def assemble(parts: list[Part], boundary: bytes = BOUNDARY, *, closed: bool = True) -> bytes:
    """The body: each part after a boundary line, then the closing boundary."""
    body = b"".join(b"--" + boundary + CRLF + part.head() + part.content + CRLF for part in parts)
    return body + (b"--" + boundary + b"--" + CRLF if closed else b"")


def content_type(boundary: bytes = BOUNDARY) -> str:
    return "multipart/form-data; boundary=" + boundary.decode("latin-1")


def booth_body(photo: bytes) -> bytes:
    return assemble(booth_parts(photo))
