"""Remove background: cut out the subject with a segmentation model, then make the
background transparent, a colour, another image, or a blur of itself.

Models (`model`):
- `auto` (default) and `u2netp`: rembg's U²-Net small, shipped, for any subject. It runs
  through rembg's own `U2netpSession` (its 320x320 normalisation and output scaling) on
  our verified onnxruntime session (tools.ai.rembg_session): rembg never downloads.
- `selfie` (`mediapipe-selfie-segmenter`): MediaPipe's selfie segmenter, shipped, made
  for people (tools.ai.mediapipe_tasks.segment_person).
- `birefnet-general`, `isnet-general-use`: rembg's BiRefNet and ISNet sessions, run the
  same way as u2netp once an admin installs them; 503 MODEL_NOT_INSTALLED until then.

The model sees the image shrunk to at most 2048 px on its longest side (u2netp itself
sees 320x320); its mask is scaled back to the full size with a linear kernel, so memory
stays about one byte per pixel over the image itself. An input's own transparency is
kept: the cut-out's alpha is the mask times it.

`alphaMatting` refines the mask's edges with rembg's alpha matting (pymatting's
closed-form matting on a trimap: mask above `alphaMattingForeground` is subject, below
`alphaMattingBackground` is background, both eroded by `alphaMattingErodeSize` px), which
also unmixes the subject's colours on soft edges (hair). Closed-form matting takes about
1 GB of memory per megapixel (and seconds), so it runs on at most 1 MP: a larger image is
matted at that size and the refined alpha scaled up (its colours are then the original
ones, as they are for 16-bit images).

`background`: `transparent` (default); `color` with `backgroundColor` (a hex colour is also
accepted as `background` itself); `image` with `backgroundImage`, a base64 PNG/JPEG/WebP
(or data: URL) scaled to cover the image and centred - the tool takes one file so that it
works in pipelines and batches, hence the second image travels in the settings, as the
object eraser's mask does; `blur` with `blurRadius` (Gaussian sigma in px): the image's
own background, blurred with the subject masked out (no halo of subject colours), under
the sharp subject.

`returnMask` returns the mask (greyscale, 255 = subject) instead of a cut-out.
`cropToSubject` crops to the box of pixels whose alpha is over 10 %, plus `cropPadding`
px on each side (within the image).

Output: `format`, else the input's format where it can hold the result (a transparent
result from a JPEG comes out PNG; WebP, AVIF, TIFF and HEIF keep theirs), PNG for the
mask. JPEG only where the result is opaque (an opaque colour, an image or blurred
background, or the mask), otherwise 400. Limits: the first page/frame only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pyvips
from PIL import Image
from pydantic import Field, field_validator, model_validator

from tools import arrays, colour, imaging
from tools.ai import rembg_session
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import HexColor, ImageFormat, ModeSettings, Quality, parse_color

U2NETP = "u2netp"
SELFIE = "mediapipe-selfie-segmenter"
_MODELS = {
    "auto": U2NETP,
    "u2netp": U2NETP,
    "selfie": SELFIE,
    SELFIE: SELFIE,
    "birefnet-general": "birefnet-general",
    "isnet-general-use": "isnet-general-use",
}
ModelName = Literal[
    "auto",
    "u2netp",
    "selfie",
    "mediapipe-selfie-segmenter",
    "birefnet-general",
    "isnet-general-use",
]
_MODEL_SIDE = 2048  # the longest side handed to a segmenter (u2netp sees 320, BiRefNet 1024)
_MATTING_PIXELS = 1_000_000  # closed-form matting: ~1 GB per megapixel (measured)
_SUBJECT_ALPHA = 26  # alpha above 10 % counts as subject for cropToSubject
_BLUR_SIGMA_AT_WORK = 8.0  # big blurs run on a shrunk copy, at this sigma
_ALPHA_DEFAULTS = frozenset({"png", "webp", "avif", "tiff", "heif"})  # input formats kept
_MAX_BACKGROUND_B64 = 6_000_000  # characters (~4.5 MB of image); the form limit is lower


class _Common(ToolSettings):
    """What every background mode takes: the model, matting, mask, crop and output."""

    model: ModelName = Field(
        "auto",
        description="auto (u2netp), selfie (people), or an "
        "installed rembg model (birefnet-general, isnet-general-use).",
    )
    alphaMatting: bool = Field(False, description="Refine the edges with alpha matting.")
    alphaMattingForeground: int = Field(
        240, ge=1, le=255, description="Mask value above which a pixel is surely subject."
    )
    alphaMattingBackground: int = Field(
        10, ge=0, le=254, description="Mask value below which a pixel is surely background."
    )
    alphaMattingErodeSize: int = Field(
        10, ge=0, le=100, description="Erosion of the sure areas, px (at matting size)."
    )
    returnMask: bool = Field(False, description="Return the greyscale mask instead.")
    cropToSubject: bool = Field(False, description="Crop to the subject's bounding box.")
    cropPadding: int = Field(0, ge=0, le=10000, description="Margin kept around it, px.")
    format: ImageFormat | None = Field(
        None, description="Default png (or the input's format if it holds alpha)."
    )
    quality: Quality | None = None

    def transparent_result(self) -> bool:
        """Whether the result needs an alpha band (known from the settings alone)."""
        return False

    @model_validator(mode="after")
    def _consistent(self) -> _Common:
        if self.alphaMattingBackground >= self.alphaMattingForeground:
            raise ValueError("alphaMattingBackground must be below alphaMattingForeground")
        if self.returnMask and getattr(self, "background", "transparent") != "transparent":
            raise ValueError("returnMask returns the mask: it takes no background")
        if self.format == "jpeg" and self.transparent_result() and not self.returnMask:
            raise ValueError(
                "JPEG has no transparency: choose png or webp, or an opaque background"
            )
        return self


class Transparent(_Common):
    """The background becomes transparent."""

    background: Literal["transparent"] = "transparent"

    def transparent_result(self) -> bool:
        return True


class Colour(_Common):
    """The subject on a colour (#rrggbbaa may be translucent)."""

    background: Literal["color"]
    backgroundColor: HexColor = "#ffffff"

    def transparent_result(self) -> bool:
        return parse_color(self.backgroundColor)[3] < 255


class Picture(_Common):
    """The subject over another image, scaled to cover and centred."""

    background: Literal["image"]
    backgroundImage: str = Field(
        min_length=1,
        max_length=_MAX_BACKGROUND_B64,
        description="The background image: base64 PNG/JPEG/WebP, or a data: URL.",
    )

    @field_validator("backgroundImage")
    @classmethod
    def _base64(cls, value: str) -> str:
        decode_image(value)
        return value


class Blur(_Common):
    """The subject sharp over its own background, blurred."""

    background: Literal["blur"]
    blurRadius: float = Field(20, ge=1, le=500, description="Gaussian sigma, px.")


Background = Transparent | Colour | Picture | Blur


class Settings(ModeSettings[Annotated[Background, Field(discriminator="background")]]):
    """Model, matting, mask, crop, output; one model per `background` (left out:
    transparent). A hex colour as `background`, or `backgroundColor`/`backgroundImage`
    alone, pick the colour/image background."""

    default_mode = "transparent"

    @model_validator(mode="before")
    @classmethod
    def _shortcuts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        value = data.get("background")
        if isinstance(value, str) and value.startswith("#"):
            return {**data, "background": "color", "backgroundColor": value}
        if value == "colour":
            return {**data, "background": "color"}
        if value is None and "backgroundColor" in data:
            return {**data, "background": "color"}
        if value is None and "backgroundImage" in data:
            return {**data, "background": "image"}
        return data


BACKGROUND_FORMATS = frozenset({"png", "jpeg", "webp"})


def decode_image(value: str) -> bytes:
    """The bytes of the base64 background image (PNG, JPEG or WebP)."""
    return imaging.decode_base64(value, BACKGROUND_FORMATS)


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Segment, (optionally) matte, then compose or return the mask; see the docstring."""
    s = settings.root
    source = inputs[0]
    model_id = _MODELS[s.model]
    ctx.progress(5, "decoding")
    parts = colour.split(imaging.load(source, ctx.max_megapixels))
    size = (parts.colour.width, parts.colour.height)
    ctx.progress(10, f"segmenting ({model_id})")
    small = _model_input(parts)
    ctx.check_cancelled()
    mask, runs = _segment(ctx, model_id, small)
    ctx.check_cancelled()
    foreground: pyvips.Image | None = None
    extras: dict[str, Any] = {"model": model_id, "background": s.background}
    if s.alphaMatting:
        ctx.progress(35, "alpha matting")
        mask, foreground, extras["alphaMatting"] = _matte(parts, mask, s)
        if extras["alphaMatting"]["applied"]:
            runs.append(_matting_run())
    ctx.check_cancelled()
    ctx.progress(60, "composing")
    result, alpha = _compose(parts, _full_size(mask, size), foreground, s, ctx)
    if s.cropToSubject:
        box = _subject_box(alpha, s.cropPadding)
        result = result.crop(*box)
        extras["subjectBox"] = dict(zip(("left", "top", "width", "height"), box, strict=True))
    output = imaging.write_image(
        result, ctx, _output_format(s, source.format), source, quality=s.quality
    )
    output.extras = extras
    return credit(output, [*runs, Run(engine=output.engine)])


# --- segmenting ---------------------------------------------------------------------------


def _model_input(parts: colour.Split) -> Image.Image:
    """8-bit RGB, at most _MODEL_SIDE px long, transparent areas flattened onto white."""
    image = parts.colour if parts.alpha is None else parts.colour.bandjoin(parts.alpha)
    longest = max(image.width, image.height)
    if longest > _MODEL_SIDE:
        image = image.resize(_MODEL_SIDE / longest, kernel="lanczos3")
    if parts.format == "ushort":
        image = (image / 257).cast("uchar")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    pixels = arrays.to_array(image.cast("uchar"))
    return Image.fromarray(pixels, mode="RGB")


def _segment(ctx: Context, model_id: str, image: Image.Image) -> tuple[Image.Image, list[Any]]:
    """The model's mask ("L", the model input's size) and the run's description."""
    if model_id == SELFIE:
        from tools.ai.mediapipe_tasks import segment_person

        found, described = segment_person(ctx, np.asarray(image))
        mask = Image.fromarray(np.rint(found * 255).astype(np.uint8), mode="L")
        return mask, [described]
    mask, described = rembg_session.predict_mask(ctx, model_id, image)
    return mask, [described]


