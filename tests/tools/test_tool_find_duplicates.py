"""find-duplicates: a resized, recompressed copy is grouped with its original, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from tools.base import ToolError


def variant(photo, tmp_path: Path, make_source, name: str, edit, **save):
    """The photo edited by `edit` and saved under `name` (format by extension)."""
    image = edit(pyvips.Image.new_from_file(str(photo.path)))
    path = tmp_path / name
    image.write_to_file(str(path), **save)
    return make_source(path, name)


def unrelated(tmp_path: Path, make_source):
    """A synthetic picture: diagonal stripes, nothing like the photo."""
    x, y = pyvips.Image.xyz(300, 200)[0], pyvips.Image.xyz(300, 200)[1]
    stripes = (((x + y) / 20).floor() % 2 * 200 + 30).cast("uchar")
    path = tmp_path / "stripes.png"
    stripes.pngsave(str(path))
    return make_source(path, "stripes.png")


@pytest.fixture
def copies(photo, tmp_path, make_source):
    small = variant(photo, tmp_path, make_source, "small.jpg", lambda im: im.resize(0.4), Q=35)
    webp = variant(photo, tmp_path, make_source, "copy.webp", lambda im: im.resize(0.75) * 1.05)
    return small, webp


@pytest.mark.parametrize("algorithm", ["phash", "dhash", "both"])
def test_copies_are_grouped_with_their_original(
    run_many, photo, copies, transparent, tmp_path, make_source, algorithm
):
    stripes = unrelated(tmp_path, make_source)
    inputs = [stripes, photo, copies[0], transparent, copies[1]]
    data = run_many("find-duplicates", inputs, {"algorithm": algorithm}).data

    assert [[f["index"] for f in g["files"]] for g in data["groups"]] == [[1, 2, 4]]
    assert [f["name"] for f in data["groups"][0]["files"]] == [
        "photo.jpg",
        "small.jpg",
        "copy.webp",
    ]
    assert sorted(s["index"] for s in data["singletons"]) == [0, 3]
    pairs = data["groups"][0]["distances"]
    assert [(p["a"], p["b"]) for p in pairs] == [(1, 2), (1, 4), (2, 4)]
    assert all(p["distance"] <= 8 for p in pairs)
    assert data["duplicateCount"] == 2 and len(data["files"]) == 5


def test_a_threshold_of_zero_keeps_only_exact_hash_matches(run_many, photo, photo_rotated):
    # The sideways-stored copy shows the same picture once upright: same hash.
    data = run_many("find-duplicates", [photo, photo_rotated], {"threshold": 0}).data
    assert len(data["groups"]) == 1 and data["groups"][0]["distances"][0]["distance"] == 0


def test_unrelated_images_are_all_singletons(run_many, photo, tmp_path, make_source):
    data = run_many("find-duplicates", [photo, unrelated(tmp_path, make_source)], {}).data
    assert data["groups"] == [] and len(data["singletons"]) == 2
    files = data["files"]
    distance = (int(files[0]["phash"], 16) ^ int(files[1]["phash"], 16)).bit_count()
    assert distance > 16


def test_a_single_file_is_a_singleton(run_many, photo):
    data = run_many("find-duplicates", [photo], {}).data
    assert data["groups"] == [] and data["singletons"] == [{"index": 0, "name": "photo.jpg"}]


@pytest.mark.parametrize("bad", [{"threshold": -1}, {"threshold": 65}, {"algorithm": "md5"}])
def test_bad_settings_are_400(run_many, photo, bad):
    with pytest.raises(ToolError) as err:
        run_many("find-duplicates", [photo, photo], bad)
    assert err.value.status == 400


def test_no_file_is_400_and_a_truncated_one_is_422(run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("find-duplicates", [], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_many("find-duplicates", [photo, truncated_jpeg], {})
    assert err.value.status == 422
