"""passport-photo: real MediaPipe weights on a real portrait (the NASA astronaut photo,
public domain, from the scikit-image wheel); every check is measured on the output file."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from PIL import Image
from skimage import measure

from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import ASTRONAUT
from tools import passport_photo, passport_specs, print_sheet, registry, runner
from tools.ai import mediapipe_tasks
from tools.base import Context, Output, Source, ToolError
from tools.passport_specs import PhotoSpec

TOOL = registry.get("passport-photo")


@pytest.fixture
def models_ctx(ctx: Context) -> Context:
    return ctx.derive(model_dir=shipped_models_dir())


@pytest.fixture
def portrait(make_source: Callable[..., Source]) -> Source:
    """512x512 head-and-shoulders portrait, one face, eyes tilted ~5 degrees."""
    return make_source(ASTRONAUT)


def passport(ctx: Context, source: Source, **settings: Any) -> Output:
    assert TOOL is not None
    return runner.execute(TOOL, [source], runner.validate_settings(TOOL, settings), ctx)


def pixels(path: Path | None) -> np.ndarray:
    assert path is not None
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def dpi_of(path: Path | None) -> tuple[float, float]:
    assert path is not None
    with Image.open(path) as im:
        x, y = im.info["dpi"]
    return round(float(x), 1), round(float(y), 1)


def measured(ctx: Context, rgb: np.ndarray) -> dict[str, float]:
    """Head height, eye line (from the bottom) and tilt of the output, found afresh."""
    faces, _ = mediapipe_tasks.detect_faces(ctx, rgb)
    assert len(faces) == 1
    mask, _ = mediapipe_tasks.segment_person(ctx, rgb)
    head = passport_photo.measure_head(faces[0], mask)
    height = rgb.shape[0]
    return {
        "head": head.height / height,
        "eyes": (height - head.eyes[1]) / height,
        "tilt": head.roll,
        "crown_from_mask": head.crown_from == "person mask",
    }


def in_range(value: float, spec: PhotoSpec, which: str) -> bool:
    low, high = spec.head_mm if which == "head" else spec.eyes_mm
    return low / spec.height_mm <= value <= high / spec.height_mm


def corners(rgb: np.ndarray, size: int = 12) -> list[np.ndarray]:
    return [rgb[:size, :size], rgb[:size, -size:], rgb[-size:, :size], rgb[-size:, -size:]]


# --- the single photo ------------------------------------------------------------------------


def test_us_gives_600x600_at_300_dpi_with_the_head_in_the_spec_ratio(models_ctx, portrait):
    output = passport(models_ctx, portrait, country="us")

    assert output.path is not None and output.media_type == "image/jpeg"
    rgb = pixels(output.path)
    assert rgb.shape == (600, 600, 3)
    assert dpi_of(output.path) == (300.0, 300.0)
    us = passport_specs.by_code()["us"]
    found = measured(models_ctx, rgb)
    assert found["crown_from_mask"]
    assert in_range(found["head"], us, "head"), found  # 1 to 1 3/8 in of 2 in
    assert in_range(found["eyes"], us, "eyes"), found  # 1 1/8 to 1 3/8 in from the bottom
    assert abs(found["tilt"]) < 3  # BlazeFace's eye keypoints: ~1.5 degrees of jitter
    top = [corners(rgb)[0], corners(rgb)[1]]
    assert all(np.abs(c.astype(float) - 255).max() <= 3 for c in top)  # white background


def test_the_compliance_extras_agree_with_the_output(models_ctx, portrait):
    output = passport(models_ctx, portrait, country="us")

    extras = output.extras
    assert extras["country"] == "us" and extras["dpi"] == 300
    assert extras["size"] == {"mm": [50.8, 50.8], "px": [600, 600]}
    checks = extras["compliance"]
    assert checks["faceFound"] and checks["faceCount"] == 1
    assert checks["headHeightOk"] and checks["eyeLineOk"] and checks["headInFrame"]
    assert checks["backgroundUniform"] and checks["tiltOk"]
    assert checks["crownFrom"] == "person mask"
    found = measured(models_ctx, pixels(output.path))
    assert checks["headHeightRatio"] == pytest.approx(found["head"], abs=0.03)
    assert checks["eyeLineRatio"] == pytest.approx(found["eyes"], abs=0.02)
    assert checks["headHeightRange"] == [0.5, 0.6875]


def test_the_uk_photo_is_35x45_mm_at_300_dpi_on_light_grey(models_ctx, portrait):
    output = passport(models_ctx, portrait, country="GB")  # upper case is accepted

    rgb = pixels(output.path)
    # 35 / 25.4 * 300 = 413.4 and 45 / 25.4 * 300 = 531.5: rounded to the nearest pixel.
    assert rgb.shape == (531, 413, 3)
    assert dpi_of(output.path) == (300.0, 300.0)
    uk = passport_specs.by_code()["gb"]
    found = measured(models_ctx, rgb)
    assert in_range(found["head"], uk, "head"), found  # 29-34 mm
    assert in_range(found["eyes"], uk, "eyes"), found
    for corner in corners(rgb)[:2]:
        assert np.abs(corner.astype(float) - 230).max() <= 3  # #e6e6e6
    assert output.extras["backgroundColor"] == "#e6e6e6"


@pytest.mark.parametrize(
    ("code", "dpi", "expected"),
    [
        ("us", 300, (600, 600)),
        ("us", 600, (1200, 1200)),
        ("gb", 300, (413, 531)),
        ("gb", 600, (827, 1063)),
        ("ca", 300, (591, 827)),
        ("cn", 300, (390, 567)),
        ("gr", 300, (472, 709)),
    ],
)
def test_pixels_are_millimetres_at_the_dpi_rounded_to_the_nearest(code, dpi, expected):
    assert passport_photo.photo_pixels(passport_specs.by_code()[code], dpi) == expected


def test_dpi_and_background_colour_can_be_chosen_and_png_written(models_ctx, portrait):
    output = passport(
        models_ctx, portrait, country="de", dpi=600, backgroundColor="#cfe2f3", format="png"
    )

    assert output.media_type == "image/png"
    rgb = pixels(output.path)
    assert rgb.shape == (1063, 827, 3)
    assert dpi_of(output.path) == (600.0, 600.0)
    for corner in corners(rgb)[:2]:
        assert (corner == (0xCF, 0xE2, 0xF3)).all()  # PNG: exact
    de = passport_specs.by_code()["de"]
    found = measured(models_ctx, rgb)
    assert in_range(found["head"], de, "head") and in_range(found["eyes"], de, "eyes"), found


def test_a_tilted_portrait_is_levelled(models_ctx, portrait, tmp_path, make_source):
    tilted = pyvips.Image.new_from_file(str(ASTRONAUT)).similarity(angle=-12, background=[200])
    path = tmp_path / "tilted.png"
    tilted.pngsave(str(path))

    output = passport(models_ctx, make_source(path), country="us")

    assert output.extras["compliance"]["inputTilt"] < -6  # -12 + the portrait's own ~3
    found = measured(models_ctx, pixels(output.path))
    assert abs(found["tilt"]) < 3  # BlazeFace's eye keypoints: ~1.5 degrees of jitter
    us = passport_specs.by_code()["us"]
    assert in_range(found["head"], us, "head") and in_range(found["eyes"], us, "eyes"), found


def test_a_head_cut_at_the_top_is_estimated_and_the_gap_filled(models_ctx, tmp_path, make_source):
    # Cut through the hair (its top is at y~15) and off the shoulders: the crown is
    # estimated from the face, and the photo pads with the background where it ends.
    cut = pyvips.Image.new_from_file(str(ASTRONAUT)).crop(120, 45, 220, 170)
    path = tmp_path / "cut.png"
    cut.pngsave(str(path))

    output = passport(models_ctx, make_source(path), country="gb")

    checks = output.extras["compliance"]
    assert checks["crownFrom"] == "estimate (head cut off at the top)"
    assert checks["headHeightOk"] and checks["eyeLineOk"]
    rgb = pixels(output.path)
    bottom = rgb[-5:].astype(float)
    assert np.abs(bottom - 230).max() <= 3  # below the cut-off chin: background


def test_a_photo_stored_sideways_gives_the_same_photo(
    models_ctx, portrait, tmp_path, make_source, img
):
    stored = pyvips.Image.new_from_file(str(ASTRONAUT)).rot270().copy()
    stored.set_type(pyvips.GValue.gint_type, "orientation", 6)
    path = tmp_path / "sideways.jpg"
    stored.jpegsave(str(path), Q=95, keep=31)

    upright = pixels(passport(models_ctx, portrait, country="us").path).astype(float)
    rotated = pixels(passport(models_ctx, make_source(path), country="us").path).astype(float)

    assert img.ssim(rotated, upright) > 0.9


def test_a_large_portrait_gives_the_same_photo(models_ctx, portrait, tmp_path, make_source, img):
    # 1536x1536: the head is shrunk into the photo (the small one is enlarged).
    large = pyvips.Image.new_from_file(str(ASTRONAUT)).resize(3, kernel="cubic")
    path = tmp_path / "large.png"
    large.pngsave(str(path))

    small = pixels(passport(models_ctx, portrait, country="us").path).astype(float)
    output = passport(models_ctx, make_source(path), country="us")

    result = pixels(output.path).astype(float)
    # The same framing (a shifted crop scores far lower), within the detector's jitter.
    assert img.ssim(result, small) > 0.9
    found, reference = (measured(models_ctx, im.astype(np.uint8)) for im in (result, small))
    assert found["head"] == pytest.approx(reference["head"], abs=0.03)
    assert found["eyes"] == pytest.approx(reference["eyes"], abs=0.02)
    us = passport_specs.by_code()["us"]
    assert in_range(found["head"], us, "head") and in_range(found["eyes"], us, "eyes"), found


# --- print sheets ------------------------------------------------------------------------------


def photos_on(sheet: np.ndarray, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h) of the photos on a white sheet."""
    labels = measure.label((sheet < 250).any(axis=2))
    boxes = []
    for region in measure.regionprops(labels):
        y0, x0, y1, x1 = region.bbox
        if region.area > size[0] * size[1] // 2:
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes


