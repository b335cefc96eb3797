"""Adjust colors: exposure, brightness, contrast, saturation, vibrance, temperature,
sharpness, and the effects grayscale, sepia, invert and vignette.

Each setting is 0 (no change) by default and bounded; they apply in this order:
1. `exposure` in stops (EV, -5..5): multiplies linear light (scRGB) by 2^EV.
2. In CIELAB (perceptual lightness L 0..100, chroma from a/b):
   - `brightness` -100..100: lifts L towards white (positive) or scales it towards
     black (negative), so black and white stay put and nothing clips.
   - `contrast` -100..100: stretches L around mid-grey (L 50) by 1 + contrast/100.
   - `saturation` -100..100: scales chroma by 1 + saturation/100 (-100 is grey).
   - `vibrance` -100..100: like saturation, weighted to muted colours (chroma 100 and
     above are left alone), so skin and skies don't go garish.
   - `temperature` -100..100: shifts b* (blue-yellow) by up to 30, warmer when positive.
3. `sharpness` 0..100: libvips' adaptive sharpen (sigma 1) on lightness.
4. `effects`, in this order whatever the list's: grayscale (luminance), sepia (the
   classic sepia matrix), invert, vignette (darkens towards the corners by
   `vignetteStrength` percent at the corners, quadratic falloff).

Alpha is never changed. 16-bit images are adjusted in 16 bits. Limits: the first
page/frame only; RGB is treated as sRGB (see `tools.colour`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import pyvips
from pydantic import BeforeValidator, Field

from tools import colour, imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import ImageOutputSettings

Effect = Literal["grayscale", "sepia", "invert", "vignette"]
_EFFECT_ORDER: tuple[Effect, ...] = ("grayscale", "sepia", "invert", "vignette")
_CHROMA_FULL = 100.0  # vibrance leaves colours this saturated (and more) alone
_TEMPERATURE_B = 0.3  # b* shift per temperature step: +-30 at the ends
_SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]

Level = Annotated[float, Field(ge=-100, le=100)]


def _as_list(value: Any) -> Any:
    """Accept a single effect name as well as a list of them."""
    return [value] if isinstance(value, str) else value


class Settings(ImageOutputSettings):
    """Every adjustment is 0 (off) by default; `effects` is a list of effect names."""

    brightness: Level = Field(0, description="-100 (black) .. 100 (white).")
    contrast: Level = Field(0, description="-100 (flat grey) .. 100 (double).")
    exposure: float = Field(0, ge=-5, le=5, description="Stops (EV): +1 doubles the light.")
    saturation: Level = Field(0, description="-100 (grey) .. 100 (double chroma).")
    temperature: Level = Field(0, description="Negative cooler (bluer), positive warmer.")
    sharpness: float = Field(0, ge=0, le=100, description="Adaptive sharpening amount.")
    vibrance: Level = Field(0, description="Saturation favouring muted colours.")
    effects: Annotated[list[Effect], BeforeValidator(_as_list)] = Field(
        default_factory=list, max_length=4, description="grayscale, sepia, invert, vignette."
    )
    vignetteStrength: float = Field(50, ge=0, le=100, description="Darkening at the corners, %.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Apply the adjustments to one image; see the module docstring for order and units."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    parts = colour.split(imaging.load(source, ctx.max_megapixels))
    ctx.progress(30, "adjusting")
    rgb = tone(parts, settings)
    if settings.sharpness > 0:
        rgb = rgb.sharpen(sigma=1.0, m1=0, m2=settings.sharpness / 25)
    for effect in _EFFECT_ORDER:
        if effect in settings.effects:
            rgb = _EFFECTS[effect](rgb, parts, settings)
    return imaging.write_image(colour.join(parts, rgb), ctx, fmt, source, quality=settings.quality)


def tone(parts: colour.Split, s: Settings) -> pyvips.Image:
    """Exposure in linear light, then lightness and colour in CIELAB."""
    if not any((s.exposure, s.brightness, s.contrast, s.saturation, s.vibrance, s.temperature)):
        return parts.colour
    rgb = parts.colour.copy(interpretation=parts.interpretation)
    if s.exposure:
        rgb = rgb.colourspace("scrgb") * 2**s.exposure
    lab = rgb.colourspace("lab")
    lightness = _contrast(_brightness(lab[0], s.brightness), s.contrast)
    a, b = _chroma(lab[1], lab[2], s.saturation, s.vibrance)
    b = b + s.temperature * _TEMPERATURE_B
    return colour.from_lab(lightness.bandjoin([a, b]), parts)


def _brightness(lightness: pyvips.Image, amount: float) -> pyvips.Image:
    k = amount / 100
    if k >= 0:
        return lightness + (100 - lightness) * k
    return lightness * (1 + k)


def _contrast(lightness: pyvips.Image, amount: float) -> pyvips.Image:
    return (lightness - 50) * (1 + amount / 100) + 50


def _chroma(
    a: pyvips.Image, b: pyvips.Image, saturation: float, vibrance: float
) -> tuple[pyvips.Image, pyvips.Image]:
    """Scale chroma (the a/b vector: hue kept) by saturation and chroma-weighted vibrance."""
    if not saturation and not vibrance:
        return a, b
    factor: pyvips.Image | float = 1 + saturation / 100
    if vibrance:
        chroma = (a * a + b * b) ** 0.5
        muted = (1 - chroma / _CHROMA_FULL).clamp(min=0, max=1)
        factor = (muted * (vibrance / 100) + 1) * factor
    return a * factor, b * factor


def _grayscale(rgb: pyvips.Image, parts: colour.Split, _s: Settings) -> pyvips.Image:
    grey = "grey16" if parts.format == "ushort" else "b-w"
    tagged = rgb.copy(interpretation=parts.interpretation)
    return tagged.colourspace(grey).colourspace(parts.interpretation)


def _sepia(rgb: pyvips.Image, _parts: colour.Split, _s: Settings) -> pyvips.Image:
    return rgb.recomb(pyvips.Image.new_from_array(_SEPIA))


def _invert(rgb: pyvips.Image, parts: colour.Split, _s: Settings) -> pyvips.Image:
    return parts.peak - rgb


def _vignette(rgb: pyvips.Image, _parts: colour.Split, s: Settings) -> pyvips.Image:
    """Multiply by 1 - strength * r^2, r the distance from the centre (1 at the corners)."""
    half_w, half_h = rgb.width / 2, rgb.height / 2
    xy = pyvips.Image.xyz(rgb.width, rgb.height)
    dx, dy = xy[0] - (half_w - 0.5), xy[1] - (half_h - 0.5)
    r_squared = (dx * dx + dy * dy) / (half_w**2 + half_h**2)
    return rgb * (1 - r_squared * (s.vignetteStrength / 100))


_EFFECTS: dict[str, Callable[[pyvips.Image, colour.Split, Settings], pyvips.Image]] = {
    "grayscale": _grayscale,
    "sepia": _sepia,
    "invert": _invert,
    "vignette": _vignette,
}


TOOL = Tool(
    id="color-adjustments",
    name="Adjust Colors",
    category="adjustments",
    description="Brightness, contrast, exposure, saturation, vibrance, temperature, "
    "sharpness, and grayscale/sepia/invert/vignette effects; alpha kept.",
    settings=Settings,
    run=run,
)