def _matte(
    parts: colour.Split, mask: Image.Image, s: _Common
) -> tuple[Image.Image, pyvips.Image | None, dict[str, Any]]:
    """rembg's alpha matting at most _MATTING_PIXELS: (new mask, unmixed colours or None,
    what was done). The unmixed colours are used only at full size for 8-bit images."""
    width, height = parts.colour.width, parts.colour.height
    factor = min(1.0, (_MATTING_PIXELS / (width * height)) ** 0.5)
    work = parts.colour if factor == 1 else parts.colour.resize(factor, kernel="lanczos3")
    if parts.format == "ushort":
        work = (work / 257).cast("uchar")
    image = Image.fromarray(arrays.to_array(work.cast("uchar")), mode="RGB")
    work_mask = mask.resize(image.size, Image.Resampling.BILINEAR)
    cutout = rembg_session.alpha_matting(
        image,
        work_mask,
        s.alphaMattingForeground,
        s.alphaMattingBackground,
        s.alphaMattingErodeSize,
    )
    if cutout is None:
        return mask, None, {"applied": False, "reason": "pymatting refused the trimap of this mask"}
    pixels = np.asarray(cutout)
    done = {"applied": True, "size": {"width": image.width, "height": image.height}}
    if factor < 1 or parts.format != "uchar":
        return Image.fromarray(pixels[..., 3], mode="L"), None, done
    unmixed = arrays.from_array(pixels[..., :3], "srgb", like=parts.colour)
    return Image.fromarray(pixels[..., 3], mode="L"), unmixed, done


