"""erase-object: mask decoding and its errors, OpenCV Telea / Navier-Stokes on a real
photo, the auto fallback that says LaMa was missing, and the LaMa path's plumbing (crop,
512x512 run, paste only inside the mask) with a tiny stand-in model, never the real one."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import Image, ImageDraw

from tests.tools import restoration_models
from tools import registry, runner
from tools.ai import lama
from tools.base import Context, Source, ToolError

TOOL = registry.get("erase-object")
OBJECT = (460, 30, 540, 110)  # where the red disc is painted (on the wooden table)


def png_b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def disc_mask(size: tuple[int, int] = (600, 400), box: tuple[int, ...] = OBJECT) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    return mask


@pytest.fixture
def clean(fixtures: Path) -> np.ndarray:
    return np.asarray(Image.open(fixtures / "photo.jpg").convert("RGB"))


@pytest.fixture
def with_object(clean: np.ndarray, tmp_path: Path, make_source) -> Source:
    """The photo (as a lossless PNG) with a red disc painted on it: the object to erase."""
    image = Image.fromarray(clean)
    ImageDraw.Draw(image).ellipse((466, 36, 534, 104), fill=(220, 20, 20))
    path = tmp_path / "object.png"
    image.save(path)
    return make_source(path)


def erase(source: Source, ctx: Context, **settings):
    assert TOOL is not None
    return runner.execute(TOOL, [source], runner.validate_settings(TOOL, settings), ctx)


@pytest.fixture
def no_models(ctx: Context, tmp_path: Path) -> Context:
    (tmp_path / "empty").mkdir()
    return ctx.derive(model_dir=tmp_path / "empty")


@pytest.mark.parametrize(
    ("engine", "name"), [("telea", "Telea"), ("navier-stokes", "Navier-Stokes")]
)
def test_opencv_erases_the_object_and_changes_nothing_else(
    engine, name, with_object, clean, no_models, img
) -> None:
    mask = np.asarray(disc_mask()) > 127
    output = erase(with_object, no_models, maskData=png_b64(disc_mask()), engine=engine)

    result = img.decode(output.path)
    before = np.asarray(Image.open(with_object.path).convert("RGB")).astype(np.float32)
    assert np.array_equal(result[~mask], before[~mask])  # bit for bit outside the mask
    red_left = (result[mask][:, 0] - result[mask][:, 1] > 120).mean()
    assert red_left < 0.01, red_left  # the disc was pure red: none of it stays
    assert img.mad(result[mask][None], clean[mask][None].astype(np.float32)) < 40
    assert output.engine.startswith("OpenCV ") and f"inpaint ({name}" in output.engine
    assert output.model is None and output.model_sha256 is None
    assert output.extras["engineUsed"] == engine and "note" not in output.extras


def test_auto_without_lama_runs_telea_and_says_so(with_object, no_models) -> None:
    output = erase(with_object, no_models, maskData=png_b64(disc_mask()))

    assert "inpaint (Telea" in output.engine and "LaMa" not in output.engine
    assert output.model is None
    assert output.extras["engineUsed"] == "telea"
    assert "LaMa (model lama) is not installed" in output.extras["note"]
    assert "models install lama" in output.extras["note"]


def test_lama_asked_for_but_missing_is_503_naming_it(with_object, no_models) -> None:
    with pytest.raises(ToolError) as caught:
        erase(with_object, no_models, maskData=png_b64(disc_mask()), engine="lama")
    assert (caught.value.status, caught.value.code) == (503, "MODEL_NOT_INSTALLED")
    assert "'lama'" in caught.value.message and "models install lama" in caught.value.message


def test_a_mask_of_another_size_is_400_naming_both(with_object, no_models) -> None:
    with pytest.raises(ToolError) as caught:
        erase(with_object, no_models, maskData=png_b64(disc_mask((300, 200), (10, 10, 50, 50))))
    assert (caught.value.status, caught.value.code) == (400, "MASK_SIZE_MISMATCH")
    assert "300x200" in caught.value.message and "600x400" in caught.value.message


def test_the_mask_is_matched_to_the_image_as_displayed(photo_rotated, no_models) -> None:
    """photo_rotated is stored 400x600 with EXIF orientation 6: shown, it is 600x400."""
    output = erase(photo_rotated, no_models, maskData=png_b64(disc_mask()), engine="telea")
    assert output.extras["maskedPixels"] == int((np.asarray(disc_mask()) > 127).sum())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("not base64 at all!", "MASK_INVALID"),
        (base64.b64encode(b"GIF89a....").decode(), "MASK_NOT_PNG"),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode(), "MASK_INVALID"),
        ("data:image/png," + png_b64(disc_mask()), "MASK_INVALID"),  # not ;base64
    ],
)
def test_unusable_mask_data_is_400(data, code, with_object, no_models) -> None:
    with pytest.raises(ToolError) as caught:
        erase(with_object, no_models, maskData=data)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_a_data_uri_is_accepted(with_object, no_models) -> None:
    uri = "data:image/png;base64," + png_b64(disc_mask())
    assert erase(with_object, no_models, maskData=uri, engine="telea").extras["maskedPixels"] > 0


def test_an_empty_mask_is_400_and_the_threshold_decides(with_object, no_models) -> None:
    grey = Image.new("L", (600, 400), 0)
    ImageDraw.Draw(grey).rectangle((10, 10, 60, 60), fill=100)
    with pytest.raises(ToolError) as caught:
        erase(with_object, no_models, maskData=png_b64(grey))
    assert (caught.value.status, caught.value.code) == (400, "MASK_EMPTY")

    output = erase(with_object, no_models, maskData=png_b64(grey), maskThreshold=50)
    assert output.extras["maskedPixels"] == 51 * 51


def test_a_mask_with_transparency_is_read_from_its_alpha(with_object, no_models) -> None:
    """Strokes painted on a transparent layer: the colour under the alpha does not count."""
    layer = Image.new("RGBA", (600, 400), (255, 255, 255, 0))  # white but transparent
    ImageDraw.Draw(layer).rectangle((100, 100, 119, 109), fill=(0, 0, 0, 255))
    output = erase(with_object, no_models, maskData=png_b64(layer), engine="telea")
    assert output.extras["maskedPixels"] == 20 * 10


def test_alpha_is_kept(transparent, no_models, img) -> None:
    mask = disc_mask((451, 300), (200, 120, 260, 180))
    output = erase(transparent, no_models, maskData=png_b64(mask), engine="telea")
    result, before = img.decode(output.path), img.decode(transparent.path)
    assert result.shape[2] == 4
    assert np.array_equal(result[..., 3], before[..., 3])


def test_settings_are_bounded() -> None:
    assert TOOL is not None
    for bad in ({"maskData": "x", "maskThreshold": 256}, {"maskData": "x", "radius": 0}, {}):
        with pytest.raises(ToolError) as caught:
            runner.validate_settings(TOOL, bad)
        assert caught.value.status == 400


# --- the LaMa path, with a stand-in model (plumbing only) ----------------------------------


@pytest.fixture
def standin_lama(monkeypatch, ctx: Context, tmp_path: Path) -> Context:
    """A tiny model with LaMa's inputs and outputs that paints magenta into the hole."""
    root = tmp_path / "models"
    restoration_models.install(monkeypatch, root, "lama", restoration_models.lama())
    return ctx.derive(model_dir=root)