@pytest.mark.parametrize(
    ("layout", "sheet_sizes"),
    [("4x6", {(1200, 1800), (1800, 1200)}), ("A4", {(2480, 3508), (3508, 2480)})],
)
def test_a_print_sheet_holds_copies_of_the_photo(models_ctx, portrait, layout, sheet_sizes):
    single = pixels(passport(models_ctx, portrait, country="de", format="png").path)
    output = passport(models_ctx, portrait, country="de", printLayout=layout, format="png")

    sheet = pixels(output.path)
    assert (sheet.shape[1], sheet.shape[0]) in sheet_sizes
    assert dpi_of(output.path) == (300.0, 300.0)
    boxes = photos_on(sheet, (413, 531))
    assert len(boxes) == output.extras["sheet"]["copies"] >= 2
    for x, y, w, h in boxes:
        assert (w, h) == (413, 531)
        copy = sheet[y : y + h, x : x + w]
        assert (copy[1:-1, 1:-1] == single[1:-1, 1:-1]).all()  # the photo, in its cut line
        assert (copy[0] == 160).all() and (copy[:, -1] == 160).all()


def test_us_photos_fill_a_4x6_sheet_six_times(models_ctx, portrait):
    output = passport(models_ctx, portrait, country="us", printLayout="4x6")

    # 2 x 3 in either orientation: the first, portrait, is kept. No room for gaps.
    assert output.extras["sheet"] == {"px": [1200, 1800], "copies": 6}
    assert pixels(output.path).shape == (1800, 1200, 3)


