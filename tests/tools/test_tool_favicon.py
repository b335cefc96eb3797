"""favicon: the ZIP's files and pixel sizes, the .ico's three sizes, padding, colour, radius."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools import favicon, runner
from tools.base import ToolError

EXPECTED = {
    "favicon-16x16.png": 16,
    "favicon-32x32.png": 32,
    "apple-touch-icon.png": 180,
    "android-chrome-192x192.png": 192,
    "android-chrome-512x512.png": 512,
}


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def icon(files: dict[str, bytes], name: str) -> np.ndarray:
    with Image.open(io.BytesIO(files[name])) as im:
        return np.asarray(im.convert("RGBA"), dtype=np.float32)


def test_the_zip_holds_every_icon_at_its_size(photo, run_tool) -> None:
    output = run_tool("favicon", photo, {})
    files = unzip(output.path)
    assert set(files) == {*EXPECTED, "favicon.ico", "site.webmanifest"}
    assert output.media_type == "application/zip"
    for name, size in EXPECTED.items():
        with Image.open(io.BytesIO(files[name])) as im:
            assert (im.format, im.size) == ("PNG", (size, size)), name
    with Image.open(io.BytesIO(files["favicon.ico"])) as ico:
        assert ico.format == "ICO"
        assert ico.info["sizes"] == {(16, 16), (32, 32), (48, 48)}
        ico.size = (16, 16)
        assert ico.convert("RGBA").size == (16, 16)


def test_the_manifest_names_the_android_icons(photo, run_tool) -> None:
    files = unzip(run_tool("favicon", photo, {"backgroundColor": "#336699"}).path)
    manifest = json.loads(files["site.webmanifest"])
    assert [i["sizes"] for i in manifest["icons"]] == ["192x192", "512x512"]
    assert all(i["src"].lstrip("/") in files for i in manifest["icons"])
    assert manifest["background_color"] == "#336699"


def test_the_image_is_fitted_whole_inside_the_padding(photo, run_tool) -> None:
    pixels = icon(
        unzip(run_tool("favicon", photo, {"padding": 10}).path), "android-chrome-512x512.png"
    )
    opaque_rows = np.flatnonzero(pixels[:, 256, 3] > 0)
    opaque_cols = np.flatnonzero(pixels[256, :, 3] > 0)
    # 3:2 photo in a 410 px square (512 less 10% each side): 410 x 273, centred.
    assert opaque_cols[0] == pytest.approx(51, abs=1) and opaque_cols[-1] == pytest.approx(
        460, abs=1
    )
    assert len(opaque_rows) == pytest.approx(273, abs=2)


def test_background_and_radius(transparent, run_tool) -> None:
    settings = {"backgroundColor": "#ff0000", "borderRadius": 50, "padding": 20}
    files = unzip(run_tool("favicon", transparent, settings).path)
    pixels = icon(files, "android-chrome-512x512.png")
    assert pixels[3, 3, 3] == 0  # outside the circle
    assert list(pixels[256, 60]) == [255, 0, 0, 255]  # the background, inside the circle
    apple = icon(files, "apple-touch-icon.png")
    assert apple[:, :, 3].min() == 255 and list(apple[1, 1, :3]) == [255, 255, 255]


@pytest.mark.parametrize(
    "raw",
    [{"backgroundColor": "#zzzzzz"}, {"padding": 41}, {"borderRadius": 51}, {"borderRadius": -1}],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(favicon.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
