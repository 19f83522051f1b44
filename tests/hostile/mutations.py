"""Hypothesis strategies for hostile bodies: a valid booth body, mutated. Parts
dropped, duplicated, swapped, renamed, their headers garbled, the boundary
written into their content, the photo cut or swapped for other bytes; then
the assembled bytes cut, spliced with random bytes, the boundary garbled; and
now and then a Content-Type that names another boundary or none."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import strategies as st

from hostile import samples
from hostile.bodies import BOUNDARY, CRLF, Part, assemble, booth_parts, content_type


@dataclass(frozen=True)
class HostileRequest:
    body: bytes
    content_type: str

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"HostileRequest({self.content_type!r}, {len(self.body)} bytes: {self.body[:400]!r})"


_PHOTOS = st.sampled_from(
    [
        samples.photo,
        lambda: samples.other_format("PNG"),
        lambda: samples.other_format("WEBP"),
        lambda: samples.other_format("GIF"),
        samples.polyglot_jpeg,
        samples.looping_exif_jpeg,
        lambda: samples.SVG,
        lambda: samples.HEIC,
    ]
).map(lambda make: make())

_AFTER_BOUNDARY = st.sampled_from([b"", b"--", CRLF, b"--" + CRLF, b" \t" + CRLF, b"x"])
_HEADER_LINES = st.lists(
    st.one_of(
        st.binary(max_size=60),
        st.sampled_from(
            [
                b"Content-Type: multipart/mixed; boundary=inner",
                b"Content-Disposition: form-data; name=password",
                b'Content-Disposition: form-data; name="fileToUpload"; filename="x.jpg"',
                b"Content-Transfer-Encoding: base64",
                b"X-Long: " + b"v" * 5000,
            ]
        ),
    ),
    max_size=3,
)


_FIELD_VALUES = st.one_of(
    st.binary(max_size=200),
    # The lengths of a SHA-1 and a SHA-256 in hex, in any characters: `hash` is read by length.
    st.sampled_from([40, 64]).flatmap(lambda n: st.text(min_size=n, max_size=n)).map(str.encode),
)


@st.composite
def _photo_bytes(draw: st.DrawFn) -> bytes:
    data = draw(_PHOTOS)
    how = draw(st.sampled_from(["as is", "cut", "spliced", "random"]))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "spliced":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if how == "random":
        return draw(st.binary(max_size=512))
    return data


@st.composite
def _edit_parts(draw: st.DrawFn, parts: list[Part]) -> list[Part]:
    if not parts:
        return [Part(b"fileToUpload", draw(_photo_bytes()), b"a.jpg")]
    index = draw(st.integers(0, len(parts) - 1))
    part = parts[index]
    edit = draw(
        st.sampled_from(
            ["drop", "duplicate", "swap", "photo", "headers", "name", "boundary", "value", "hash"]
        )
    )
    edited = list(parts)
    if edit == "drop":
        del edited[index]
    elif edit == "duplicate":
        edited.insert(draw(st.integers(0, len(parts))), part)
    elif edit == "hash":
        edited.insert(index, Part(b"hash", draw(_FIELD_VALUES)))
    elif edit == "swap":
        other = draw(st.integers(0, len(parts) - 1))
        edited[index], edited[other] = edited[other], edited[index]
    elif edit == "photo":
        edited[-1] = replace(parts[-1], content=draw(_photo_bytes()))
    elif edit == "headers":
        edited[index] = replace(part, extra_headers=tuple(draw(_HEADER_LINES)))
    elif edit == "name":
        name = draw(st.one_of(st.binary(max_size=16), st.sampled_from([b"fileToUpload"])))
        edited[index] = replace(part, name=name)
    elif edit == "boundary":
        at = draw(st.integers(0, len(part.content)))
        inserted = CRLF + b"--" + BOUNDARY + draw(_AFTER_BOUNDARY)
        edited[index] = replace(part, content=part.content[:at] + inserted + part.content[at:])
    else:
        edited[index] = replace(part, content=draw(_FIELD_VALUES))
    return edited


@st.composite
def _edit_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    at = draw(st.integers(0, len(body)))
    edit = draw(st.sampled_from(["cut", "insert", "overwrite", "delete", "boundary"]))
    if edit == "cut":
        return body[:at]
    if edit == "insert":
        return body[:at] + draw(st.binary(min_size=1, max_size=64)) + body[at:]
    if edit == "overwrite":
        noise = draw(st.binary(min_size=1, max_size=64))
        return body[:at] + noise + body[at + len(noise) :]
    if edit == "delete":
        return body[:at] + body[at + draw(st.integers(1, 64)) :]
    # One delimiter with one byte of its boundary changed.
    starts = [n for n in range(len(body)) if body.startswith(b"--" + BOUNDARY, n)]
    if not starts:
        return body
    start = draw(st.sampled_from(starts)) + 2 + draw(st.integers(0, len(BOUNDARY) - 1))
    return body[:start] + bytes([draw(st.integers(0, 255))]) + body[start + 1 :]


_CONTENT_TYPES = st.sampled_from(
    [
        "multipart/form-data",
        content_type(b"another-boundary"),
        content_type(BOUNDARY[:-1]),
        f'multipart/form-data; boundary="{BOUNDARY.decode()}"',
        "multipart/form-data; boundary=" + BOUNDARY.decode() + "; charset=utf-8",
        "application/octet-stream",
    ]
)


@st.composite
def hostile_requests(draw: st.DrawFn) -> HostileRequest:
    parts = booth_parts(samples.photo())
    for _ in range(draw(st.integers(0, 3))):
        parts = draw(_edit_parts(parts))
    body = assemble(parts, closed=draw(st.integers(0, 9)) > 0)
    for _ in range(draw(st.integers(0, 2))):
        body = draw(_edit_bytes(body))
    kind = content_type()
    if draw(st.integers(0, 9)) == 0:
        kind = draw(_CONTENT_TYPES)
    return HostileRequest(body, kind)