def test_auto_uses_lama_when_installed_and_pastes_only_inside_the_mask(
    standin_lama, with_object, img
) -> None:
    mask = np.asarray(disc_mask()) > 127
    output = erase(with_object, standin_lama, maskData=png_b64(disc_mask()))

    result = img.decode(output.path)
    before = np.asarray(Image.open(with_object.path).convert("RGB")).astype(np.float32)
    assert np.array_equal(result[~mask], before[~mask])
    assert np.abs(result[mask] - [255, 0, 255]).max() <= 2  # the stand-in's fill, 0..255 out
    sha256 = lama_spec_sha()
    assert output.model == "lama" and output.model_sha256 == sha256
    assert "onnxruntime" in output.engine and output.device == "cpu"
    assert output.extras["engineUsed"] == "lama" and "note" not in output.extras


def lama_spec_sha() -> str:
    from tools.ai.catalog import catalog

    sha = catalog()["lama"].files[0].sha256
    assert sha is not None
    return sha


def test_far_apart_areas_run_as_separate_boxes_with_context(standin_lama, with_object, img) -> None:
    mask_image = Image.new("L", (600, 400), 0)
    draw = ImageDraw.Draw(mask_image)
    draw.rectangle((20, 20, 29, 29), fill=255)
    draw.line((400, 300, 580, 380), fill=255, width=2)
    mask = np.asarray(mask_image) > 127
    boxes = lama.regions(mask, 600, 400)
    assert len(boxes) == 2
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 400
    assert boxes[0][2] - boxes[0][0] == boxes[0][3] - boxes[0][1]  # square where it fits
    covered = np.zeros_like(mask)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered[mask].all()

    output = erase(with_object, standin_lama, maskData=png_b64(mask_image))
    result = img.decode(output.path)
    before = np.asarray(Image.open(with_object.path).convert("RGB")).astype(np.float32)
    assert np.array_equal(result[~mask], before[~mask])
    assert np.abs(result[mask] - [255, 0, 255]).max() <= 2


def test_many_areas_are_merged_into_at_most_max_regions() -> None:
    mask = np.zeros((2000, 2000), bool)
    for i in range(10):
        for j in range(10):
            mask[i * 200 + 5, j * 200 + 5] = True
    boxes = lama.regions(mask, 2000, 2000)
    assert 1 <= len(boxes) <= lama.MAX_REGIONS
    covered = np.zeros_like(mask)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered[mask].all()


def test_a_16_bit_image_keeps_its_depth_outside_the_mask(tmp_path, make_source, no_models, img):
    ramp = (np.arange(600, dtype=np.uint32)[None, :] * 109 % 65536).astype(np.uint16)
    pixels = np.repeat(np.repeat(ramp, 400, axis=0)[..., None], 3, axis=2)
    path = tmp_path / "deep.png"
    pyvips.Image.new_from_array(pixels).copy(interpretation="rgb16").pngsave(str(path))
    output = erase(make_source(path), no_models, maskData=png_b64(disc_mask()), engine="telea")
    result = img.decode(output.path)
    mask = np.asarray(disc_mask()) > 127
    assert result.dtype == np.float32 and result.max() > 255
    assert np.array_equal(result[~mask], pixels[~mask].astype(np.float32))
