"""How well `background_replace` finds the people in a photo (not part of CI).

    .venv/bin/python bench/local_iou.py                 # 48 photos, about a minute
    .venv/bin/python bench/local_iou.py --json out.json

What it measures: the intersection over union of the operation's final opacity mask
(thresholded at 0.5, upscaled to the photo) with the true outline of the people in
composed photos. Each photo is built from real photos of people — scikit-image's
astronaut and cameraman, matplotlib's Grace Hopper — cut out and pasted, alone or
three side by side, onto real scenes (scikit-image's launch pad, café, mirrored café,
cat, brick and grass), 3:2 and 9:5 landscapes and 2:3 and 3:4 portraits, each also as
a dark, noisy version: 48 photos in all, with a fixed random seed. Every image ships
inside an installed wheel (scikit-image is a dev dependency, matplotlib one of
mediapipe's): nothing is downloaded.

At the default size (3.8 to 6 MP) the operation's working copy is the photo halved;
`--scale 1.41` makes the photos 7.6 to 12 MP, shrunk by 3 as a 12 MP camera photo is.

The cut-outs (the ground truth) are made once per run from the people's source photos
by the segmenter and the mask refinement with the parameters below, frozen here so a
change to the operation's own parameters moves the prediction, not the truth. The
photo is then encoded as a JPEG at quality 92 and run through `background_replace`
with default settings; the mask is taken from its `_alpha` step (the working-copy
opacity), which this script wraps, so it must stay the step that returns it.

It prints the mean and worst IoU per group and overall, and how many photos lost a
person (IoU under 0.5). Last values: bench/README.md, "The `local` provider".
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from matplotlib import cbook
from PIL import Image
from skimage import data

from photochanger.providers.local import background_replace as operation
from photochanger.providers.local.mask_refinement import refine_mask
from photochanger.providers.local.segmentation import PersonSegmenter
from photochanger.providers.local.settings import BackgroundReplaceSettings

# The ground truth's mask refinement and threshold (as the operation had them on
# 2026-12-08): guided filter radius 1 % of the diagonal, eps 1e-3, confidence ramp
# 0.45..0.8, smoothstep, Gaussian feather sigma 1 px per megapixel, cut at 0.5.
_TRUTH_RADIUS, _TRUTH_EPS = 0.01, 1e-3
_TRUTH_LOW, _TRUTH_HIGH = 0.45, 0.8
_TRUTH_SOFTNESS = 1.0
_SEED = 7
_LOST = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every photo's IoU here")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="photo sides times this (1.41: 8-12 MP, a working copy shrunk by 3, not 2)",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    segmenter = PersonSegmenter(pool_size=1)
    segmenter.start()
    try:
        results = _measure(segmenter, args.scale)
    finally:
        segmenter.close()
    ious = np.array([iou for _, _, iou in results])
    for kind in ("landscape", "portrait"):
        for dark in (False, True):
            group = [iou for k, d, iou in results if k == kind and d == dark]
            print(
                f"{kind:9s} dark={dark!s:5s} n={len(group):2d} "
                f"mean IoU {np.mean(group):.4f} worst {np.min(group):.4f}"
            )
    print(
        f"ALL n={len(ious)} mean IoU {ious.mean():.4f} worst {ious.min():.4f} "
        f"lost {int((ious < _LOST).sum())}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def _measure(segmenter: PersonSegmenter, scale: float) -> list[tuple[str, bool, float]]:
    cutouts = [(person, _cutout(segmenter, person)) for person in _people()]
    scenes = _scenes()
    rng = np.random.default_rng(_SEED)
    cases: list[tuple[str, np.ndarray, list[tuple[np.ndarray, np.ndarray]], int, int]] = []
    for i in range(8):  # landscapes, 3:2 and 9:5: groups of three and singles
        width, height = _scaled([(3000, 2000), (3240, 1800)][i % 2], scale)
        people = [cutouts[(i + k) % 3] for k in range(3)] if i % 2 == 0 else [cutouts[i % 3]]
        cases.append(("landscape", scenes[i % len(scenes)], people, width, height))
    for i in range(16):  # portraits, 2:3 and 3:4: singles
        width, height = _scaled([(1600, 2400), (1800, 2400)][i % 2], scale)
        cases.append(("portrait", scenes[i % len(scenes)], [cutouts[i % 3]], width, height))

    captured: dict[str, np.ndarray] = {}
    _wrap_alpha(captured)
    results: list[tuple[str, bool, float]] = []
    for kind, scene, people, width, height in cases:
        photo, truth = _compose(scene, people, width, height, rng)
        for dark in (False, True):
            shown = photo
            if dark:
                noise = rng.normal(0, 4, photo.shape)
                shown = np.clip(photo.astype(np.float32) * 0.25 + noise, 0, 255).astype(np.uint8)
            operation.background_replace(_jpeg(shown), BackgroundReplaceSettings(), segmenter)
            predicted = _upscaled(captured["alpha"], width, height) > 0.5
            union = int((predicted | truth).sum())
            results.append((kind, dark, float((predicted & truth).sum() / max(1, union))))
    return results


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return round(size[0] * scale), round(size[1] * scale)


def _wrap_alpha(captured: dict[str, np.ndarray]) -> None:
    original: Callable[..., Any] = operation._alpha

    def alpha(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        captured["alpha"] = np.array(result, copy=True)
        return result

    operation._alpha = alpha  # type: ignore[attr-defined]


# -- the photos ------------------------------------------------------------------------


def _people() -> list[np.ndarray]:
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        hopper = np.asarray(image.convert("RGB"))
    astronaut = np.ascontiguousarray(data.astronaut())
    cameraman = np.ascontiguousarray(np.dstack([data.camera()] * 3))
    return [astronaut, hopper, cameraman]


def _scenes() -> list[np.ndarray]:
    return [
        data.rocket(),
        data.coffee(),
        data.chelsea(),
        np.dstack([data.brick()] * 3),
        np.ascontiguousarray(data.coffee()[:, ::-1]),
        np.dstack([data.grass()] * 3),
    ]


def _cutout(segmenter: PersonSegmenter, person: np.ndarray) -> np.ndarray:
    """The person's outline in their own photo, 0/1 (see `_TRUTH_*`)."""
    coarse = segmenter.person_mask(person)
    radius = max(2, round(_TRUTH_RADIUS * math.hypot(*person.shape[:2])))
    mask = refine_mask(person, coarse, radius=radius, eps=_TRUTH_EPS)
    ramp = np.clip((mask - _TRUTH_LOW) / (_TRUTH_HIGH - _TRUTH_LOW), 0, 1).astype(np.float32)
    alpha = ramp * ramp * (3 - 2 * ramp)
    sigma = _TRUTH_SOFTNESS * math.sqrt(person.shape[0] * person.shape[1] / 1e6)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    return (alpha > 0.5).astype(np.uint8)


