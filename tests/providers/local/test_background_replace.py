"""The `local` provider's `background_replace`, on real photos of people that ship
inside installed packages: scikit-image's astronaut (Eileen Collins), matplotlib's
Grace Hopper and scikit-image's cameraman. The scenes are built from them honestly:
a group side by side, hair and a cap against a flag, a dark room, a person cut by
the frame. The assertions are properties of a good result, not pixels."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from pydantic import ValidationError
from skimage import data

from photochanger.providers.local.background_replace import (
    BackgroundReplaceSettings,
    background_replace,
)
from photochanger.providers.local.imaging import UndecodableImage
from photochanger.providers.local.new_background import _cover
from photochanger.providers.local.segmentation import PersonSegmenter
from support import decoded, encoded

Box = tuple[int, int, int, int]  # top, bottom, left, right

# In the 512×512 astronaut: inside her face, and the plain wall above the shuttle.
ASTRONAUT_FACE: Box = (80, 160, 180, 250)
ASTRONAUT_WALL: Box = (0, 60, 300, 420)
# In the 600×512 (height×width) Grace Hopper: her face, her cap, the flag, the sky.
HOPPER_FACE: Box = (220, 320, 200, 300)
HOPPER_CAP: Box = (40, 120, 200, 320)
HOPPER_FLAG: Box = (0, 150, 0, 80)
HOPPER_SKY: Box = (0, 150, 420, 512)
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXACT = {"color_match": 0.0}  # keep the guests' colours exactly, to compare them


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut())


def hopper() -> np.ndarray:
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        return np.asarray(image.convert("RGB"))


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    top, bottom, left, right = box
    return image[top:bottom, left:right].astype(np.float32)


def difference(first: np.ndarray, second: np.ndarray, box: Box) -> float:
    """Mean absolute difference over a box, in 0..255 levels."""
    return float(np.abs(crop(first, box) - crop(second, box)).mean())


def sharpness(image: np.ndarray, box: Box) -> float:
    grey = cv2.cvtColor(np.ascontiguousarray(crop(image, box).astype(np.uint8)), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


@pytest.fixture(scope="module")
def segmenter() -> Iterator[PersonSegmenter]:
    started = PersonSegmenter()
    started.start()
    yield started
    started.close()


def replaced(
    segmenter: PersonSegmenter, photo: np.ndarray, template: bytes | None = None, **settings: Any
) -> np.ndarray:
    result, mime = background_replace(
        encoded(photo), BackgroundReplaceSettings(**settings), segmenter, template
    )
    assert mime == "image/png"
    return decoded(result)


# -- settings --------------------------------------------------------------------------


def test_defaults_put_guests_on_the_studio_backdrop() -> None:
    settings = BackgroundReplaceSettings()
    assert settings.background == "studio"
    assert settings.refine_edges is True
    assert settings.jpeg_quality == 92
    assert 0 < settings.light_wrap < 0.5
    assert 0 < settings.color_match < 0.5


def test_every_field_has_a_title_and_description_for_the_admin_form() -> None:
    schema = BackgroundReplaceSettings.model_json_schema()
    assert schema["additionalProperties"] is False
    for name, field in schema["properties"].items():
        assert field.get("title"), name
        assert field.get("description"), name
    assert schema["properties"]["color"]["pattern"] == "^#[0-9A-Fa-f]{6}$"


@pytest.mark.parametrize(
    "bad",
    [
        {"color": "red"},
        {"color": "#12345"},
        {"color": "#GGGGGG"},
        {"studio_color": "128,132,138"},
        {"background": "beach"},
        {"edge_softness": -1},
        {"light_wrap": 2},
        {"blur_strength": 0},
        {"jpeg_quality": 101},
        {"colour": "#2E5E8C"},  # a typo is an error, not an ignored key
    ],
    ids=lambda bad: next(iter(bad)) + "=" + str(next(iter(bad.values()))),
)
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        BackgroundReplaceSettings(**bad)


def test_colours_in_either_case_are_accepted() -> None:
    assert BackgroundReplaceSettings(color="#a0b1C2").color == "#a0b1C2"


# -- the guests are kept, the background is replaced -----------------------------------


def test_single_person_on_the_studio_backdrop(segmenter: PersonSegmenter) -> None:
    photo = astronaut()
    result = replaced(segmenter, photo)
    assert result.shape == photo.shape
    # The beige wall became grey paper.
    assert difference(result, photo, ASTRONAUT_WALL) > 40
    wall = crop(result, ASTRONAUT_WALL).reshape(-1, 3).mean(axis=0)
    assert abs(wall[0] - wall[2]) < 15
    assert 80 < wall.mean() < 200
    # Her face is hers (colour match may warm or cool it a little).
    assert difference(result, photo, ASTRONAUT_FACE) < 12
    exact = replaced(segmenter, photo, **EXACT)
    assert difference(exact, photo, ASTRONAUT_FACE) < 3  # light wrap reaches its cheeks


def test_hair_and_cap_against_a_busy_flag(segmenter: PersonSegmenter) -> None:
    photo = hopper()
    result = replaced(segmenter, photo, **EXACT)
    for background in (HOPPER_FLAG, HOPPER_SKY):
        assert difference(result, photo, background) > 25
        # Nothing of the stars and stripes is left: the paper is smooth there.
        assert sharpness(result, background) < 0.05 * sharpness(photo, background) + 1
    for kept in (HOPPER_FACE, HOPPER_CAP):
        assert difference(result, photo, kept) < 3


def test_everyone_in_a_group_is_kept(segmenter: PersonSegmenter) -> None:
    # Three photos of people side by side (each brings its own background along,
    # as guests in front of a patchwork wall would): 1463×512, wider than 2:1.
    people = [cv2.resize(hopper(), (439, 512)), astronaut(), astronaut()[:, ::-1]]
    group = np.ascontiguousarray(np.hstack(people))
    result = replaced(segmenter, group, **EXACT)
    top, bottom, left, right = ASTRONAUT_FACE
    faces = [
        (190, 280, 170, 260),  # Grace Hopper, resized
        (top, bottom, 439 + left, 439 + right),
        (top, bottom, 439 + 1024 - right, 439 + 1024 - left),
    ]
    for face in faces:
        assert difference(result, group, face) < 4, face
    wall_top, wall_bottom, wall_left, wall_right = ASTRONAUT_WALL
    walls = [
        (wall_top, wall_bottom, 439 + wall_left, 439 + wall_right),
        (wall_top, wall_bottom, 439 + 1024 - wall_right, 439 + 1024 - wall_left),
    ]
    for wall in walls:
        assert difference(result, group, wall) > 40, wall


def test_a_dark_room(segmenter: PersonSegmenter) -> None:
    rng = np.random.default_rng(3)
    dark = astronaut().astype(np.float32) * 0.25 + rng.normal(0, 4, (512, 512, 3))
    photo = np.clip(dark, 0, 255).astype(np.uint8)
    result = replaced(segmenter, photo, **EXACT)
    assert difference(result, photo, ASTRONAUT_FACE) < 4
    assert difference(result, photo, ASTRONAUT_WALL) > 40


def test_a_person_cut_by_the_frame_is_not_cut_away(segmenter: PersonSegmenter) -> None:
    photo = np.ascontiguousarray(astronaut()[60:, 140:])  # her arm leaves at left and bottom
    result = replaced(segmenter, photo, **EXACT)
    height, width = photo.shape[:2]
    suit_at_the_corner = (height - 60, height, 0, 60)
    assert difference(result, photo, suit_at_the_corner) < 3
    wall = (0, 50, width - 100, width)
    assert difference(result, photo, wall) > 40


def test_the_edge_is_soft_not_a_seam(segmenter: PersonSegmenter) -> None:
    photo = astronaut()
    result = replaced(segmenter, photo, background="color", color="#000000", **EXACT)
    # The same guests with a hard cut-out, for comparison.
    inside = segmenter.person_mask(photo) > 0.5
    hard = np.where(inside[..., None], photo, 0).astype(np.uint8)
    outline = cv2.morphologyEx(inside.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3)))
    band = outline.astype(bool)

    def edge_gradient(image: np.ndarray) -> float:
        """The typical brightness step across the outline (its median: the
        photo's own strong edges near the outline do not decide it)."""
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        return float(np.median(magnitude[band]))

    assert edge_gradient(result) < 0.5 * edge_gradient(hard)


# -- backgrounds -----------------------------------------------------------------------


def test_a_solid_colour(segmenter: PersonSegmenter) -> None:
    photo = hopper()
    result = replaced(segmenter, photo, background="color", color="#2E5E8C")
    for background in (HOPPER_FLAG, HOPPER_SKY):
        colour = crop(result, background).reshape(-1, 3).mean(axis=0)
        assert np.abs(colour - (0x2E, 0x5E, 0x8C)).max() < 4


def test_the_studio_paper_takes_its_colour(segmenter: PersonSegmenter) -> None:
    result = replaced(segmenter, astronaut(), studio_color="#3A5A8A")
    wall = crop(result, ASTRONAUT_WALL).reshape(-1, 3).mean(axis=0)
    assert wall[2] > wall[1] > wall[0]


def test_blur_keeps_the_scene_but_softens_it(segmenter: PersonSegmenter) -> None:
    photo = hopper()
    result = replaced(segmenter, photo, background="blur", **EXACT)
    assert sharpness(result, HOPPER_FLAG) < 0.3 * sharpness(photo, HOPPER_FLAG)
    # Still the photo's own colours there: the blue sky stays blue.
    sky = crop(result, HOPPER_SKY).reshape(-1, 3).mean(axis=0)
    assert sky[2] > sky[0] + 40
    assert difference(result, photo, HOPPER_FACE) < 3
    stronger = replaced(segmenter, photo, background="blur", blur_strength=1.0, **EXACT)
    assert sharpness(stronger, HOPPER_FLAG) < sharpness(result, HOPPER_FLAG)


def test_the_template_covers_the_photo_without_stretching(segmenter: PersonSegmenter) -> None:
    # A 2:1 template behind a 512×600 portrait: scaled ×1.5 to cover it and cropped
    # to its middle. A circle in the template must land as a circle, where the
    # geometry says, in the sky to the right of Grace Hopper's cap.
    template = np.full((400, 800, 3), 255, dtype=np.uint8)
    cv2.circle(template, (535, 50), 30, (0, 0, 0), -1, lineType=cv2.LINE_AA)
    result = replaced(
        segmenter, hopper(), encoded(template, "JPEG", quality=95), background="template"
    )
    window = cv2.cvtColor(result[:200, 380:], cv2.COLOR_RGB2GRAY) < 100
    rows, columns = np.nonzero(window)
    height = rows.max() - rows.min() + 1
    width = columns.max() - columns.min() + 1
    assert abs(height - width) <= 3
    assert abs(height - 90) <= 5
    assert abs((rows.min() + rows.max()) / 2 - 75) <= 3
    assert abs(380 + (columns.min() + columns.max()) / 2 - 459) <= 3


def test_cover_keeps_the_aspect_ratio() -> None:
    template = np.full((300, 300, 3), 255, dtype=np.uint8)
    cv2.circle(template, (150, 150), 100, (0, 0, 0), -1)
    for width, height in ((600, 200), (200, 600), (301, 299)):
        covered = _cover(template, width, height)
        assert covered.shape == (height, width, 3)
        rows, columns = np.nonzero(covered[..., 0] < 128)
        scale = max(width, height) / 300
        visible_height = rows.max() - rows.min() + 1
        visible_width = columns.max() - columns.min() + 1
        # Cropped by the frame, never squashed: what is visible keeps the scale.
        assert min(visible_height, visible_width) >= min(200 * scale, height, width) - 3


def test_a_changed_template_is_used_at_once(segmenter: PersonSegmenter) -> None:
    # The fitted template is remembered between photos; a new one must not be missed.
    photo = hopper()
    red = encoded(np.full((300, 300, 3), (200, 30, 30), dtype=np.uint8))
    green = encoded(np.full((300, 300, 3), (30, 200, 30), dtype=np.uint8))
    for template, channel in ((red, 0), (green, 1), (red, 0)):
        result = replaced(segmenter, photo, template, background="template", **EXACT)
        sky = crop(result, HOPPER_SKY).reshape(-1, 3).mean(axis=0)
        assert int(np.argmax(sky)) == channel


def test_template_mode_without_a_template_falls_back_to_studio(
    segmenter: PersonSegmenter,
) -> None:
    photo = astronaut()
    assert np.array_equal(
        replaced(segmenter, photo, background="template"), replaced(segmenter, photo)
    )


def test_an_undecodable_template_is_an_undecodable_image(segmenter: PersonSegmenter) -> None:
    settings = BackgroundReplaceSettings(background="template")
    with pytest.raises(UndecodableImage):
        background_replace(encoded(astronaut()), settings, segmenter, b"not an image")


# -- formats and orientation -----------------------------------------------------------


@pytest.mark.parametrize("fmt", list(MIMES))
def test_format_and_size_are_kept(segmenter: PersonSegmenter, fmt: str) -> None:
    photo = cv2.resize(hopper(), (420, 492))
    result, mime = background_replace(
        encoded(photo, fmt, quality=95), BackgroundReplaceSettings(), segmenter
    )
    assert mime == MIMES[fmt]
    with Image.open(io.BytesIO(result)) as image:
        assert image.format == fmt
        assert image.size == (420, 492)


def test_jpeg_quality_is_honoured(segmenter: PersonSegmenter) -> None:
    photo = encoded(astronaut(), "JPEG", quality=95)
    low, _ = background_replace(photo, BackgroundReplaceSettings(jpeg_quality=50), segmenter)
    high, _ = background_replace(photo, BackgroundReplaceSettings(jpeg_quality=100), segmenter)
    assert len(low) < len(high)


def test_exif_rotated_photo_comes_back_upright(segmenter: PersonSegmenter) -> None:
    upright = hopper()  # 600 high, 512 wide
    stored = np.ascontiguousarray(np.rot90(upright))  # 512 high, 600 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    photo = encoded(stored, "JPEG", quality=95, exif=exif.tobytes())
    result, _ = background_replace(photo, BackgroundReplaceSettings(**EXACT), segmenter)
    upright_result = decoded(result)
    assert upright_result.shape == upright.shape
    assert difference(upright_result, upright, HOPPER_FACE) < 6  # JPEG twice
    assert difference(upright_result, upright, HOPPER_FLAG) > 40


# -- nothing to do ---------------------------------------------------------------------


def test_a_photo_with_nobody_in_it_comes_back_unchanged(segmenter: PersonSegmenter) -> None:
    wall = np.ascontiguousarray(data.brick())
    photo = np.stack([wall] * 3, axis=-1) if wall.ndim == 2 else wall
    result = replaced(segmenter, photo)
    assert np.array_equal(result, photo)


def test_an_undecodable_photo_raises(segmenter: PersonSegmenter) -> None:
    with pytest.raises(UndecodableImage):
        background_replace(b"\xff\xd8\xff\xe0 truncated", BackgroundReplaceSettings(), segmenter)


def test_raw_model_edges_still_make_a_picture(segmenter: PersonSegmenter) -> None:
    photo = astronaut()
    result = replaced(segmenter, photo, refine_edges=False, light_wrap=0, edge_softness=0, **EXACT)
    assert difference(result, photo, ASTRONAUT_FACE) < 3
    assert difference(result, photo, ASTRONAUT_WALL) > 40
