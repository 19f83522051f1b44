"""A sample photo for `photochanger demo`, from what is installed (nothing is
downloaded): matplotlib, a dependency of the segmentation package, ships a
portrait of Grace Hopper; without it, a figure drawn by code."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter


def installed_portrait() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(
        next(iter(spec.submodule_search_locations)), "mpl-data/sample_data/grace_hopper.jpg"
    )
    return path if path.is_file() else None


def sample_photo() -> bytes:
    """JPEG bytes of a person to send through a slot."""
    portrait = installed_portrait()
    return portrait.read_bytes() if portrait else drawn_figure()


def drawn_figure(width: int = 1600, height: int = 1067) -> bytes:
    """A figure in front of a window-lit wall: enough structure for every look."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), (70, 110, 160))
    image = Image.blend(image, tint, 0.6)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, width // 8):
        draw.rectangle([x + 20, 80, x + width // 10, height // 2], fill=(225, 220, 200))
    cx = width // 2
    draw.ellipse([cx - 330, height // 2, cx + 330, height + 300], fill=(150, 40, 50))
    draw.ellipse([cx - 150, height // 5, cx + 150, height // 5 + 380], fill=(236, 190, 160))
    draw.ellipse([cx - 165, height // 5 - 40, cx + 165, height // 5 + 140], fill=(70, 45, 30))
    for dx in (-60, 60):
        draw.ellipse([cx + dx - 18, height // 5 + 170, cx + dx + 18, height // 5 + 200], fill=40)
    draw.arc([cx - 70, height // 5 + 230, cx + 70, height // 5 + 320], 20, 160, fill=90, width=8)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
