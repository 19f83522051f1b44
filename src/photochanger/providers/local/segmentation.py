"""Finding the people in a photo, for the `local` provider's `background_replace`.

The model is MediaPipe's selfie segmentation, which ships inside the `mediapipe`
wheel (`mediapipe/modules/selfie_segmentation/*.tflite`): nothing is downloaded,
ever. It is run through the Tasks `ImageSegmenter` API, which gives a confidence
mask (0..1, person = 1).

Of the two models in the wheel, the general one (256×256 input) is used, over
overlapping square tiles. Measured with the full refinement on test photos built
from real photos of people pasted onto real busy backgrounds (garage, launch pad,
café, cat; single people, groups of three), each also as a dark, noisy version,
against the cut-out masks they were assembled from (mean IoU, worst photo, photos
where a person was mostly lost — IoU under 0.5):

    8 landscape photos (3:2 to 9:5)   general, tiled: 0.91 (worst 0.78), none lost
                                      general, whole: 0.68 (0.35), 4 lost
                                      landscape:      0.67 (0.00), 4 lost
    40 portrait photos (2:3, 3:4)     general, tiled: 0.92 (0.79), none lost
                                      general, whole: 0.90 (0.67)
                                      landscape:      0.88 (0.57)

The model was trained on selfies: one person filling a square-ish frame. A group
photo squeezed into 256×256 loses small and off-centre people, so a photo whose
long side is more than 1.15 times its short side is covered with overlapping
square tiles along the long side (one more than strictly needed, so everyone is
well inside some tile), blended with ramps where they overlap. The landscape
model (144×256) takes about 3 ms a call against 4 ms, but lost whole people; it can
still be chosen (`model="landscape"`) and then sees the photo whole.

Dark photos: the model misses people in an underexposed room, so its input (only)
gets its levels stretched and, when the median is in the darkest fifth, a lift.
On the 48 dark versions that took the mean IoU from 0.83 (two photos with a person
lost) to 0.91, and left the normal photos unchanged.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import queue
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import cv2
import numpy
import numpy.typing as npt
import structlog

Model = Literal["general", "landscape"]
Mask = npt.NDArray[numpy.float32]
"""An (H, W) float32 array, 0..1."""

log = structlog.get_logger("photochanger.providers.local")

MODEL_FILES: dict[str, str] = {
    "general": "selfie_segmentation.tflite",
    "landscape": "selfie_segmentation_landscape.tflite",
}
# (width, height) of each model's input tensor.
MODEL_INPUT_SIZE: dict[str, tuple[int, int]] = {"general": (256, 256), "landscape": (256, 144)}

# A photo up to this much longer than wide (or wide than long) is one tile.
_SQUARE_ENOUGH = 1.15
# The share of a tile's width over which it fades in where tiles overlap.
_TILE_RAMP = 0.25
# Lift the model's input when its median is below this fraction of the range.
_DARK_MEDIAN = 0.2


class ModelNotInstalled(RuntimeError):
    """The segmentation model is not where the mediapipe wheel puts it."""


class _ImageSegmenter(Protocol):
    """The part of mediapipe's `ImageSegmenter` used here."""

    def segment(self, image: Any) -> Any: ...

    def close(self) -> None: ...