def _matting_run() -> Run:
    bg = f"{rembg_session.rembg_version()} alpha matting"
    return Run(engine=f"{bg} ({rembg_session.pymatting_version()}, closed-form)")


def _full_size(mask: Image.Image, size: tuple[int, int]) -> pyvips.Image:
    """The mask at the image's size (uchar, linear: no ringing), held in memory (it is
    read several times)."""
    small = arrays.from_array(np.asarray(mask, dtype=np.uint8), "b-w")
    if (small.width, small.height) != size:
        small = small.resize(size[0] / small.width, vscale=size[1] / small.height, kernel="linear")
    return small.cast("uchar").copy_memory()


# --- composing ----------------------------------------------------------------------------


def _compose(
    parts: colour.Split,
    subject: pyvips.Image,
    foreground: pyvips.Image | None,
    s: Background,
    ctx: Context,
) -> tuple[pyvips.Image, pyvips.Image]:
    """(the image to write, the subject's alpha 0..255 for cropping)."""
    alpha = subject if parts.alpha is None else _times(subject, parts.alpha, parts.peak)
    if s.returnMask:
        return alpha.copy(interpretation="b-w"), alpha
    fg = (parts.colour if foreground is None else foreground).cast("float")
    a = alpha.cast("float") / 255
    peak = parts.peak
    if isinstance(s, Transparent):
        return _join(fg, a, parts), alpha
    if isinstance(s, Colour):
        r, g, b, opacity = parse_color(s.backgroundColor)
        scale = peak / 255
        bg = parts.colour.new_from_image([r * scale, g * scale, b * scale]).cast("float")
        return _over(fg, a, bg, opacity / 255, parts), alpha
    if isinstance(s, Picture):
        bg, bg_alpha = _background_image(s.backgroundImage, parts, ctx)
        return _over(fg, a, bg, bg_alpha, parts), alpha
    # blur: the image's own background, its transparency kept as it was
    m = subject.cast("float") / 255
    bg = _masked_blur(parts.colour.cast("float"), m, s.blurRadius)
    mixed = bg + (fg - bg) * m
    keep = None if parts.alpha is None else parts.alpha.cast("float") / peak
    return _join(mixed, keep, parts), alpha


