"""What SPEC §10's photo handling costs, against a baseline doing the same
essential work with Pillow in the same run (ratios; this machine drifts).

- clean: `media.metadata.without_metadata` on a 12 MP camera JPEG with EXIF
  (GPS, serial) and orientation 1, against Pillow decoding and re-encoding it
  without metadata (the only way Pillow drops metadata).
- upright: the same photo with orientation 6 (it must be turned and re-encoded),
  against Pillow's exif_transpose + save at the same quality.
- for remote: `media.downscale.for_remote` to 4 MP, against Pillow's own
  `thumbnail` with the same Lanczos filter (draft + reducing gap), then
  exif_transpose + save at quality 92.
- result check: `without_metadata` on a clean 5 MB JPEG (every ingest's result
  goes through it), against reading the same bytes into a new buffer.

Prints median milliseconds and ratios; exits 0 (a report, not a test).

    .venv/bin/python bench/photo_prep.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageOps

from photochanger.media.downscale import for_remote
from photochanger.media.metadata import without_metadata

TARGET_MEGAPIXELS = 4.0


def camera_jpeg(orientation: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A photo-like 12 MP JPEG (gradients + sensor noise) with camera EXIF."""
    width, height = size
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = np.concatenate(
        [np.broadcast_to(x * 200 + 30, (height, width, 1)),
         np.broadcast_to(y * 180 + 40, (height, width, 1)),
         np.broadcast_to((1 - x) * 160 + 50, (height, width, 1))],
        axis=2,
    )  # fmt: skip
    noisy = np.clip(base + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0xA431] = "SERIAL-0001"
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 21.0)}
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def pillow_reencode(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95)
        return out.getvalue()


def pillow_upright(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        turned = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        turned.save(out, "JPEG", quality=95)
        return out.getvalue()


def pillow_thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        scale = (TARGET_MEGAPIXELS * 1e6 / (image.width * image.height)) ** 0.5
        size = (int(image.width * scale), int(image.height * scale))
        image.thumbnail(size, Image.Resampling.LANCZOS)
        turned = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        turned.save(out, "JPEG", quality=92)
        return out.getvalue()


def median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    repeats = parser.parse_args().repeats
    upright_photo, sideways_photo = camera_jpeg(1), camera_jpeg(6)
    clean_5mb = pillow_reencode(upright_photo)
    sizes = f"{len(upright_photo) / 1e6:.1f} MB; clean result: {len(clean_5mb) / 1e6:.1f} MB"
    print(f"12 MP JPEG: {sizes}")
    cases = [
        ("clean (orientation 1)", lambda: without_metadata(upright_photo),
         "Pillow re-encode", lambda: pillow_reencode(upright_photo)),
        ("upright (orientation 6)", lambda: without_metadata(sideways_photo),
         "Pillow exif_transpose + save", lambda: pillow_upright(sideways_photo)),
        ("for remote, 4 MP", lambda: for_remote(sideways_photo, TARGET_MEGAPIXELS),
         "Pillow thumbnail + transpose + save", lambda: pillow_thumbnail(sideways_photo)),
        ("result check (clean file)", lambda: without_metadata(clean_5mb),
         "copy of the bytes", lambda: bytearray(clean_5mb)),
    ]  # fmt: skip
    print(f"{'case':28} {'ours ms':>9} {'baseline':36} {'base ms':>9} {'ours/base':>9}")
    for name, ours, base_name, base in cases:
        ours_ms, base_ms = median_ms(ours, repeats), median_ms(base, repeats)
        print(f"{name:28} {ours_ms:9.1f} {base_name:36} {base_ms:9.1f} {ours_ms / base_ms:9.2f}")


if __name__ == "__main__":
    main()
