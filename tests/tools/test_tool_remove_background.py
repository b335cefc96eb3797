"""remove-background with the real shipped weights (u2netp through rembg's session, the
MediaPipe selfie segmenter): subjects opaque, backgrounds gone or replaced, the mask,
the crop, alpha matting, and the 400/503 answers."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import ASTRONAUT
from tools import remove_background, runner
from tools.ai.catalog import catalog
from tools.base import Context, Output, Source, ToolError

FACE, SUIT = (110, 230), (380, 200)  # (y, x) on the astronaut
TOP_CORNERS = ((2, 2), (2, 509))  # plain studio background (the flag is lower left)
ELLIPSE = (200, 160, 110, 100)  # the synthetic subject: centre x, y and radii


@pytest.fixture
def models_ctx(ctx: Context) -> Context:
    return ctx.derive(model_dir=shipped_models_dir())


@pytest.fixture
def remove(models_ctx: Context) -> Callable[..., Output]:
    """Validate settings and run remove-background on one source, as the apps do."""

    def run(source: Source, settings: dict[str, Any], ctx: Context | None = None) -> Output:
        tool = remove_background.TOOL
        parsed = runner.validate_settings(tool, settings)
        return runner.execute(tool, [source], parsed, ctx or models_ctx)

    return run


@pytest.fixture
def astronaut(make_source) -> Source:
    return make_source(ASTRONAUT)


@pytest.fixture
def subject(tmp_path: Path, make_source) -> Source:
    """400x300: a shaded orange ellipse (the subject) on a plain light grey background."""
    cx, cy, rx, ry = ELLIPSE
    yy, xx = np.mgrid[0:300, 0:400]
    pixels = np.full((300, 400, 3), 235, np.uint8)
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
    shade = np.clip(255 - np.hypot(xx - 170, yy - 120) * 1.2, 60, 255)
    pixels[inside] = np.stack([shade, shade * 0.35, shade * 0.15], -1)[inside].astype(np.uint8)
    path = tmp_path / "subject.png"
    pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").pngsave(str(path))
    return make_source(path)


def pixels(output: Output) -> np.ndarray:
    """(H, W, bands) uint8-valued floats of an output file."""
    assert output.path is not None
    image = pyvips.Image.new_from_file(str(output.path))
    return image.numpy().astype(np.float32).reshape(image.height, image.width, image.bands)


def corners(a: np.ndarray) -> list[tuple[int, int]]:
    h, w = a.shape[:2]
    return [(2, 2), (2, w - 3), (h - 3, 2), (h - 3, w - 3)]


def test_it_cuts_out_the_astronaut_and_names_the_model(astronaut, remove) -> None:
    output = remove(astronaut, {})
    cut = pixels(output)
    assert cut.shape == (512, 512, 4) and output.media_type == "image/png"
    for y, x in (FACE, SUIT):
        assert cut[y, x, 3] > 200
    for y, x in TOP_CORNERS:
        assert cut[y, x, 3] < 30
    original = pixels_of(astronaut)
    assert np.abs(cut[FACE][:3] - original[FACE][:3]).max() <= 1  # colours untouched
    spec = catalog()["u2netp"]
    assert (output.model, output.model_sha256, output.device) == (
        "u2netp",
        spec.files[0].sha256,
        "cpu",
    )
    assert "rembg" in output.engine and "U2netpSession" in output.engine
    assert "onnxruntime" in output.engine and "libvips" in output.engine


def pixels_of(source: Source) -> np.ndarray:
    image = pyvips.Image.new_from_file(str(source.path))
    return image.numpy().astype(np.float32).reshape(image.height, image.width, image.bands)


def test_it_cuts_out_a_subject_on_a_plain_background(subject, remove) -> None:
    cut = pixels(remove(subject, {}))
    cx, cy, _rx, _ry = ELLIPSE
    assert cut[cy, cx, 3] > 200 and cut[cy + 60, cx - 60, 3] > 200
    for y, x in corners(cut):
        assert cut[y, x, 3] < 30


def test_a_jpeg_input_comes_out_as_png_with_alpha(photo, remove) -> None:
    output = remove(photo, {})
    assert output.media_type == "image/png" and pixels(output).shape[2] == 4


def test_return_mask_is_one_band_of_the_same_size_matching_the_cutout(subject, remove) -> None:
    mask = pixels(remove(subject, {"returnMask": True}))
    cut = pixels(remove(subject, {}))
    assert mask.shape == (300, 400, 1)
    cx, cy, _rx, _ry = ELLIPSE
    assert mask[cy, cx, 0] > 200 and all(mask[y, x, 0] < 30 for y, x in corners(mask))
    assert np.abs(mask[..., 0] - cut[..., 3]).max() <= 1


def test_a_colour_background_fills_the_corners_opaquely(subject, remove) -> None:
    for settings in (
        {"background": "#2060c0"},
        {"background": "color", "backgroundColor": "#2060c0"},
    ):
        out = pixels(remove(subject, settings))
        assert out.shape[2] == 3  # opaque: no alpha band
        for y, x in corners(out):
            assert np.abs(out[y, x] - [0x20, 0x60, 0xC0]).max() <= 2
        cx, cy, _rx, _ry = ELLIPSE
        assert out[cy, cx, 0] > 150 and out[cy, cx, 2] < 100  # the orange subject stays


def test_a_translucent_colour_keeps_alpha_and_jpeg_is_refused_for_it(subject, remove) -> None:
    out = pixels(remove(subject, {"backgroundColor": "#ff000080"}))
    assert out.shape[2] == 4
    assert all(abs(out[y, x, 3] - 128) <= 2 and out[y, x, 0] > 250 for y, x in corners(out))
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(
            remove_background.TOOL, {"backgroundColor": "#ff000080", "format": "jpeg"}
        )
    assert caught.value.status == 400 and "JPEG has no transparency" in caught.value.message


def test_blur_keeps_the_subject_sharp_and_blurs_the_background(astronaut, remove) -> None:
    blurred = pixels(remove(astronaut, {"background": "blur", "blurRadius": 20}))
    mask = pixels(remove(astronaut, {"returnMask": True}))[..., 0]
    original = pixels_of(astronaut)
    assert blurred.shape == (512, 512, 3)
    subject = mask >= 254
    assert subject.sum() > 50_000
    assert np.abs(blurred[subject] - original[subject]).max() <= 2

    def detail(a: np.ndarray) -> float:  # mean absolute Laplacian of the luma
        g = a[..., :3].mean(axis=2)
        lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
        return float(np.abs(lap).mean())

    corner = (slice(0, 120), slice(400, 512))  # studio background, top right
    assert detail(blurred[corner]) < detail(original[corner]) / 4


def test_crop_to_subject_shrinks_to_the_subject_box(subject, remove) -> None:
    cx, cy, rx, ry = ELLIPSE
    output = remove(subject, {"cropToSubject": True})
    cut = pixels(output)
    assert abs(cut.shape[1] - 2 * rx) <= 8 and abs(cut.shape[0] - 2 * ry) <= 8
    box = output.extras["subjectBox"]
    assert abs(box["left"] - (cx - rx)) <= 4 and abs(box["top"] - (cy - ry)) <= 4
    padded = pixels(remove(subject, {"cropToSubject": True, "cropPadding": 10}))
    assert padded.shape[:2] == (cut.shape[0] + 20, cut.shape[1] + 20)


def test_crop_to_subject_without_a_subject_is_422(solid_image, remove) -> None:
    with pytest.raises(ToolError) as caught:
        remove(solid_image(64, 48, (0, 0, 0)), {"cropToSubject": True, "model": "selfie"})
    assert (caught.value.code, caught.value.status) == ("NO_SUBJECT_FOUND", 422)


def test_alpha_matting_refines_the_edges_and_is_credited(astronaut, remove) -> None:
    plain = pixels(remove(astronaut, {}))[..., 3]
    output = remove(astronaut, {"alphaMatting": True, "alphaMattingErodeSize": 10})
    matted = pixels(output)[..., 3]
    assert output.extras["alphaMatting"]["applied"] is True
    assert "pymatting" in output.engine and "alpha matting" in output.engine
    changed = np.abs(matted - plain) > 20
    assert changed.sum() > 1000
    partial = (matted > 0) & (matted < 255)
    assert partial[changed].sum() > 500  # soft edges, not a hard cut
    for y, x in (FACE, SUIT):
        assert matted[y, x] > 200
    for y, x in TOP_CORNERS:
        assert matted[y, x] < 30


def test_the_selfie_model_cuts_out_the_person(astronaut, remove) -> None:
    output = remove(astronaut, {"model": "selfie"})
    cut = pixels(output)
    for y, x in (FACE, SUIT):
        assert cut[y, x, 3] > 200
    for y, x in TOP_CORNERS:
        assert cut[y, x, 3] < 30
    spec = catalog()["mediapipe-selfie-segmenter"]
    assert output.model == "mediapipe-selfie-segmenter"
    assert output.model_sha256 == spec.files[0].sha256 and "mediapipe" in output.engine


def test_an_input_alpha_is_kept(transparent, remove) -> None:
    cut = pixels(remove(transparent, {}))
    original = pixels_of(transparent)
    assert cut.shape[:2] == original.shape[:2]
    assert (cut[..., 3] <= original[..., 3] + 1).all()
    assert all(cut[y, x, 3] == 0 for y, x in corners(cut))


def test_an_image_background_covers_the_corners(subject, remove, solid_image) -> None:
    blue = solid_image(64, 48, (10, 40, 200)).path.read_bytes()
    encoded = "data:image/png;base64," + base64.b64encode(blue).decode()
    out = pixels(remove(subject, {"background": "image", "backgroundImage": encoded}))
    assert out.shape == (300, 400, 3)
    for y, x in corners(out):
        assert np.abs(out[y, x] - [10, 40, 200]).max() <= 2
    cx, cy, _rx, _ry = ELLIPSE
    assert out[cy, cx, 0] > 150  # the subject on top


@pytest.mark.parametrize(
    "raw",
    [
        {"model": "u2net-huge"},
        {"background": "image", "backgroundImage": "not base64!"},
        {"background": "image"},
        {"returnMask": True, "background": "blur"},
        {"alphaMattingForeground": 100, "alphaMattingBackground": 100},
        {"blurRadius": 10},
        {"background": "blur", "blurRadius": 5000},
        {"cropPadding": -1},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(remove_background.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_jpeg_with_a_transparent_background_is_400_and_fine_with_a_colour(photo, remove) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(remove_background.TOOL, {"format": "jpg"})
    assert caught.value.status == 400 and "JPEG has no transparency" in caught.value.message
    output = remove(photo, {"format": "jpeg", "background": "#ffffff"})
    assert output.media_type == "image/jpeg"


@pytest.mark.parametrize("model", ["birefnet-general", "isnet-general-use"])
def test_a_model_that_is_not_installed_is_503_naming_it(astronaut, remove, model: str) -> None:
    with pytest.raises(ToolError) as caught:
        remove(astronaut, {"model": model})
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert model in caught.value.message and "install" in caught.value.message


def test_u2netp_missing_is_503(astronaut, remove, ctx: Context, tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    with pytest.raises(ToolError) as caught:
        remove(astronaut, {}, ctx.derive(model_dir=empty))
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "u2netp" in caught.value.message
