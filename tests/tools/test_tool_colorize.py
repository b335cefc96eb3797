"""colorize: 503 MODEL_NOT_INSTALLED without DDColor, and the DDColor path's plumbing
(grey RGB in at 512x512, a/b out, joined with the photo's own full-size lightness,
blended by intensity) with a tiny stand-in that answers a constant colour. The real
DDColor is never run here: nothing below says anything about its colours."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.tools import restoration_models
from tools import registry, runner
from tools.ai.catalog import catalog
from tools.base import Context, Source, ToolError

TOOL = registry.get("colorize")
A, B = 20.0, 35.0  # the stand-in's answer, CIELAB a and b


def colorize(source: Source, ctx: Context, **settings):
    assert TOOL is not None
    return runner.execute(TOOL, [source], runner.validate_settings(TOOL, settings), ctx)


@pytest.fixture
def grey_photo(fixtures: Path, tmp_path: Path, make_source) -> Source:
    path = tmp_path / "grey.png"
    Image.open(fixtures / "photo.jpg").convert("L").save(path)
    return make_source(path)


@pytest.fixture
def standin(monkeypatch, ctx: Context, tmp_path: Path) -> Context:
    root = tmp_path / "models"
    restoration_models.install(monkeypatch, root, "ddcolor", restoration_models.ddcolor(A, B))
    return ctx.derive(model_dir=root)


def lab(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)


def test_without_ddcolor_it_is_503(grey_photo, ctx, tmp_path) -> None:
    with pytest.raises(ToolError) as caught:
        colorize(grey_photo, ctx.derive(model_dir=tmp_path))
    assert (caught.value.status, caught.value.code) == (503, "MODEL_NOT_INSTALLED")
    assert "ddcolor" in caught.value.message


def test_a_catalogued_but_missing_ddcolor_is_503_with_the_install_command(
    grey_photo, standin, tmp_path
) -> None:
    (tmp_path / "models" / "ddcolor" / "ddcolor.onnx").unlink()
    with pytest.raises(ToolError) as caught:
        colorize(grey_photo, standin)
    assert (caught.value.status, caught.value.code) == (503, "MODEL_NOT_INSTALLED")
    assert "models install ddcolor" in caught.value.message


def test_the_predicted_colour_is_joined_with_the_photos_own_lightness(grey_photo, standin) -> None:
    output = colorize(grey_photo, standin)

    before, after = lab(grey_photo.path), lab(output.path)
    assert abs(float(np.median(after[..., 1])) - A) < 1.5
    assert abs(float(np.median(after[..., 2])) - B) < 1.5
    # Lightness is the photo's own, at full resolution (only gamut clipping moves it).
    assert float(np.median(np.abs(after[..., 0] - before[..., 0]))) < 1.0
    assert output.model == "ddcolor"
    assert output.model_sha256 == catalog()["ddcolor"].files[0].sha256
    assert "onnxruntime" in output.engine and output.device == "cpu"


def test_intensity_blends_with_the_photos_own_colours(grey_photo, standin, img) -> None:
    half = lab(colorize(grey_photo, standin, intensity=0.5).path)
    assert abs(float(np.median(half[..., 1])) - A / 2) < 1.5
    assert abs(float(np.median(half[..., 2])) - B / 2) < 1.5

    unchanged = colorize(grey_photo, standin, intensity=0.0)
    before = img.decode(grey_photo.path)
    after = img.decode(unchanged.path)
    assert after.shape[2] == 3  # grey comes back RGB
    assert np.abs(after - before).max() <= 1


def test_alpha_is_kept(transparent, standin, img) -> None:
    output = colorize(transparent, standin)
    assert np.array_equal(img.decode(output.path)[..., 3], img.decode(transparent.path)[..., 3])


def test_settings_are_bounded() -> None:
    assert TOOL is not None
    for bad in ({"intensity": 1.01}, {"intensity": -1}, {"model": "deoldify"}):
        with pytest.raises(ToolError) as caught:
            runner.validate_settings(TOOL, bad)
        assert caught.value.status == 400