def _times(a: pyvips.Image, b: pyvips.Image, peak: float) -> pyvips.Image:
    """Two alphas multiplied: `a` 0..255, `b` 0..peak -> 0..255 uchar."""
    return (a.cast("float") * b.cast("float") / peak).rint().cast("uchar")


def _join(colour_bands: pyvips.Image, a: pyvips.Image | None, parts: colour.Split) -> pyvips.Image:
    """Float colour (and 0..1 alpha) back to the image's band format."""
    peak = parts.peak
    out = colour_bands.clamp(min=0, max=peak).rint().cast(parts.format)
    out = out.copy(interpretation=parts.interpretation)
    if a is None:
        return out
    return out.bandjoin((a * peak).clamp(min=0, max=peak).rint().cast(parts.format))


def _over(
    fg: pyvips.Image,
    a: pyvips.Image,
    bg: pyvips.Image,
    bg_alpha: float | pyvips.Image,
    parts: colour.Split,
) -> pyvips.Image:
    """Porter-Duff `over` of the subject (0..1 alpha `a`) on a background."""
    if isinstance(bg_alpha, float) and bg_alpha >= 1:
        return _join(bg + (fg - bg) * a, None, parts)
    out_a = a + bg_alpha * (1 - a)
    mixed = (fg * a + bg * bg_alpha * (1 - a)) / out_a  # libvips: x / 0 = 0
    return _join(mixed, out_a, parts)


