"""detect-faces: real MediaPipe weights; boxes, scores and keypoints as JSON, upright."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import source_for
from tools import detect_faces, runner
from tools.base import Context, Output, OutputKind, Source, ToolError


@pytest.fixture
def detect(tmp_path: Path):
    ctx = Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir())

    def run(source: Source, settings: dict[str, Any] | None = None) -> Output:
        parsed = runner.validate_settings(detect_faces.TOOL, settings or {})
        return runner.execute(detect_faces.TOOL, [source], parsed, ctx)

    return run


def test_it_finds_the_astronauts_face_with_its_keypoints(astronaut, detect) -> None:
    output = detect(astronaut)

    assert output.kind is OutputKind.JSON
    data = output.data
    assert data["count"] == 1 and (data["width"], data["height"]) == (512, 512)
    face = data["faces"][0]
    assert 160 <= face["x"] <= 190 and 55 <= face["y"] <= 95 and face["score"] > 0.8
    assert 60 <= face["width"] <= 160 and 60 <= face["height"] <= 160
    points = face["keypoints"]
    assert set(points) == {
        "right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear"
    }  # fmt: skip
    for name in ("right_eye", "left_eye", "nose_tip", "mouth_center"):
        assert face["x"] <= points[name]["x"] <= face["x"] + face["width"], name
        assert face["y"] <= points[name]["y"] <= face["y"] + face["height"], name
    # The person's right eye is on the viewer's left; the eyes are above the mouth.
    assert points["right_eye"]["x"] < points["left_eye"]["x"]
    assert points["left_eye"]["y"] < points["mouth_center"]["y"]
    assert output.model == "mediapipe-face-detector" and output.device == "cpu"
    assert output.model_sha256 and len(output.model_sha256) == 64
    assert "mediapipe" in output.engine and "libvips" in output.engine


def test_a_photo_without_a_face_is_an_empty_list_not_an_error(photo, detect) -> None:
    data = detect(photo).data
    assert data == {"faces": [], "count": 0, "width": 600, "height": 400}


def test_boxes_are_in_the_upright_image_of_an_exif_rotated_file(
    astronaut, detect, tmp_path: Path
) -> None:
    """The file's pixels are stored turned 90° clockwise with orientation 8 (display
    rotates them back): the face must come back where it is when displayed."""
    stored = pyvips.Image.new_from_file(str(astronaut.path)).rot90().copy()
    stored.set_type(pyvips.GValue.gint_type, "orientation", 8)
    path = tmp_path / "rotated.jpg"
    stored.jpegsave(str(path), Q=95)

    upright = detect(astronaut).data["faces"][0]
    rotated = detect(source_for(path)).data["faces"][0]
    assert abs(rotated["x"] - upright["x"]) <= 8 and abs(rotated["y"] - upright["y"]) <= 8
    assert abs(rotated["width"] - upright["width"]) <= 10


def test_a_grey_image_is_searched_too(astronaut, detect, tmp_path: Path) -> None:
    grey = pyvips.Image.new_from_file(str(astronaut.path)).colourspace("b-w")
    path = tmp_path / "grey.png"
    grey.pngsave(str(path))
    assert detect(source_for(path)).data["count"] == 1


def test_lower_sensitivity_asks_for_a_higher_score(astronaut, detect) -> None:
    best = detect(astronaut).data["faces"][0]["score"]
    strict = detect(astronaut, {"sensitivity": 0.0}).data  # minimum score 0.8
    assert strict["count"] == (1 if best >= 0.8 else 0)
    assert detect(astronaut, {"sensitivity": 1.0}).data["count"] >= 1


def test_the_full_range_detector_is_credited(astronaut, detect) -> None:
    output = detect(astronaut, {"fullRange": True})
    assert output.model == "mediapipe-face-detector-full"
    assert output.data["count"] >= 1


def test_without_the_detector_it_is_503_naming_it(astronaut, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "scratch", model_dir=tmp_path / "none")
    parsed = runner.validate_settings(detect_faces.TOOL, {})
    with pytest.raises(ToolError) as missing:
        runner.execute(detect_faces.TOOL, [astronaut], parsed, ctx)
    assert (missing.value.status, missing.value.code) == (503, "MODEL_NOT_INSTALLED")
    assert "mediapipe-face-detector" in missing.value.message


@pytest.mark.parametrize("bad", [{"sensitivity": 2}, {"fullRange": "maybe"}, {"other": 1}])
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ToolError) as refused:
        runner.validate_settings(detect_faces.TOOL, bad)
    assert refused.value.status == 400
