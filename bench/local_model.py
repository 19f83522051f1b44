"""Speed and memory of the `local` provider's operations (not part of CI).

    .venv/bin/python bench/local_model.py             # 1.2, 6, 12 and 24 MP, about 2 minutes
    .venv/bin/python bench/local_model.py --help      # sizes, runs, JSON output

Each operation runs on JPEGs made from a real photo of a person (scikit-image's
astronaut, cropped to 3:2 and upscaled, with a little sensor grain so the files
are the size a camera writes, not the tiny files a smooth upscale gives). Every
(size, operation) pair runs in a fresh process pinned to one core (`taskset -c 0`,
or --core, when available) with OpenCV limited to one thread, so the time is one core's and
the peak RSS (VmHWM) is that operation's at that size. The time is the whole
operation as the driver calls it, bytes in, bytes out: decode → segment → refine
→ composite → encode; the median of --runs runs after one warm-up run. (For
"template" that warm-up also fills the one-entry cache of the fitted template, as
the first guest at a slot does; the table is the steady state after it.)

It prints one table and PASS/FAIL per target of the issue; it always exits 0 (a
report, not a test) unless a worker fails.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

OPERATIONS = ["studio", "template", "blur", "cartoon", "enhance"]
SIZES = [1.2, 6.0, 12.0, 24.0]
CORE = 0
MIB = 1024 * 1024
# The targets: background_replace end to end, and its memory at 24 MP.
REPLACE_TARGETS_S = {12.0: 0.5, 24.0: 1.0}
ENHANCE_TARGET_S = {12.0: 0.4}
RSS_TARGET_MIB = (24.0, 600)


@dataclass
class Result:
    operation: str
    megapixels: float
    width: int
    height: int
    jpeg_bytes: int
    median_s: float
    best_s: float
    rss_before_mib: float
    peak_rss_mib: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="megapixels")
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--core", type=int, default=CORE, help="the CPU core to pin workers to")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", nargs=4, metavar=("OP", "PHOTO", "TEMPLATE", "RUNS"))
    args = parser.parse_args()
    if args.worker:
        operation, photo, template, runs = args.worker
        print(json.dumps(asdict(_work(operation, Path(photo), Path(template), int(runs)))))
        return

    sizes = [float(s) for s in args.sizes.split(",")]
    operations = args.operations.split(",")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="pc-bench-local-") as scratch:
        for megapixels in sizes:
            photo, template = _make_inputs(Path(scratch), megapixels)
            for operation in operations:
                result = _run_worker(operation, photo, template, args.runs, args.core)
                results.append(result)
                print(
                    f"  {operation:<9} {megapixels:>5.1f} MP  {result.median_s * 1000:7.0f} ms"
                    f"  peak RSS {result.peak_rss_mib:5.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    _report(results, sizes, operations)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


# -- inputs ----------------------------------------------------------------------------


def _make_inputs(directory: Path, megapixels: float) -> tuple[Path, Path]:
    from skimage import data

    astronaut = np.asarray(data.astronaut())
    person = astronaut[:341]  # 512×341: 3:2, head and shoulders
    template = np.asarray(data.rocket())  # a real scene for the template mode
    height = round((megapixels * 1e6 / 1.5) ** 0.5)
    width = round(height * 1.5)
    photo_path = directory / f"photo-{megapixels}.jpg"
    template_path = directory / f"template-{megapixels}.jpg"
    _upscaled_jpeg(person, width, height, photo_path, seed=1)
    _upscaled_jpeg(template, width, height, template_path, seed=2)
    return photo_path, template_path


def _upscaled_jpeg(rgb: np.ndarray, width: int, height: int, path: Path, seed: int) -> None:
    import cv2

    big = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC)
    # Grain of a real sensor (sigma 2.5 of 255): without it a smooth upscale
    # compresses to a fraction of a camera file and decodes unrealistically fast.
    noise = np.random.default_rng(seed).normal(0, 2.5, big.shape).astype(np.float32)
    grainy = np.clip(big + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grainy).save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())


# -- one measurement in a fresh process ------------------------------------------------


def _run_worker(operation: str, photo: Path, template: Path, runs: int, core: int) -> Result:
    command = [sys.executable, __file__, "--worker", operation, str(photo), str(template)]
    command.append(str(runs))
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(core), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(f"worker {operation} {photo.name} failed:\n{completed.stderr[-3000:]}")
    return Result(**json.loads(completed.stdout.strip().splitlines()[-1]))


def _work(operation: str, photo_path: Path, template_path: Path, runs: int) -> Result:
    import cv2

    from photochanger.providers.local.background_replace import (
        BackgroundReplaceSettings,
        background_replace,
    )
    from photochanger.providers.local.enhance import EnhanceSettings, enhance
    from photochanger.providers.local.segmentation import PersonSegmenter
    from photochanger.providers.local.stylize import StylizeSettings, stylize

    cv2.setNumThreads(1)
    photo = photo_path.read_bytes()
    template = template_path.read_bytes()
    segmenter = PersonSegmenter(pool_size=1)
    segmenter.start()
    operations = {
        "studio": lambda: background_replace(
            photo, BackgroundReplaceSettings(background="studio"), segmenter
        ),
        "template": lambda: background_replace(
            photo, BackgroundReplaceSettings(background="template"), segmenter, template
        ),
        "blur": lambda: background_replace(
            photo, BackgroundReplaceSettings(background="blur"), segmenter
        ),
        "cartoon": lambda: stylize(photo, StylizeSettings(style="cartoon")),
        "enhance": lambda: enhance(photo, EnhanceSettings()),
    }
    run = operations[operation]
    rss_before = _status_mib("VmRSS")
    run()  # warm-up: first-call costs are not what a guest waits for
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    segmenter.close()
    with Image.open(photo_path) as image:
        width, height = image.size
    return Result(
        operation=operation,
        megapixels=round(width * height / 1e6, 1),
        width=width,
        height=height,
        jpeg_bytes=len(photo),
        median_s=statistics.median(times),
        best_s=min(times),
        rss_before_mib=rss_before,
        peak_rss_mib=_status_mib("VmHWM"),
    )


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MIB
    return float("nan")


# -- report ----------------------------------------------------------------------------


def _report(results: list[Result], sizes: list[float], operations: list[str]) -> None:
    by_key = {(r.operation, r.megapixels): r for r in results}
    actual = sorted({r.megapixels for r in results})
    print()
    print("Median end-to-end time per image (one core) / peak RSS of the process")
    header = f"{'operation':<22}" + "".join(f"{mp:>19.1f} MP" for mp in actual)
    print(header)
    print("-" * len(header))
    for operation in operations:
        cells = []
        for megapixels in actual:
            result = by_key.get((operation, megapixels))
            cells.append(
                f"{result.median_s * 1000:>8.0f} ms {result.peak_rss_mib:>5.0f} MiB"
                if result
                else f"{'-':>22}"
            )
        print(f"{_label(operation):<22}" + "".join(f"{cell:>22}" for cell in cells))
    sizes_line = ", ".join(
        f"{r.megapixels} MP {r.width}×{r.height} {r.jpeg_bytes / 1e6:.1f} MB"
        for r in results
        if r.operation == operations[0]
    )
    print(f"\nJPEGs: {sizes_line}")
    baseline = min((r.rss_before_mib for r in results), default=float("nan"))
    print(f"RSS after start-up (segmenter loaded), before the first photo: {baseline:.0f} MiB")
    print()
    for operation in ("studio", "template", "blur"):
        for megapixels, limit in REPLACE_TARGETS_S.items():
            _verdict(by_key, operation, megapixels, limit)
    for megapixels, limit in ENHANCE_TARGET_S.items():
        _verdict(by_key, "enhance", megapixels, limit)
    target_mp, limit_mib = RSS_TARGET_MIB
    for operation in ("studio", "template", "blur"):
        result = _closest(by_key, operation, target_mp)
        if result is not None:
            ok = result.peak_rss_mib < limit_mib
            print(
                f"{'PASS' if ok else 'FAIL'}  {_label(operation)} peak RSS at "
                f"{result.megapixels} MP: {result.peak_rss_mib:.0f} MiB (target < {limit_mib})"
            )


def _verdict(
    by_key: dict[tuple[str, float], Result], operation: str, megapixels: float, limit: float
) -> None:
    result = _closest(by_key, operation, megapixels)
    if result is None:
        return
    ok = result.median_s < limit
    print(
        f"{'PASS' if ok else 'FAIL'}  {_label(operation)} at {result.megapixels} MP: "
        f"{result.median_s:.3f} s (target < {limit} s)"
    )


def _closest(
    by_key: dict[tuple[str, float], Result], operation: str, megapixels: float
) -> Result | None:
    candidates = [
        r for (op, mp), r in by_key.items() if op == operation and abs(mp - megapixels) < 1
    ]
    return candidates[0] if candidates else None


def _label(operation: str) -> str:
    return {
        "studio": "replace: studio",
        "template": "replace: template",
        "blur": "replace: blur",
        "cartoon": "stylize: cartoon",
        "enhance": "enhance",
    }[operation]


if __name__ == "__main__":
    main()
