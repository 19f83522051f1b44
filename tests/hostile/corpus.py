"""The fixed corpus of hostile bodies, each named, with the answer SPEC §3.2
documents for it. Bodies are made by code when a case runs (`body()`), so the
corpus costs nothing to import and nothing in git.

These run in-process (httpx over ASGI): what they attack is the parser, the
validation and the image checks, which see the same bytes either way. What only
a socket can show (lengths that lie, chunked framing, 100-continue, oversized
request heads, a trickle) is in `wire_corpus.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from hostile import samples
from hostile.bodies import (
    BOUNDARY,
    CRLF,
    Part,
    assemble,
    booth_body,
    booth_parts,
    content_type,
    photo_part,
)

MB = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """What came back, however it was sent."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class HostileCase:
    name: str
    body: Callable[[], bytes]
    status: int
    failure_reason: str | None = None
    """None for a 200 (the edited photo)."""
    content_type: str | None = content_type()
    slot: str = "slot-001"
    check: Callable[[Answer], None] | None = None
    """More to assert on the answer than its status and shape."""


def _with_photo(photo: Callable[[], bytes], name: bytes = b"IMG_0001.JPG") -> Callable[[], bytes]:
    def body() -> bytes:
        parts = booth_parts(samples.photo())
        parts[-1] = photo_part(photo(), filename=name)
        return assemble(parts)

    return body


def _changed_photo_part(seed: int = 0, **changes: object) -> Callable[[], bytes]:
    def body() -> bytes:
        parts = booth_parts(samples.photo(seed))
        parts[-1] = replace(parts[-1], **changes)  # type: ignore[arg-type]
        return assemble(parts)

    return body


def _plus_parts(extra: Callable[[], list[Part]], seed: int = 0) -> Callable[[], bytes]:
    def body() -> bytes:
        parts = booth_parts(samples.photo(seed))
        return assemble([*parts[:-1], *extra(), parts[-1]])

    return body


def _boundary_inside_photo(after: bytes) -> Callable[[], bytes]:
    """The body's own delimiter in the middle of the photo, followed by `after`."""

    def photo() -> bytes:
        data = samples.photo()
        return data[:2000] + CRLF + b"--" + BOUNDARY + after + data[2000:]

    return _with_photo(photo)


def _boundary_in_a_comment() -> bytes:
    """The delimiter inside the photo, but not followed by a line end: photo
    bytes to the parser (RFC 2046), a comment segment to a JPEG decoder."""
    comment = CRLF + b"--" + BOUNDARY + b"_is_not_a_delimiter_here"
    return samples.with_segments(
        samples.photo(), [b"\xff\xfe\x00" + bytes([len(comment) + 2]) + comment]
    )


def _nested_multipart() -> bytes:
    inner_boundary = b"inner-boundary"
    inner = assemble([photo_part(samples.photo())], inner_boundary)
    mixed = b"multipart/mixed; boundary=" + inner_boundary
    parts = booth_parts(samples.photo())
    parts[-1] = Part(b"fileToUpload", inner, b"IMG.JPG", mixed)
    return assemble(parts)


def _answer_lacks(*secrets: bytes) -> Callable[[Answer], None]:
    def check(answer: Answer) -> None:
        assert answer.headers["content-type"] == "image/jpeg"
        for secret in secrets:
            assert secret not in answer.body, f"{secret[:20]!r} came back to the guest"

    return check


def _the_photo_came_back(seed: int) -> Callable[[Answer], None]:
    """The echo of the photo of `seed`: a photo of its own, so its job is
    admitted and its fields stored, not answered as a re-send."""

    def check(answer: Answer) -> None:
        assert answer.body == samples.photo(seed)
        assert "x-job-id" in answer.headers

    return check


def _cut(fraction: float) -> Callable[[], bytes]:
    def body() -> bytes:
        data = booth_body(samples.photo())
        return data[: int(len(data) * fraction)]

    return body


def _truncated(data: Callable[[], bytes], keep: float) -> Callable[[], bytes]:
    return lambda: data()[: int(len(data()) * keep)]


def _png() -> bytes:
    return samples.other_format("PNG")


OK = HostileCase("a_booths_own_body", lambda: booth_body(samples.photo()), 200)