def model_path(model: Model = "general") -> Path:
    """The .tflite file inside the installed mediapipe package. Found without
    importing mediapipe (which takes most of a second)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalled("mediapipe is not installed; install photochanger's dependencies")
    package = Path(next(iter(spec.submodule_search_locations)))
    path = package / "modules" / "selfie_segmentation" / MODEL_FILES[model]
    if not path.is_file():
        raise ModelNotInstalled(
            f"the segmentation model {path} is missing; reinstall mediapipe==0.10.21 "
            "(the model ships inside its wheel and is never downloaded)"
        )
    return path


class PersonSegmenter:
    """A small pool of segmentation models shared by worker threads.

    `start()` loads `pool_size` models (each with a warm-up call, so the first
    guest does not pay for lazy initialisation); `person_mask()` borrows one for
    the duration of a call, so at most `pool_size` photos are segmented at once
    and a model is never used by two threads at the same time."""

    def __init__(self, *, pool_size: int = 1, model: Model = "general") -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.model: Model = model
        self.pool_size = pool_size
        self._input_size = MODEL_INPUT_SIZE[model]
        self._pool: queue.Queue[_ImageSegmenter] = queue.Queue()
        self._all: list[_ImageSegmenter] = []
        self._lock = threading.Lock()
        self._image_class: Any = None
        self._image_format: Any = None

    def start(self) -> None:
        """Load the models. Blocking (about a second, most of it importing
        mediapipe): call it from a worker thread."""
        path = model_path(self.model)
        with self._lock:
            if self._all:
                return
            # mediapipe 0.10.21 uses protobuf's deprecated MessageFactory; that
            # warning is about mediapipe's code, not ours.
            with _native_logs_captured() as native_lines, warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message=".*MessageFactory.*", category=UserWarning
                )
                segmenters = self._create(path)
            for segmenter in segmenters:
                self._all.append(segmenter)
                self._pool.put(segmenter)
        for line in native_lines:
            if not _is_known_noise(line):
                log.warning("mediapipe_message", message=line[:500])
        log.info("segmenter_started", model=self.model, pool_size=self.pool_size)

    def _create(self, path: Path) -> list[_ImageSegmenter]:
        # mediapipe ships no type information: its objects are Any here, typed at
        # the boundary by `_ImageSegmenter`.
        import mediapipe
        from mediapipe.tasks.python import BaseOptions, vision

        self._image_class = mediapipe.Image
        self._image_format = mediapipe.ImageFormat.SRGB
        options = vision.ImageSegmenterOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            output_confidence_masks=True,
            output_category_mask=False,
        )
        width, height = self._input_size
        warm_up = numpy.zeros((height, width, 3), dtype=numpy.uint8)
        segmenters: list[_ImageSegmenter] = []
        for _ in range(self.pool_size):
            segmenter = cast(_ImageSegmenter, vision.ImageSegmenter.create_from_options(options))
            segmenters.append(segmenter)
            self._segment(segmenter, warm_up)
        return segmenters

    def close(self) -> None:
        with self._lock:
            for segmenter in self._all:
                segmenter.close()
            self._all.clear()
            self._pool = queue.Queue()

    def person_mask(self, rgb: npt.NDArray[numpy.uint8]) -> Mask:
        """The people in an (H, W, 3) RGB photo, as a confidence mask of the same
        height and width (float32, 0..1, person = 1).

        Pass a working copy of about a megapixel, not the full photo: the model
        sees each tile at 256×256 anyway, and the mask comes back at the size it
        was given (upscaled smoothly from the model's output, not refined: see
        `mask_refinement.refine_mask`). Thread-safe."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != numpy.uint8:
            raise ValueError("expected an (H, W, 3) uint8 RGB array")
        height, width = rgb.shape[:2]
        tone = _exposure_curve(rgb)
        if self.model != "general":
            # The landscape model's input is 16:9; it sees the photo whole.
            with self._borrowed() as segmenter:
                mask = self._segment(segmenter, self._model_input(rgb, tone))
            return _resized(mask, width, height)
        # Tiles are blended at the model's scale (the short side 256 pixels), and
        # the blend is upscaled once.
        scale = self._input_size[1] / min(width, height)
        blend_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        total = numpy.zeros(blend_size[::-1], dtype=numpy.float32)
        weights = numpy.zeros(blend_size[::-1], dtype=numpy.float32)
        with self._borrowed() as segmenter:
            for x, y, tile_width, tile_height in square_tiles(width, height):
                tile = rgb[y : y + tile_height, x : x + tile_width]
                mask = self._segment(segmenter, self._model_input(tile, tone))
                left, top = round(x * scale), round(y * scale)
                right = min(blend_size[0], round((x + tile_width) * scale))
                bottom = min(blend_size[1], round((y + tile_height) * scale))
                mask = _resized(mask, right - left, bottom - top)
                ramp = _tile_weight(right - left, bottom - top, horizontal=width >= height)
                total[top:bottom, left:right] += mask * ramp
                weights[top:bottom, left:right] += ramp
        blend = numpy.clip(total / weights, 0.0, 1.0)
        return _resized(blend, width, height)

    def _model_input(
        self, rgb: npt.NDArray[numpy.uint8], tone: npt.NDArray[numpy.uint8] | None
    ) -> npt.NDArray[numpy.uint8]:
        model_input = cv2.resize(rgb, self._input_size, interpolation=cv2.INTER_AREA)
        if tone is not None:
            model_input = cv2.LUT(model_input, tone)
        return cast(npt.NDArray[numpy.uint8], model_input)

    @contextlib.contextmanager
    def _borrowed(self) -> Iterator[_ImageSegmenter]:
        if not self._all:
            raise RuntimeError("PersonSegmenter.start() was not called")
        segmenter = self._pool.get()
        try:
            yield segmenter
        finally:
            self._pool.put(segmenter)

    def _segment(self, segmenter: _ImageSegmenter, rgb: npt.NDArray[numpy.uint8]) -> Mask:
        image = self._image_class(
            image_format=self._image_format, data=numpy.ascontiguousarray(rgb)
        )
        result = segmenter.segment(image)
        # The view points into mediapipe's buffer, which the result owns: copy.
        return numpy.array(result.confidence_masks[0].numpy_view(), dtype=numpy.float32)


