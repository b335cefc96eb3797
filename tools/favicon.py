"""Favicon generator: every standard icon size from one image, in a ZIP.

The ZIP holds favicon.ico (16, 32 and 48 px inside, PNG-compressed entries),
favicon-16x16.png, favicon-32x32.png, apple-touch-icon.png (180 px),
android-chrome-192x192.png, android-chrome-512x512.png and a site.webmanifest naming
the Android icons.

The image is fitted whole into a square (never cropped, centred), inside `padding`
percent of the icon's width on each side, over `backgroundColor` (transparent by
default), and the square's corners are rounded by `borderRadius` percent of its width
(50 makes a circle). Percentages keep every size looking the same. One 512 px master
is drawn (anti-aliased corners) and scaled down to each size with Lanczos3, alpha
premultiplied. The Apple icon is flattened onto white where it would be transparent:
iOS shows transparency as black.

Limits: the first page/frame of the input; a small input is scaled up to 512 px.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pyvips
from PIL import Image
from pydantic import Field

from tools import archive, colour, encode, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings
from tools.fields import RGBA, HexColor, parse_color

MASTER = 512
ICO_SIZES = (16, 32, 48)
PNG_FILES = {
    "favicon-16x16.png": 16,
    "favicon-32x32.png": 32,
    "apple-touch-icon.png": 180,
    "android-chrome-192x192.png": 192,
    "android-chrome-512x512.png": 512,
}
_ANDROID = ("android-chrome-192x192.png", "android-chrome-512x512.png")


class Settings(ToolSettings):
    """Padding and corner radius in percent of the icon's width; the background colour."""

    padding: float = Field(0, ge=0, le=40, description="Space on each side, % of the width.")
    backgroundColor: HexColor = Field("transparent", description="Behind the image.")
    borderRadius: float = Field(0, ge=0, le=50, description="Corner radius, % (50: circle).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Draw a 512 px master icon and write every size (and the manifest) into a ZIP."""
    source = inputs[0]
    ctx.progress(5, "decoding")
    image = imaging.load(source, ctx.max_megapixels, access="sequential")
    background = parse_color(settings.backgroundColor)
    master = draw_master(image, settings, background).copy_memory()
    ctx.progress(50, "writing the icons")
    members: list[tuple[str, bytes]] = [("favicon.ico", _ico(master))]
    for name, size in PNG_FILES.items():
        ctx.check_cancelled()
        icon = _resize(master, size / MASTER)
        if name == "apple-touch-icon.png":
            icon = icon.flatten(background=[255, 255, 255])
        members.append((name, icon.write_to_buffer(".png", compression=9)))
    members.append(("site.webmanifest", _manifest(background)))
    path = archive.write_zip(ctx, members, compress=True)
    ctx.progress(100, "done")
    engine = f"{imaging.engine_name(source.format)} + {encode.pillow_version()} (ICO)"
    return archive.zip_output(path, "favicons.zip", engine, contents=[name for name, _ in members])


def draw_master(image: pyvips.Image, s: Settings, background: RGBA) -> pyvips.Image:
    """The 512 px sRGBA icon: the image fitted in the padded square, over the background,
    with rounded corners."""
    image = colour.to_rgb(image)  # grey, 16-bit and CMYK inputs become 8-bit sRGB
    if not image.hasalpha():
        image = image.bandjoin(255)
    inner = max(1, round(MASTER * (1 - 2 * s.padding / 100)))
    fitted = _resize(image, inner / max(image.width, image.height))
    canvas = pyvips.Image.black(MASTER, MASTER, bands=4).new_from_image(list(background))
    canvas = canvas.copy(interpretation="srgb")
    left, top = (MASTER - fitted.width) // 2, (MASTER - fitted.height) // 2
    icon = canvas.composite2(fitted, "over", x=left, y=top).cast("uchar")
    if s.borderRadius > 0:
        icon = icon[:3].bandjoin(icon[3] * _rounded_mask(s.borderRadius) / 255).cast("uchar")
    return icon


def _rounded_mask(radius_percent: float) -> pyvips.Image:
    """A 512 px anti-aliased rounded-square mask (255 inside), rendered by librsvg."""
    radius = MASTER * radius_percent / 100
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{MASTER}" height="{MASTER}">'
        f'<rect width="{MASTER}" height="{MASTER}" rx="{radius:.2f}" fill="#fff"/></svg>'
    )
    return pyvips.Image.svgload_buffer(svg.encode())[3]


def _resize(image: pyvips.Image, factor: float) -> pyvips.Image:
    """Lanczos3 on an sRGBA image, premultiplied so transparent pixels don't bleed."""
    resized = image.premultiply().resize(factor, kernel="lanczos3").unpremultiply()
    return resized.cast("uchar").copy(interpretation="srgb")


def _ico(master: pyvips.Image) -> bytes:
    """favicon.ico with the 16, 32 and 48 px icons we drew (not Pillow's own resizes)."""
    icons = [_pillow(_resize(master, size / MASTER)) for size in ICO_SIZES]
    buffer = io.BytesIO()
    sizes = [(size, size) for size in ICO_SIZES]
    icons[-1].save(buffer, format="ICO", sizes=sizes, append_images=icons[:-1])
    return buffer.getvalue()


def _pillow(icon: pyvips.Image) -> Image.Image:
    return Image.frombytes("RGBA", (icon.width, icon.height), icon.write_to_memory())


def _manifest(background: RGBA) -> bytes:
    """A web app manifest for the Android icons; colours from the background (or white)."""
    colour = "#{:02x}{:02x}{:02x}".format(*background[:3]) if background[3] else "#ffffff"
    icons = [
        {"src": f"/{name}", "sizes": f"{PNG_FILES[name]}x{PNG_FILES[name]}", "type": "image/png"}
        for name in _ANDROID
    ]
    manifest = {
        "name": "",
        "short_name": "",
        "icons": icons,
        "theme_color": colour,
        "background_color": colour,
        "display": "standalone",
    }
    return json.dumps(manifest, indent=2).encode()


TOOL = Tool(
    id="favicon",
    name="Favicon Generator",
    category="optimization",
    description="favicon.ico (16/32/48), PNG favicons, Apple and Android icons and a "
    "site.webmanifest, in a ZIP.",
    settings=Settings,
    run=run,
    output=OutputKind.DOCUMENT,
)