def test_a_photo_larger_than_the_sheet_is_refused():
    with pytest.raises(ToolError) as err:
        print_sheet.lay_out(np.zeros((1900, 1000, 3), np.uint8), "4x6", 300)
    assert (err.value.code, err.value.status) == ("INVALID_SETTINGS", 400)


def test_a_sheet_over_the_pixel_limit_is_refused(models_ctx, portrait):
    with pytest.raises(ToolError) as err:
        passport(models_ctx.derive(max_megapixels=5), portrait, printLayout="A4", dpi=600)
    assert err.value.status == 413


# --- refusals and honesty -------------------------------------------------------------------


def test_a_photo_without_a_face_is_422(models_ctx, photo):
    with pytest.raises(ToolError) as err:
        passport(models_ctx, photo)
    assert (err.value.code, err.value.status) == ("NO_FACE_FOUND", 422)


@pytest.mark.parametrize(
    "raw",
    [
        {"country": "xx"},
        {"country": "usa"},
        {"printLayout": "5x7"},
        {"dpi": 50},
        {"dpi": 5000},
        {"backgroundColor": "transparent"},
        {"format": "gif"},
    ],
)
def test_bad_settings_are_400(raw):
    assert TOOL is not None
    with pytest.raises(ToolError) as err:
        runner.validate_settings(TOOL, raw)
    assert (err.value.code, err.value.status) == ("INVALID_SETTINGS", 400)


