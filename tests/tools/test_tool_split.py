"""split: tiles of the promised count and size, whose pixels are the original's."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import pyvips

from tools.base import ToolError


def tiles(out, tmp_path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(out.path) as archive:
        archive.extractall(tmp_path / "tiles")
        names = archive.namelist()
    result = {}
    for name in names:
        image = pyvips.Image.new_from_file(str(tmp_path / "tiles" / name))
        result[name] = image.numpy().reshape(image.height, image.width, -1)
    return result


def test_a_grid_cuts_the_photo_into_equal_tiles(run_tool, transparent, tmp_path):
    out = run_tool("split", transparent, {"mode": "grid", "rows": 3, "cols": 2})
    found = tiles(out, tmp_path)
    assert out.extras["count"] == 6 and len(found) == 6
    original = pyvips.Image.new_from_file(str(transparent.path)).numpy()
    # 451 x 300: columns of 226 + 225 px (edges at round(i * 451 / 2)), rows of 100 px.
    tile = found["tile-r2-c2.png"]
    assert tile.shape == (100, 225, 4)
    assert np.array_equal(tile, original[100:200, 226:451])
    assert sorted(found) == [f"tile-r{r}-c{c}.png" for r in (1, 2, 3) for c in (1, 2)]


@pytest.mark.parametrize(("mode", "shape"), [("rows", (100, 600)), ("cols", (400, 150))])
def test_rows_and_cols_cut_strips(run_tool, photo, tmp_path, mode, shape):
    out = run_tool("split", photo, {"mode": mode, mode: 4})  # rows takes rows, cols cols
    found = tiles(out, tmp_path)
    assert len(found) == 4
    assert all(t.shape[:2] == shape for t in found.values())


def test_a_tile_size_leaves_smaller_tiles_at_the_edges(run_tool, photo, tmp_path, img):
    out = run_tool("split", photo, {"tileWidth": 250, "tileHeight": 300, "format": "png"})
    found = tiles(out, tmp_path)
    sizes = {name: t.shape[:2] for name, t in found.items()}
    assert sizes == {
        "tile-r1-c1.png": (300, 250),
        "tile-r1-c2.png": (300, 250),
        "tile-r1-c3.png": (300, 100),
        "tile-r2-c1.png": (100, 250),
        "tile-r2-c2.png": (100, 250),
        "tile-r2-c3.png": (100, 100),
    }
    whole = img.decode(photo.path)
    assert img.mad(found["tile-r2-c3.png"].astype(np.float32), whole[300:, 500:]) < 1


@pytest.mark.parametrize(
    "bad",
    [
        {"rows": 21, "cols": 20},
        {"tileWidth": 10, "tileHeight": 10},
        {"mode": "cols", "cols": 601},
        {"rows": 0},
        {"mode": "diagonal"},
    ],
)
def test_too_many_tiles_and_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("split", photo, bad)
    assert err.value.status == 400


def test_exactly_400_tiles_are_allowed(run_tool, photo):
    assert run_tool("split", photo, {"rows": 20, "cols": 20}).extras["count"] == 400


def test_wrong_count_and_truncated_file(run_many, run_tool, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("split", [photo, photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_tool("split", truncated_jpeg, {})
    assert err.value.status == 422
