"""bulk-rename: names from the pattern, padded and safe; the bytes go into the ZIP unchanged."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools import bulk_rename, runner
from tools.base import ToolError


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_names_follow_the_pattern_with_padding_and_bytes_are_identical(
    photo, transparent, photo_rotated, run_many
) -> None:
    sources = [photo, transparent, photo_rotated]
    output = run_many(
        "bulk-rename", sources, {"pattern": "trip-{n}", "startIndex": 7, "padding": 4}
    )
    files = entries(output.path)
    assert list(files) == ["trip-0007.jpg", "trip-0008.png", "trip-0009.jpg"]
    assert [files[name] for name in files] == [s.path.read_bytes() for s in sources]
    assert (output.media_type, output.extras) == ("application/zip", {"count": 3})
    with zipfile.ZipFile(output.path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_date_is_the_capture_date_or_today(photo, transparent, run_many) -> None:
    output = run_many("bulk-rename", [photo, transparent], {"pattern": "{date}_{original}"})
    today = datetime.now(UTC).date().isoformat()
    assert list(entries(output.path)) == ["2024-05-17_photo.jpg", f"{today}_transparent.png"]


def test_clashing_names_are_told_apart(photo, photo_rotated, run_many) -> None:
    output = run_many("bulk-rename", [photo, photo_rotated, photo], {"pattern": "Same"})
    assert list(entries(output.path)) == ["Same.jpg", "Same-2.jpg", "Same-3.jpg"]


def test_names_are_sanitised_and_the_extension_is_the_real_format(
    transparent, tmp_path: Path, make_source, run_many
) -> None:
    shutil.copy(transparent.path, tmp_path / "in.bin")
    odd = make_source(tmp_path / "in.bin", name='..pa:ss*wd "x".jpg')
    reserved = make_source(tmp_path / "in.bin", name="con.jpg")
    output = run_many("bulk-rename", [odd, reserved], {"pattern": "{original}"})
    assert list(entries(output.path)) == ["pa_ss_wd _x_.png", "_con.png"]


@pytest.mark.parametrize(
    "raw",
    [
        {"pattern": ""},
        {"pattern": "{n}-{foo}"},
        {"pattern": "{0.__class__}"},
        {"padding": 11},
        {"startIndex": -1},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(bulk_rename.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


@pytest.mark.parametrize(("count", "code"), [(0, "WRONG_INPUT_COUNT"), (201, "TOO_MANY_FILES")])
def test_it_takes_1_to_200_files(count: int, code: str, photo, run_many) -> None:
    with pytest.raises(ToolError) as caught:
        run_many("bulk-rename", [photo] * count, {})
    assert (caught.value.code, caught.value.status) == (code, 400)