def test_a_missing_model_is_503(ctx, portrait, tmp_path):
    with pytest.raises(ToolError) as err:
        passport(ctx.derive(model_dir=tmp_path / "empty"), portrait)
    assert (err.value.code, err.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "mediapipe-face-detector" in err.value.message


def test_the_output_names_both_models_and_every_engine(models_ctx, portrait):
    output = passport(models_ctx, portrait)

    assert output.model == "mediapipe-face-detector, mediapipe-selfie-segmenter"
    assert output.model_sha256 is not None and len(output.model_sha256.split(", ")) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in output.model_sha256.split(", "))
    assert "mediapipe" in output.engine and "OpenCV" in output.engine
    assert "libvips" in output.engine and output.device == "cpu"
    assert TOOL is not None and set(TOOL.models) == {
        "mediapipe-face-detector",
        "mediapipe-selfie-segmenter",
    }
    assert not TOOL.inline and TOOL.category == "ai"


def test_progress_is_reported_in_order(models_ctx, portrait):
    seen: list[float] = []
    passport(models_ctx.derive(progress=lambda p, _m: seen.append(p)), portrait)
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) >= 5


# --- the data -------------------------------------------------------------------------------


def test_there_are_37_countries_with_consistent_numbers():
    specs = passport_specs.SPECS
    assert len(specs) == len(passport_specs.by_code()) == 37
    for spec in specs:
        assert re.fullmatch(r"[a-z]{2}", spec.code), spec.code
        assert spec.name and len(spec.source) > 20 and spec.dpi == 300
        assert 20 <= spec.width_mm <= spec.height_mm <= 80, spec.code
        low, high = spec.head_mm
        assert 0.4 * spec.height_mm < low < high < spec.height_mm, spec.code
        eyes_low, eyes_high = spec.eyes_mm
        assert 0.4 * spec.height_mm <= eyes_low < eyes_high < spec.height_mm, spec.code
        assert re.fullmatch(r"#[0-9a-f]{6}", spec.background), spec.code
        # A head of the middle size, with its eyes halfway (as measured on the astronaut
        # portrait: 0.56 of the head above the eyes), fits with its eyes in range.
        head = (low + high) / 2
        assert eyes_low + 0.56 * head <= spec.height_mm, spec.code
        assert eyes_high - 0.44 * head >= 0, spec.code
        if spec.top_mm:
            assert spec.top_mm[1] + high < spec.height_mm, spec.code


def test_the_settings_schema_lists_the_countries():
    assert TOOL is not None
    schema = TOOL.describe()["settings"]["properties"]
    assert schema["country"]["enum"] == passport_specs.codes()
    assert len(schema["country"]["x-countries"]) == 37
    assert schema["country"]["x-countries"]["gb"] == "United Kingdom (35x45 mm)"
    assert schema["printLayout"]["enum"] == ["none", "4x6", "A4"]


def test_the_spec_used_is_in_the_extras(models_ctx, portrait):
    spec = passport(models_ctx, portrait, country="cn").extras["spec"]
    assert spec["code"] == "cn" and spec["sizeMm"] == [33, 48] and spec["headMm"] == [28, 33]
    assert spec["topMarginMm"] == [3, 5] and math.isclose(spec["eyeLineMm"][0], 24)