BROKEN_FRAMING = [
    HostileCase("json_not_multipart", lambda: b'{"password": "x"}', 400, "invalid_request",
                content_type="application/json"),
    HostileCase("urlencoded_form",
                lambda: b"password=booth-secret&fileToUpload=%FF%D8%FF", 400, "invalid_request",
                content_type="application/x-www-form-urlencoded"),
    HostileCase("multipart_mixed_not_form_data", lambda: booth_body(samples.photo()), 400,
                "invalid_request", content_type="multipart/mixed; boundary=" + BOUNDARY.decode()),
    HostileCase("no_content_type", lambda: booth_body(samples.photo()), 400, "invalid_request",
                content_type=None),
    HostileCase("boundary_parameter_missing", lambda: booth_body(samples.photo()), 400,
                "invalid_request", content_type="multipart/form-data"),
    HostileCase("boundary_parameter_empty", lambda: booth_body(samples.photo()), 400,
                "invalid_request", content_type="multipart/form-data; boundary="),
    HostileCase("boundary_of_300_bytes",
                lambda: assemble(booth_parts(samples.photo()), b"b" * 300), 400,
                "invalid_request", content_type=content_type(b"b" * 300)),
    HostileCase("boundary_other_than_the_bodys", lambda: booth_body(samples.photo()), 400,
                "invalid_request", content_type=content_type(b"not-the-body-boundary")),
    HostileCase("no_boundary_in_body", samples.photo, 400, "invalid_request"),
    HostileCase("empty_body", lambda: b"", 400, "invalid_request"),
    HostileCase("no_closing_boundary",
                lambda: assemble(booth_parts(samples.photo()), closed=False), 400,
                "invalid_request"),
    HostileCase("cut_inside_the_photo", _cut(0.6), 400, "invalid_request"),
    HostileCase("cut_inside_the_part_headers",
                lambda: booth_body(samples.photo()).split(b"filename=")[0], 400,
                "invalid_request"),
    HostileCase("delimiters_with_one_dash",
                lambda: booth_body(samples.photo()).replace(b"--" + BOUNDARY, b"-" + BOUNDARY),
                400, "invalid_request"),
    HostileCase("delimiter_line_inside_the_photo", _boundary_inside_photo(CRLF), 400,
                "invalid_request"),
    HostileCase("part_header_without_a_colon",
                _changed_photo_part(extra_headers=(b"this is not a header",)), 400,
                "invalid_request"),
    HostileCase("nine_headers_in_a_part",
                _changed_photo_part(extra_headers=tuple(b"X-H%d: v" % n for n in range(9))), 400,
                "invalid_request"),
    HostileCase("field_name_of_a_megabyte",
                _plus_parts(lambda: [Part(b"n" * MB, b"value")]), 400, "invalid_request"),
    HostileCase("part_header_line_of_100_kb",
                _changed_photo_part(extra_headers=(b"X-Junk: " + b"j" * 100 * 1024,)), 400,
                "invalid_request"),
    HostileCase("filename_of_a_megabyte", _changed_photo_part(filename=b"f" * MB), 400,
                "invalid_request"),
    HostileCase("ten_thousand_fields",
                _plus_parts(lambda: [Part(b"f%d" % n, b"v") for n in range(10_000)]), 400,
                "invalid_request"),
    HostileCase("two_photo_parts",
                _plus_parts(lambda: [photo_part(samples.other_format("PNG"))]), 400,
                "invalid_request"),
    HostileCase("photo_part_named_in_another_case",
                _changed_photo_part(name=b"FileToUpload"), 400, "invalid_request"),
]  # fmt: skip

