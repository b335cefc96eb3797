"""barcode-read: QR, EAN-13, Code128 and DataMatrix codes found on a photo."""

from __future__ import annotations

import pytest
import pyvips
import zxingcpp

from tools import registry, runner
from tools.base import ToolError

CODES = [
    (zxingcpp.BarcodeFormat.QRCode, "https://pixelsmith.example/q", "QRCode"),
    (zxingcpp.BarcodeFormat.EAN13, "5901234123457", "EAN13"),
    (zxingcpp.BarcodeFormat.Code128, "PIXEL-0042", "Code128"),
    (zxingcpp.BarcodeFormat.DataMatrix, "Pixelsmith DataMatrix", "DataMatrix"),
]


def code_image(fmt, text: str, scale: int) -> pyvips.Image:
    """A code drawn by zxing-cpp's writer, with its quiet zone, as a grey libvips image."""
    pixels = memoryview(zxingcpp.create_barcode(text, fmt).to_image(scale=scale))
    height, width = pixels.shape
    return pyvips.Image.new_from_memory(bytes(pixels), width, height, 1, "uchar")


def on_photo(photo, tmp_path, make_source, placed, rotate: int = 0):
    """The photo with codes pasted at (x, y), saved as a JPEG."""
    canvas = pyvips.Image.new_from_file(str(photo.path)).resize(2)
    for code, x, y in placed:
        if rotate:
            code = code.rotate(rotate)
        canvas = canvas.insert(code.bandjoin([code, code]), x, y)
    path = tmp_path / "codes.jpg"
    canvas.jpegsave(str(path), Q=90)
    return make_source(path)


@pytest.mark.parametrize(("fmt", "text", "name"), CODES, ids=[c[2] for c in CODES])
def test_it_reads_each_format_on_a_photo(run_tool, photo, tmp_path, make_source, fmt, text, name):
    code = code_image(fmt, text, 4)
    source = on_photo(photo, tmp_path, make_source, [(code, 150, 120)])
    found = run_tool("barcode-read", source, {}).data
    assert [(c["format"], c["text"]) for c in found["codes"]] == [(name, text)]
    corners = found["codes"][0]["position"]
    xs, ys = [p["x"] for p in corners], [p["y"] for p in corners]
    # The corners lie inside the pasted code.
    assert min(xs) >= 150 and max(xs) <= 150 + code.width
    assert min(ys) >= 120 and max(ys) <= 120 + code.height


def test_it_finds_several_codes_and_their_orientation(run_tool, photo, tmp_path, make_source):
    qr = code_image(*CODES[0][:2], 4)
    ean = code_image(*CODES[1][:2], 3)
    source = on_photo(photo, tmp_path, make_source, [(qr, 40, 40), (ean, 600, 400)], rotate=90)
    codes = run_tool("barcode-read", source, {}).data["codes"]
    assert sorted((c["format"], c["orientation"]) for c in codes) == [
        ("EAN13", 90),
        ("QRCode", 90),
    ]


def test_formats_narrow_the_search(run_tool, photo, tmp_path, make_source):
    qr = code_image(*CODES[0][:2], 4)
    ean = code_image(*CODES[1][:2], 3)
    source = on_photo(photo, tmp_path, make_source, [(qr, 40, 40), (ean, 600, 400)])
    codes = run_tool("barcode-read", source, {"formats": ["EAN13"]}).data["codes"]
    assert [c["format"] for c in codes] == ["EAN13"]


def test_a_generated_qr_code_round_trips(ctx, run_tool, make_source):
    tool = registry.get("qr-generate")
    assert tool is not None
    settings = {"data": "round trip ✓", "dotStyle": "dots", "colorLight": "transparent"}
    out = runner.execute(tool, [], runner.validate_settings(tool, settings), ctx)
    codes = run_tool("barcode-read", make_source(out.path), {}).data["codes"]
    assert [c["text"] for c in codes] == ["round trip ✓"]


def test_a_photo_without_codes_gives_an_empty_list(run_tool, photo):
    data = run_tool("barcode-read", photo, {}).data
    assert data["codes"] == [] and data["count"] == 0


def test_bad_input_is_refused(run_tool, run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_tool("barcode-read", photo, {"formats": ["Hieroglyphs"]})
    assert err.value.status == 400
    with pytest.raises(ToolError) as err:
        run_many("barcode-read", [photo, photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_tool("barcode-read", truncated_jpeg, {})
    assert err.value.status == 422
