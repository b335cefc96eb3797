"""PP-OCR through rapidocr on our verified sessions: the catalog's files and nothing else,
loaded once per process, never a download, languages checked, a damaged file refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.shipped_models import shipped_models_dir
from tools.ai import ppocr
from tools.ai.catalog import catalog
from tools.ai.store import ModelStore
from tools.base import Context, ToolError

FONT = Path(__file__).resolve().parents[3] / "tools" / "fonts" / "DejaVuSans.ttf"
TEXT = "Verified models only 42"


def bgr_line(text: str = TEXT, upside_down: bool = False) -> np.ndarray:
    """One line of 32 px text on white, as the (H, W, 3) BGR array rapidocr takes."""
    image = Image.new("RGB", (560, 90), "white")
    ImageDraw.Draw(image).text((20, 25), text, font=ImageFont.truetype(str(FONT), 32), fill="black")
    if upside_down:
        image = image.rotate(180)
    return np.ascontiguousarray(np.asarray(image)[..., ::-1])


@pytest.fixture
def fresh_ctx(tmp_path: Path) -> Context:
    """A context with its own (empty) model store, over the shipped models."""
    return Context(
        scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir(), models=ModelStore()
    )


def test_it_runs_the_catalog_files_and_says_which(fresh_ctx: Context) -> None:
    lines, runs = ppocr.read(fresh_ctx, bgr_line(), "balanced")
    assert [line["text"] for line in lines] == [TEXT]
    specs = catalog()
    assert [(r["model"], r["modelSha256"]) for r in runs] == [
        (m, specs[m].files[0].sha256) for m in ("ppocr-v6-det", "ppocr-v6-rec")
    ]
    assert all(r["engine"].startswith("rapidocr 3.10") and r["device"] == "cpu" for r in runs)


def test_sessions_load_once_per_process_and_device(fresh_ctx: Context) -> None:
    ppocr.read(fresh_ctx, bgr_line(), "balanced")
    loads = fresh_ctx.models.loads
    ppocr.read(fresh_ctx, bgr_line(), "balanced")
    assert fresh_ctx.models.loads == loads == 2  # det and rec, once
    ppocr.read(fresh_ctx, bgr_line(), "best")
    assert fresh_ctx.models.loads == 3  # + the classifier
    assert {entry["model"] for entry in fresh_ctx.models.loaded()} == set(ppocr.MODELS)


def test_rapidocr_never_downloads(fresh_ctx: Context, monkeypatch) -> None:
    from rapidocr.utils import download_file

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rapidocr tried to download something")

    monkeypatch.setattr(download_file.DownloadFile, "run", refuse)
    lines, _ = ppocr.read(fresh_ctx, bgr_line(), "best")
    assert [line["text"] for line in lines] == [TEXT]


def test_best_turns_an_upside_down_line_round(fresh_ctx: Context) -> None:
    lines, runs = ppocr.read(fresh_ctx, bgr_line(upside_down=True), "best")
    assert [line["text"] for line in lines] == [TEXT]
    assert "ppocr-mobile-v2-cls" in [r["model"] for r in runs]
    unturned, _ = ppocr.read(fresh_ctx, bgr_line(upside_down=True), "balanced")
    assert [line["text"] for line in unturned] != [TEXT]  # no classifier: read upside down


def test_word_boxes_spell_the_line_left_to_right(fresh_ctx: Context) -> None:
    (line,), _ = ppocr.read(fresh_ctx, bgr_line(), "balanced")
    words = line["words"]
    assert [w["text"] for w in words] == TEXT.split()
    lefts = [w["box"][0] for w in words]
    assert lefts == sorted(lefts) and lefts[0] >= line["box"][0]


def test_a_damaged_model_file_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    for model_id in ppocr.MODELS:
        (models / model_id).mkdir(parents=True)
        for file in catalog()[model_id].files:
            shutil.copy(shipped_models_dir() / model_id / file.name, models / model_id)
    damaged = models / "ppocr-mobile-v2-cls" / catalog()["ppocr-mobile-v2-cls"].files[0].name
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    ctx = Context(scratch_dir=tmp_path / "scratch", model_dir=models, models=ModelStore())
    lines, _ = ppocr.read(ctx, bgr_line(), "balanced")  # needs no classifier
    assert [line["text"] for line in lines] == [TEXT]
    with pytest.raises(ToolError) as caught:
        ppocr.read(ctx, bgr_line(), "best")
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "ppocr-mobile-v2-cls" in caught.value.message and "damaged" in caught.value.message


@pytest.mark.parametrize(
    ("asked", "resolved"),
    [("auto", "auto"), ("en", "en"), ("eng", "en"), ("chi_sim", "ch"), ("jpn+eng", "japan+en")],
)
def test_language_names_map_to_rapidocrs(asked: str, resolved: str) -> None:
    assert ppocr.resolve_language(asked) == resolved


@pytest.mark.parametrize("asked", ["ru", "ar", "korean", "en+xx"])
def test_languages_the_v6_model_does_not_read_are_400(asked: str) -> None:
    with pytest.raises(ToolError) as caught:
        ppocr.resolve_language(asked)
    assert (caught.value.code, caught.value.status) == ("UNSUPPORTED_LANGUAGE", 400)
    assert "en, es" in caught.value.message  # the list it reads


def test_a_blank_image_has_no_lines(fresh_ctx: Context) -> None:
    blank = np.full((300, 400, 3), 255, np.uint8)
    lines, runs = ppocr.read(fresh_ctx, blank, "balanced")
    assert lines == [] and len(runs) == 2