IMAGES = [
    HostileCase("decompression_bomb_30000x30000_png", _with_photo(samples.bomb_png, b"a.png"),
                413, "payload_too_large"),
    HostileCase("png_of_144_megapixels", _with_photo(lambda: samples.bomb_png(12_000)), 413,
                "payload_too_large"),
    HostileCase("png_with_a_50_mb_compressed_text_chunk", _with_photo(samples.ztxt_bomb_png),
                415, "unsupported_media_type"),
    HostileCase("jpeg_with_a_64_kb_exif_of_5000_tags", _with_photo(samples.huge_exif_jpeg), 200,
                check=_answer_lacks(b"GPS-SECRET", b"Exif\0\0")),
    HostileCase("jpeg_with_8_mb_of_exif_in_130_segments", _with_photo(samples.split_exif_jpeg),
                415, "unsupported_media_type"),
    HostileCase("jpeg_with_a_4_mb_depth_map", _with_photo(samples.depth_map_jpeg), 200,
                check=_answer_lacks(b"DEPTH-MAP-")),
    HostileCase("jpeg_of_5_million_empty_segments", _with_photo(samples.empty_segments_jpeg),
                415, "unsupported_media_type"),
    HostileCase("png_of_1_6_million_empty_chunks", _with_photo(samples.empty_chunks_png), 415,
                "unsupported_media_type"),
    HostileCase("jpeg_whose_exif_loops", _with_photo(samples.looping_exif_jpeg), 200,
                check=_answer_lacks(b"Exif\0\0")),
    HostileCase("jpeg_with_an_ascii_orientation", _with_photo(samples.odd_orientation_jpeg), 200,
                check=_answer_lacks(b"Exif\0\0")),
    HostileCase("polyglot_jpeg_with_html_and_script", _with_photo(samples.polyglot_jpeg), 200,
                check=_answer_lacks(samples.SCRIPT, b"<script")),
    HostileCase("gif_named_jpg", _with_photo(lambda: samples.other_format("GIF")), 415,
                "unsupported_media_type"),
    HostileCase("svg_named_jpg", _with_photo(lambda: samples.SVG), 415, "unsupported_media_type"),
    HostileCase("heic_named_jpg", _with_photo(lambda: samples.HEIC), 415,
                "unsupported_media_type"),
    HostileCase("bmp_named_jpg", _with_photo(lambda: samples.other_format("BMP")), 415,
                "unsupported_media_type"),
    HostileCase("tiff_named_jpg", _with_photo(lambda: samples.other_format("TIFF")), 415,
                "unsupported_media_type"),
    HostileCase("png_bytes_behind_a_jpeg_magic", _with_photo(lambda: b"\xff\xd8\xff" + _png()),
                415, "unsupported_media_type"),
    HostileCase("webp_riff_with_garbage", _with_photo(lambda: b"RIFF\xff\xff\xff\x7fWEBPVP8 junk"),
                415, "unsupported_media_type"),
    HostileCase("nested_multipart_as_the_photo", _nested_multipart, 415,
                "unsupported_media_type"),
    HostileCase("jpeg_cut_inside_its_header", _with_photo(_truncated(samples.photo, 0.02)), 415,
                "unsupported_media_type"),
    HostileCase("boundary_text_inside_a_jpeg_comment", _with_photo(_boundary_in_a_comment), 200,
                check=_answer_lacks(BOUNDARY)),
    HostileCase("closing_delimiter_inside_the_photo", _boundary_inside_photo(b"--" + CRLF), 502,
                "provider_error"),
    HostileCase("jpeg_cut_in_half", _with_photo(_truncated(samples.photo, 0.5)), 502,
                "provider_error"),
    HostileCase("png_cut_in_half", _with_photo(_truncated(_png, 0.5)), 502, "provider_error"),
]  # fmt: skip

FIELDS = [
    HostileCase("password_of_a_megabyte",
                lambda: assemble(booth_parts(samples.photo(), password="p" * MB)), 401,
                "invalid_password"),
    HostileCase("field_value_of_a_megabyte",
                _plus_parts(lambda: [Part(b"profile", b"v" * MB)], seed=1), 200,
                check=_the_photo_came_back(1)),
    HostileCase("filename_with_path_traversal",
                _changed_photo_part(2, filename=b"../../../../../../tmp/hostile.jpg"), 200,
                check=_the_photo_came_back(2)),
    HostileCase("photo_declared_text_html", _changed_photo_part(3, content_type=b"text/html"),
                200, check=_the_photo_came_back(3)),
    HostileCase("nul_characters_in_booth_fields",
                _plus_parts(lambda: [Part(b"na\0me", b"val\0ue"), Part(b"hash", b"\0" * 40)], 4),
                200, check=_the_photo_came_back(4)),
    HostileCase("hash_of_40_non_ascii_characters",
                _plus_parts(lambda: [Part(b"hash", "é".encode() * 40)], 6), 200,
                check=_the_photo_came_back(6)),
    HostileCase("unicode_field_names_and_values",
                _plus_parts(lambda: [Part("имя-😀".encode(), "значение\u202e".encode())], 5), 200,
                check=_the_photo_came_back(5)),
]  # fmt: skip

IN_PROCESS_CORPUS: list[HostileCase] = [OK, *BROKEN_FRAMING, *IMAGES, *FIELDS]
