"""The working form of the adjustment tools: RGB colour bands and alpha kept apart.

color-adjustments, sharpening and replace-color change colours, never transparency:
they take the colour bands as sRGB (8-bit, or 16-bit where the input is), work on them
(often in Lab), and put the untouched alpha band back. Grey inputs become RGB (a colour
tint or a replacement colour needs three bands); CMYK goes through its ICC profile.

RGB values are treated as sRGB whatever ICC profile the image has; the profile stays
attached, so a wide-gamut image keeps its look where the adjustment is neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips


@dataclass(frozen=True)
class Split:
    """An image's colour bands in sRGB/RGB16, its alpha band (or None), and the band
    format (uchar or ushort) to return to."""

    colour: pyvips.Image
    alpha: pyvips.Image | None
    format: str

    @property
    def peak(self) -> float:
        """The value of full intensity: 255 or 65535."""
        return 65535.0 if self.format == "ushort" else 255.0

    @property
    def interpretation(self) -> str:
        return "rgb16" if self.format == "ushort" else "srgb"


def split(image: pyvips.Image) -> Split:
    """Colour and alpha of any decoded image, colour in sRGB (8-bit) or RGB16."""
    deep = image.format == "ushort" or image.interpretation in ("rgb16", "grey16")
    image = to_rgb(image, deep=deep)
    fmt = "ushort" if deep else "uchar"
    if image.hasalpha():
        alpha = image[image.bands - 1].cast(fmt)
        return Split(image.extract_band(0, n=image.bands - 1), alpha, fmt)
    return Split(image, None, fmt)


def to_rgb(image: pyvips.Image, *, deep: bool = False) -> pyvips.Image:
    """sRGB (RGB16 when `deep`), alpha kept. CMYK goes through its embedded ICC profile (or
    libvips' default CMYK one), which is then replaced by sRGB's, as `encode` does."""
    if image.interpretation == "cmyk":
        embedded = image.get_typeof("icc-profile-data") != 0
        image = image.icc_transform("srgb", embedded=embedded, input_profile="cmyk")
    return image.colourspace("rgb16" if deep else "srgb")


def join(parts: Split, colour: pyvips.Image) -> pyvips.Image:
    """New colour bands (any numeric format, in RGB of `parts`' range) back with the alpha:
    clipped to range, rounded, cast to the original band format."""
    colour = colour.clamp(min=0, max=parts.peak).rint().cast(parts.format)
    colour = colour.copy(interpretation=parts.interpretation)
    return colour if parts.alpha is None else colour.bandjoin(parts.alpha)


def to_lab(colour: pyvips.Image, interpretation: str) -> pyvips.Image:
    """Float CIELAB (L 0..100) of RGB colour bands tagged with `interpretation`."""
    return colour.copy(interpretation=interpretation).colourspace("lab")


def from_lab(lab: pyvips.Image, parts: Split) -> pyvips.Image:
    """RGB in `parts`' range from CIELAB bands (L clipped to 0..100 first)."""
    lab = lab[0].clamp(min=0, max=100).bandjoin(lab.extract_band(1, n=2))
    return lab.copy(interpretation="lab").colourspace(parts.interpretation)