def _compose(
    scene: np.ndarray,
    people: list[tuple[np.ndarray, np.ndarray]],
    width: int,
    height: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """People standing on the bottom edge of the scene (covering the frame), with a
    one-pixel soft edge and a little noise; and the true outline (boolean)."""
    image = _cover(scene, width, height).astype(np.float32)
    truth = np.zeros((height, width), np.uint8)
    count = len(people)
    for i, (person, mask) in enumerate(people):
        tall = rng.uniform(0.75, 0.95) if count == 1 else rng.uniform(0.6, 0.8)
        person_height = int(height * tall)
        person_width = int(person.shape[1] * person_height / person.shape[0])
        widest = int(width / count * 1.1) if count > 1 else int(width * 0.9)
        if person_width > widest:
            person_width = widest
            person_height = int(person.shape[0] * person_width / person.shape[1])
        size = (person_width, person_height)
        scaled = cv2.resize(person, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        outline = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
        soft = cv2.GaussianBlur(outline, (0, 0), 1.0)[..., None]
        centre = width * (i + 0.5) / count if count > 1 else width * rng.uniform(0.4, 0.6)
        left = int(np.clip(centre - person_width / 2, 0, width - person_width))
        top = height - person_height
        region = image[top:height, left : left + person_width]
        region[:] = region * (1 - soft) + scaled * soft
        placed = truth[top:height, left : left + person_width]
        np.maximum(placed, (outline > 0.5).astype(np.uint8), out=placed)
    noisy = image + rng.normal(0, 2.0, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8), truth > 0


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` scaled to cover width×height and cropped to it, centred."""
    source_height, source_width = image.shape[:2]
    scale = max(width / source_width, height / source_height)
    size = (max(width, round(source_width * scale)), max(height, round(source_height * scale)))
    big = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    top, left = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return np.ascontiguousarray(big[top : top + height, left : left + width])


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _upscaled(alpha: np.ndarray, width: int, height: int) -> np.ndarray:
    """The working-size opacity at the photo's size, as the compositor upscales it
    (bilinear by the integer factor, the last rows and columns repeated)."""
    factor = max(1, round(width / alpha.shape[1]))
    size = (alpha.shape[1] * factor, alpha.shape[0] * factor)
    up = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    bottom, right = height - up.shape[0], width - up.shape[1]
    return cv2.copyMakeBorder(up, 0, bottom, 0, right, cv2.BORDER_REPLICATE)


if __name__ == "__main__":
    sys.exit(main())
