"""tools.imaging: sniffing, the decoding guards, saving, error mapping."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
import pyvips
from PIL import Image

from tools import imaging
from tools.base import ToolError

HEIF_FTYP = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
AVIF_FTYP = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avifmiaf"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF89a\x01\x00", "gif"),
        (b"GIF87a\x01\x00", "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"BM" + b"\x00" * 12 + b"\x28\x00\x00\x00" + b"\x00" * 30, "bmp"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10" + b"\x00" * 20, "ico"),
        (HEIF_FTYP, "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (AVIF_FTYP, "avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\xff\x0a\x00", "jxl"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- made by hand -->\n<svg>', "svg"),
        (b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n  <svg>', "svg"),
    ],
)
def test_it_sniffs_formats_from_magic_bytes(head: bytes, expected: str) -> None:
    assert imaging.sniff_bytes(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello world\n",
        b"BMW is a car brand, not a bitmap",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomavc1",  # an MP4 video
        b"<html><svg></svg></html>",
        b"<!-- never closed <svg>",
    ],
)
def test_it_sniffs_unknown_content_as_none(head: bytes) -> None:
    assert imaging.sniff_bytes(head) is None


def test_it_sniffs_content_not_the_file_name(tmp_path: Path, fixtures: Path) -> None:
    disguised = tmp_path / "photo.jpg"
    disguised.write_bytes((fixtures / "transparent.png").read_bytes())
    assert imaging.sniff(disguised) == "png"
    assert imaging.open_source(disguised, "photo.jpg").format == "png"


def test_it_rejects_a_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n")
    with pytest.raises(ToolError) as caught:
        imaging.open_source(path, "notes.jpg")
    assert (caught.value.code, caught.value.status) == ("UNSUPPORTED_FORMAT", 400)
    assert "notes.jpg is not a supported image (detected: text)" in caught.value.message


def test_it_rejects_empty_and_binary_junk(tmp_path: Path) -> None:
    for data, detected in ((b"", "empty file"), (bytes(range(256)) * 4, "unknown")):
        path = tmp_path / "x.png"
        path.write_bytes(data)
        with pytest.raises(ToolError, match=f"detected: {detected}"):
            imaging.open_source(path, "x.png")


def test_it_sanitises_the_name_for_display(fixtures: Path) -> None:
    source = imaging.open_source(fixtures / "photo.jpg", "../../etc/\x1b[31mevil\n.jpg")
    assert source.name == "[31mevil.jpg"
    assert source.size == (fixtures / "photo.jpg").stat().st_size
    assert source.format == "jpeg"


def test_a_pdf_is_accepted_as_a_document_but_never_decoded_as_an_image(tmp_path: Path) -> None:
    # PDF is an upload only pdf-to-image reads (with PDFium); image tools refuse it.
    assert "pdf" not in imaging.supported_formats()
    path = tmp_path / "doc.png"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    source = imaging.open_source(path, "doc.png")
    assert source.format == "pdf"
    with pytest.raises(ToolError, match=r"not an image") as caught:
        imaging.load(source, 100)
    assert (caught.value.status, caught.value.code) == (400, "UNSUPPORTED_FORMAT")


def test_it_refuses_a_huge_png_header_before_decoding(huge_png, img) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ToolError) as caught:
        imaging.load(huge_png, max_megapixels=100)
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50_000, "decoding 60000x60000 would need ~10 GB"
    assert (caught.value.code, caught.value.status) == ("IMAGE_TOO_LARGE", 413)
    assert "60000x60000" in caught.value.message


def test_it_counts_all_loaded_pages_against_the_limit(tmp_path: Path, make_source) -> None:
    frames = [Image.new("RGB", (100, 100), (i * 40, 0, 0)) for i in range(5)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    source = make_source(tmp_path / "anim.gif")
    assert imaging.load(source, 1).height == 100  # one frame: 0.01 MP
    tiny_budget = imaging.load(source, 1, n=-1)
    assert tiny_budget.height == 500
    with pytest.raises(ToolError, match=r"over the 0 MP limit"):
        imaging.load(source, 0, n=-1)


def test_it_applies_exif_orientation_and_drops_the_tag(photo, photo_rotated, img) -> None:
    upright = imaging.load(photo_rotated, 100)
    assert (upright.width, upright.height) == (600, 400)
    assert imaging.orientation(upright) == 1
    reference = imaging.load(photo, 100)
    assert img.mad(upright.numpy().astype(float), reference.numpy().astype(float)) < 3


def test_it_can_leave_orientation_alone(photo_rotated) -> None:
    stored = imaging.load(photo_rotated, 100, autorotate=False)
    assert (stored.width, stored.height) == (400, 600)
    assert imaging.oriented_size(stored) == (600, 400)


def test_it_rotates_sequential_loads_too(photo_rotated) -> None:
    image = imaging.load(photo_rotated, 100, access="sequential")
    assert (image.width, image.height) == (600, 400)
    assert image.avg() > 0


def test_a_truncated_jpeg_fails_when_its_pixels_are_read(truncated_jpeg) -> None:
    image = imaging.load(truncated_jpeg, 100)  # the header is intact
    with pytest.raises(pyvips.Error) as caught:
        image.avg()
    error = imaging.vips_error(caught.value)
    assert (error.code, error.status) == ("CORRUPT_IMAGE", 422)
    assert "premature end" in error.message.lower()


def test_an_unparseable_header_is_a_corrupt_image(tmp_path: Path, make_source) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(ToolError) as caught:
        imaging.load(make_source(path), 100)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    assert "broken.png" in caught.value.message


def test_other_libvips_errors_are_processing_failures() -> None:
    with pytest.raises(pyvips.Error) as caught:
        pyvips.Image.black(10, 10).extract_area(20, 20, 5, 5)
    error = imaging.vips_error(caught.value)
    assert (error.code, error.status) == ("PROCESSING_FAILED", 422)
    assert error.message == "extract_area: bad extract area"


def test_error_messages_do_not_leak_server_paths() -> None:
    error = pyvips.Error("unable to call jpegsave", "vips2jpeg: unable to write /srv/x/y/z.jpg\n")
    assert imaging.vips_message(error) == "vips2jpeg: unable to write z.jpg"


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "tiff", "gif", "heif"])
def test_it_saves_every_writable_format(fmt: str, transparent, tmp_path: Path, img) -> None:
    image = imaging.load(transparent, 100)
    path = imaging.save(image, tmp_path / f"out{imaging.extension(fmt)}", fmt)
    assert imaging.sniff(path) == fmt
    pixels = img.decode(path)
    assert pixels.shape[:2] == (300, 451)
    assert pixels.shape[2] == (3 if fmt == "jpeg" else 4)


def test_jpeg_flattens_transparency_onto_white(transparent, tmp_path: Path, img) -> None:
    path = imaging.save(imaging.load(transparent, 100), tmp_path / "o.jpg", "jpeg")
    corner = img.decode(path)[:20, :20]
    assert corner.min() > 245


def test_save_strips_metadata_unless_asked_to_keep_it(photo, tmp_path: Path) -> None:
    image = imaging.load(photo, 100)
    stripped = pyvips.Image.new_from_file(str(imaging.save(image, tmp_path / "a.jpg", "jpeg")))
    kept = pyvips.Image.new_from_file(
        str(imaging.save(image, tmp_path / "b.jpg", "jpeg", strip=False))
    )
    assert stripped.get_typeof("exif-data") == 0
    assert kept.get("exif-ifd0-Make").startswith("Pixelsmith")


def test_quality_defaults_are_sensible(photo, tmp_path: Path) -> None:
    image = imaging.load(photo, 100)
    default = imaging.save(image, tmp_path / "d.jpg", "jpeg").stat().st_size
    q80 = imaging.save(image, tmp_path / "q80.jpg", "jpeg", quality=80).stat().st_size
    q30 = imaging.save(image, tmp_path / "q30.jpg", "jpeg", quality=30).stat().st_size
    assert default == q80 > q30
    assert imaging.encode.DEFAULT_QUALITY == {"jpeg": 80, "webp": 80, "avif": 50, "heif": 50}


def test_extension_and_media_type_helpers() -> None:
    assert (imaging.extension("jpeg"), imaging.media_type("jpeg")) == (".jpg", "image/jpeg")
    assert (imaging.extension("heif"), imaging.media_type("heif")) == (".heic", "image/heic")
    assert imaging.media_type("avif") == "image/avif"
    assert imaging.output_format(None, "bmp") == "png"
    assert imaging.output_format(None, "webp") == "webp"
    assert imaging.output_format("avif", "jpeg") == "avif"


def test_it_decodes_bmp_ico_heic_and_svg(tmp_path: Path, transparent, make_source) -> None:
    with Image.open(transparent.path) as im:
        im.convert("RGB").save(tmp_path / "a.bmp")
        im.save(tmp_path / "a.ico", sizes=[(64, 64)])
        im.save(tmp_path / "a.heic", quality=90)
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
        '<rect width="60" height="80" fill="red"/></svg>'
    )
    (tmp_path / "a.svg").write_text(svg)
    sizes = {}
    for name in ("a.bmp", "a.ico", "a.heic", "a.svg"):
        image = imaging.load(make_source(tmp_path / name), 100)
        sizes[name] = (image.width, image.height, image.bands)
    assert sizes["a.bmp"] == (451, 300, 3)
    assert sizes["a.ico"][2] == 4 and max(sizes["a.ico"][:2]) == 64
    assert sizes["a.heic"] == (451, 300, 4)
    assert sizes["a.svg"] == (120, 80, 4)


def test_configure_sets_concurrency_and_a_small_cache() -> None:
    previous = pyvips.concurrency_get()
    try:
        imaging.configure(concurrency=2)
        assert pyvips.concurrency_get() == 2
        assert pyvips.cache_get_max() <= 100
    finally:
        pyvips.concurrency_set(previous)


def test_without_the_operation_cache_no_file_is_held_so_none_is_released() -> None:
    """The web process: each request's image once, no trim of a cache after each job."""
    try:
        imaging.configure(operation_cache=False)
        assert pyvips.cache_get_max() == 0
        pyvips.cache_set_max_files(7)
        imaging.release_cached_files()
        assert pyvips.cache_get_max_files() == 7  # not trimmed: there is nothing to close
    finally:
        imaging.configure()
    assert pyvips.cache_get_max() == 64
    imaging.release_cached_files()
    assert pyvips.cache_get_max_files() == 16


def test_engine_names_say_which_libraries_ran() -> None:
    assert imaging.engine_name("jpeg", "png").startswith("libvips 8.")
    assert "pillow-heif" in imaging.engine_name("jpeg", "heif")
    assert "Pillow" in imaging.engine_name("bmp", "png")