def _masked_blur(image: pyvips.Image, subject: pyvips.Image, sigma: float) -> pyvips.Image:
    """The background blurred with the subject left out (a normalised convolution), so
    the subject's colours do not bleed into it. Big blurs run on a shrunk copy."""
    width, height = image.width, image.height
    factor = max(1.0, sigma / _BLUR_SIGMA_AT_WORK)
    weight = 1 - subject
    layers = image * weight
    if factor > 1:
        layers = layers.resize(1 / factor, kernel="linear")
        weight = weight.resize(1 / factor, kernel="linear")
    blur = sigma / factor
    numerator, denominator = layers.gaussblur(blur), weight.gaussblur(blur)
    plain = image if factor == 1 else image.resize(1 / factor, kernel="linear")
    # Deep inside a large subject no background is near: a plain blur stands in.
    background = (denominator > 1e-3).ifthenelse(numerator / denominator, plain.gaussblur(blur))
    if factor > 1:  # held in memory (it is small), so scaling up does not recompute it
        background = background.copy_memory().resize(
            width / background.width, vscale=height / background.height, kernel="linear"
        )
    return background


def _background_image(
    value: str, parts: colour.Split, ctx: Context
) -> tuple[pyvips.Image, float | pyvips.Image]:
    """The background image (colour as float in the image's range, alpha 0..1 or 1.0),
    scaled to cover the image and centred."""
    path = ctx.scratch_path(f"background-{uuid.uuid4().hex[:12]}")
    path.write_bytes(decode_image(value))
    picture = colour.split(
        imaging.load(imaging.open_source(path, "backgroundImage"), ctx.max_megapixels)
    )
    width, height = parts.colour.width, parts.colour.height
    bands = picture.colour if picture.alpha is None else picture.colour.bandjoin(picture.alpha)
    scale = max(width / bands.width, height / bands.height)
    bands = bands.resize(scale, kernel="lanczos3")
    left, top = (bands.width - width) // 2, (bands.height - height) // 2
    bands = bands.crop(
        max(left, 0), max(top, 0), min(width, bands.width), min(height, bands.height)
    )
    if bands.width < width or bands.height < height:  # rounding: a pixel short
        bands = bands.embed(0, 0, width, height, extend="copy")
    to_range = parts.peak / picture.peak
    bg = bands.extract_band(0, n=3).cast("float") * to_range
    if picture.alpha is None:
        return bg, 1.0
    return bg, bands[3].cast("float") / picture.peak


def _subject_box(alpha: pyvips.Image, padding: int) -> tuple[int, int, int, int]:
    """(left, top, width, height) of alpha over 10 %, padded within the image; 422 if
    there is no subject."""
    columns, rows = (alpha > _SUBJECT_ALPHA).project()
    xs = np.flatnonzero(arrays.to_array(columns).ravel())
    ys = np.flatnonzero(arrays.to_array(rows).ravel())
    if xs.size == 0 or ys.size == 0:
        raise ToolError("NO_SUBJECT_FOUND", "no subject was found to crop to", 422)
    left, top = max(int(xs[0]) - padding, 0), max(int(ys[0]) - padding, 0)
    right = min(int(xs[-1]) + 1 + padding, alpha.width)
    bottom = min(int(ys[-1]) + 1 + padding, alpha.height)
    return left, top, right - left, bottom - top


def _output_format(s: Background, source_format: str) -> str:
    if s.format:
        return s.format
    if s.returnMask:
        return "png"
    if not s.transparent_result():
        return imaging.output_format(None, source_format)
    return source_format if source_format in _ALPHA_DEFAULTS else "png"


TOOL = Tool(
    id="remove-background",
    name="Remove Background",
    category="ai",
    description="Cut out the subject (rembg's U²-Net small, MediaPipe selfie segmenter for "
    "people; BiRefNet/ISNet when installed), optionally with alpha matting; transparent, "
    "colour, image or blurred background, or the mask; crop to the subject.",
    settings=Settings,
    run=run,
    models=(U2NETP, SELFIE, "birefnet-general", "isnet-general-use"),
    inline=False,
)