def _resized(mask: Mask, width: int, height: int) -> Mask:
    if mask.shape == (height, width):
        return mask
    return cast(Mask, cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR))


def square_tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of the overlapping squares that cover a photo along
    its long side; a nearly square photo is one tile."""
    long_side, short_side = max(width, height), min(width, height)
    if long_side <= short_side * _SQUARE_ENOUGH:
        return [(0, 0, width, height)]
    count = math.ceil(long_side / short_side) + 1
    starts = [round(i * (long_side - short_side) / (count - 1)) for i in range(count)]
    if width >= height:
        return [(start, 0, short_side, short_side) for start in starts]
    return [(0, start, short_side, short_side) for start in starts]


def _tile_weight(width: int, height: int, *, horizontal: bool) -> Mask:
    """1 in the middle of a tile, ramping down towards the two edges that
    neighbouring tiles overlap (never to 0, so a photo's own edges keep weight)."""
    length = width if horizontal else height
    position = numpy.arange(length, dtype=numpy.float32)
    distance = numpy.minimum(position + 1, length - position)
    ramp = numpy.minimum(distance / (_TILE_RAMP * length), 1.0).astype(numpy.float32)
    shaped = ramp[None, :] if horizontal else ramp[:, None]
    return cast(Mask, numpy.broadcast_to(shaped, (height, width)))


def _exposure_curve(rgb: npt.NDArray[numpy.uint8]) -> npt.NDArray[numpy.uint8] | None:
    """A tone curve for the model's eyes only (the result keeps the photo's own
    pixels): levels stretched to the photo's range (0.5 % clipped at each end),
    and a dark photo lifted so its median is no lower than a fifth of the range.
    None when that changes nothing worth a look-up."""
    grey = cv2.cvtColor(numpy.ascontiguousarray(rgb[::2, ::2]), cv2.COLOR_RGB2GRAY)
    histogram = numpy.bincount(grey.ravel(), minlength=256).cumsum()
    total = histogram[-1]
    black = min(int(numpy.searchsorted(histogram, total * 0.005)), 48)
    median = int(numpy.searchsorted(histogram, total * 0.5))
    white = max(int(numpy.searchsorted(histogram, total * 0.995)), black + 64)
    level = max((median - black) / (white - black), 1e-3)
    gamma = 1.0
    if level < _DARK_MEDIAN:
        gamma = min(max(math.log(_DARK_MEDIAN) / math.log(level), 0.4), 1.0)
    if black <= 2 and white >= 253 and gamma == 1.0:
        return None
    ramp = numpy.clip((numpy.arange(256, dtype=numpy.float32) - black) / (white - black), 0, 1)
    return (ramp**gamma * 255 + 0.5).astype(numpy.uint8)


# -- mediapipe's native log lines --------------------------------------------------

# What mediapipe 0.10.21 prints on every start on a machine without a GPU: INFO and
# WARNING lines from absl and TFLite, before absl logging is initialised, straight
# to file descriptor 2. Measured: GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL and
# ABSL_MIN_LOG_LEVEL do not silence them in this build, so they are caught at the
# descriptor while the models load; anything else printed then is logged.
_KNOWN_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called",
    "INFO: Created TensorFlow Lite XNNPACK delegate",
    "GPU suport is not available",
    "GPU support is not available",
    "Feedback manager requires a model with a single signature",
)


def _is_known_noise(line: str) -> bool:
    stripped = line.strip()
    return not stripped or any(noise in stripped for noise in _KNOWN_NOISE)


@contextlib.contextmanager
def _native_logs_captured() -> Iterator[list[str]]:
    """Redirect file descriptor 2 to a temporary file for the duration; the list
    yielded is filled with the captured lines on exit. Whatever other threads
    print meanwhile is captured too, and logged by the caller, not lost."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())
