"""image-to-base64: the file as Base64 or a data URI, optionally re-encoded."""

from __future__ import annotations

import base64

import pytest
import pyvips

from tools.base import ToolError


def test_a_data_uri_holds_the_files_own_bytes(run_tool, photo):
    data = run_tool("image-to-base64", photo, {}).data
    prefix = "data:image/jpeg;base64,"
    assert data["base64"].startswith(prefix) and data["mimeType"] == "image/jpeg"
    assert base64.b64decode(data["base64"][len(prefix) :]) == photo.path.read_bytes()
    assert data["bytes"] == photo.size and data["length"] == len(data["base64"])


def test_plain_base64_re_encoded_as_png_decodes_to_the_same_image(run_tool, photo, img):
    data = run_tool("image-to-base64", photo, {"format": "plain", "mimeType": "image/png"}).data
    raw = base64.b64decode(data["base64"], validate=True)
    assert raw.startswith(b"\x89PNG") and data["mimeType"] == "image/png"
    again = pyvips.Image.new_from_buffer(raw, "").numpy().astype("float32")
    assert img.ssim(again, img.decode(photo.path)) > 0.99


@pytest.mark.parametrize("bad", [{"format": "hex"}, {"mimeType": "image/bmp"}])
def test_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("image-to-base64", photo, bad)
    assert err.value.status == 400


def test_a_truncated_jpeg_is_422_even_when_its_bytes_would_pass_through(run_tool, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_tool("image-to-base64", truncated_jpeg, {})
    assert err.value.status == 422
