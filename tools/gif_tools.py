"""GIF tools: edit animated GIF/WebP frame by frame; animated input stays animated.

`action` picks what to do (left out: optimize), each with its own settings; a setting
of another action is refused (400), and the JSON schema lists each action's own:

- resize: `width` and/or `height` (one alone keeps the aspect ratio; both give exactly
  that size);
- optimize: re-encode with `colors` palette entries (2..256) and `lossy` inter-frame
  error (0 lossless; higher reuses more of the previous frame), libvips effort 10;
- reverse: frames (and their delays) in reverse order;
- speed: delays divided by `factor` (2 = twice as fast), at least 20 ms a frame (browsers
  slow down anything shorter);
- rotate: every frame turned clockwise by `angle` degrees (multiples of 90 are exact;
  other angles grow the canvas, the corners transparent);
- add-text: `text` in `fontSize`/`color` at `position` (`margin` px from the edges) on
  every frame, set like watermark-text;
- extract-frames: a ZIP of PNG frames `frame-001.png`, ... (a document: it must be the
  last step of a pipeline).

Frames are decoded with libvips (all pages stacked, `page-height`/`delay`/`loop` read
from the file) and written back with the same metadata, as GIF (or `format` webp, which
every action but extract-frames takes; an animated WebP input stays WebP by default). A
still image is a one-frame animation.

Limits: at most 1000 frames (413); the pixel limit covers all frames together. A GIF cut
off between frames keeps the complete frames (as browsers show it); one cut inside its
first frame is 422.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import pyvips
from pydantic import Field, model_validator

from tools import archive, colour, imaging, layers
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import Anchor, HexColor, ModeSettings, parse_color

MAX_FRAMES = 1000
MIN_DELAY_MS = 20
_DEFAULT_DELAY_MS = 100


class _Animated(ToolSettings):
    """What every action that writes an animation (all but extract-frames) takes."""

    format: Literal["gif", "webp"] | None = Field(
        None, description="Output format; default the input's (webp) or gif."
    )


class GifResize(_Animated):
    """Every frame to `width` and/or `height` (one alone keeps the aspect ratio)."""

    action: Literal["resize"]
    width: int | None = Field(None, ge=1, le=4096, description="Width in px.")
    height: int | None = Field(None, ge=1, le=4096, description="Height in px.")

    @model_validator(mode="after")
    def _width_or_height(self) -> GifResize:
        if self.width is None and self.height is None:
            raise ValueError("width or height is needed")
        return self


class GifOptimize(_Animated):
    """The default action: re-encode with a smaller palette and inter-frame error."""

    action: Literal["optimize"] = "optimize"
    colors: int = Field(256, ge=2, le=256, description="Palette size.")
    lossy: int = Field(0, ge=0, le=32, description="Inter-frame error allowed.")


class GifReverse(_Animated):
    """The frames (and their delays) in reverse order."""

    action: Literal["reverse"]


class GifSpeed(_Animated):
    """Every delay divided by `factor`, at least 20 ms a frame."""

    action: Literal["speed"]
    factor: float = Field(2, ge=0.1, le=10, description="2 is twice as fast.")


class GifRotate(_Animated):
    """Every frame turned clockwise by `angle` degrees."""

    action: Literal["rotate"]
    angle: float = Field(90, ge=-360, le=360, description="Clockwise degrees.")


class GifAddText(_Animated):
    """`text` drawn on every frame at an anchor, as watermark-text sets it."""

    action: Literal["add-text"]
    text: layers.Text
    fontSize: layers.FontSize = 24
    color: HexColor = Field("#ffffff", description="Text colour.")
    position: Anchor = Field("bottom-center", description="Where the text goes.")
    margin: int = Field(10, ge=0, le=1000, description="Px from the edges.")


class GifExtractFrames(ToolSettings):
    """A ZIP of PNG frames (so no `format`)."""

    action: Literal["extract-frames"]


# The actions that give an animation back (extract-frames gives a ZIP).
FrameAction = GifResize | GifOptimize | GifReverse | GifSpeed | GifRotate | GifAddText
# Each action is its own model, picked by `action`: a setting of another action is an
# error (not silently ignored), and the JSON schema lists each action's own settings.
AnyAction = Annotated[FrameAction | GifExtractFrames, Field(discriminator="action")]


class Settings(ModeSettings[AnyAction]):
    """One action and its settings, picked by `action` (left out: optimize)."""

    default_mode = "optimize"


@dataclass
class Animation:
    """Decoded frames (8-bit sRGB + alpha, same size) with their delays in ms."""

    frames: list[pyvips.Image]
    delays: list[int]
    loop: int


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Apply the action to every frame; see the module docstring."""
    action = settings.root
    source = inputs[0]
    ctx.progress(5, "decoding frames")
    anim = load_frames(source, ctx.max_megapixels)
    if isinstance(action, GifExtractFrames):
        return _extract(anim, source, ctx)
    ctx.progress(30, action.action)
    anim = _apply(anim, action)  # lazy: libvips does the work when the result is written
    first = anim.frames[0]
    imaging.check_pixels(
        first.width,
        first.height * len(anim.frames),
        ctx.max_megapixels,
        "the animation (all frames)",
    )
    fmt = action.format or ("webp" if source.format == "webp" else "gif")
    save_opts = {}
    if isinstance(action, GifOptimize):
        bits = max(1, math.ceil(math.log2(action.colors)))
        save_opts = {"bitdepth": bits, "effort": 10, "interframe_maxerror": action.lossy}
        if fmt == "webp":
            save_opts = {"effort": 6}
    output = imaging.write_image(joined(anim), ctx, fmt, source, **save_opts)
    if isinstance(action, GifAddText):
        output.engine += layers.TEXT_ENGINE
    output.extras.update(frames=len(anim.frames), delays=anim.delays)
    return output


def load_frames(source: Source, max_megapixels: int) -> Animation:
    """All frames of `source` (a still image is one frame)."""
    stack = imaging.load(source, max_megapixels, n=-1)
    height = _int(stack, "page-height", stack.height)
    if height <= 0 or stack.height % height:
        height = stack.height
    count = stack.height // height
    if count > MAX_FRAMES:
        raise ToolError(
            "IMAGE_TOO_LARGE", f"{source.name} has {count} frames, at most {MAX_FRAMES}", 413
        )
    stack = colour.to_rgb(stack).cast("uchar")
    if not stack.hasalpha():
        stack = stack.addalpha()
    stack = stack.copy_memory()  # every frame is cut from it: decode once
    frames = [stack.crop(0, i * height, stack.width, height) for i in range(count)]
    delays = list(stack.get("delay")) if stack.get_typeof("delay") else []
    delays = (delays + [_DEFAULT_DELAY_MS] * count)[:count]
    return Animation(
        frames, [d if d > 0 else _DEFAULT_DELAY_MS for d in delays], _int(stack, "loop", 0)
    )


def _int(image: pyvips.Image, name: str, default: int) -> int:
    return int(image.get(name)) if image.get_typeof(name) else default


def joined(anim: Animation) -> pyvips.Image:
    """The frames stacked vertically with the animation metadata libvips savers read."""
    image = (
        pyvips.Image.arrayjoin(anim.frames, across=1) if len(anim.frames) > 1 else anim.frames[0]
    )
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "page-height", anim.frames[0].height)
    image.set_type(pyvips.GValue.array_int_type, "delay", anim.delays)
    image.set_type(pyvips.GValue.gint_type, "loop", anim.loop)
    return image


def _apply(anim: Animation, action: FrameAction) -> Animation:
    """The animation after `action` (optimize is all in the encoder's options)."""
    match action:
        case GifResize():
            return _resize(anim, action)
        case GifOptimize():
            return anim
        case GifReverse():
            return Animation(anim.frames[::-1], anim.delays[::-1], anim.loop)
        case GifSpeed():
            return _speed(anim, action)
        case GifRotate():
            return _rotate(anim, action)
        case GifAddText():
            return _add_text(anim, action)


def _resize(anim: Animation, settings: GifResize) -> Animation:
    first = anim.frames[0]
    width, height = settings.width, settings.height
    if width is None:
        width = max(1, round(first.width * (height or first.height) / first.height))
    if height is None:
        height = max(1, round(first.height * width / first.width))
    frames = [f.thumbnail_image(width, height=height, size="force") for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _speed(anim: Animation, settings: GifSpeed) -> Animation:
    delays = [max(MIN_DELAY_MS, round(d / settings.factor)) for d in anim.delays]
    return Animation(anim.frames, delays, anim.loop)


def _rotate(anim: Animation, settings: GifRotate) -> Animation:
    angle = settings.angle % 360
    if angle % 90 == 0:
        frames = [f.rot(f"d{int(angle)}") if angle else f for f in anim.frames]
    else:
        frames = [layers.rotated(f, angle) for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _add_text(anim: Animation, settings: GifAddText) -> Animation:
    mask = layers.text_mask(settings.text, "DejaVu Sans", settings.fontSize)
    layer = layers.solid(mask, parse_color(settings.color))
    first = anim.frames[0]
    size = (first.width, first.height)
    x, y = layers.anchor(size, (layer.width, layer.height), settings.position, settings.margin)
    frames = [layers.place(f, layer, x, y) for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _extract(anim: Animation, source: Source, ctx: Context) -> Output:
    members = []
    for i, frame in enumerate(anim.frames, 1):
        ctx.check_cancelled()
        ctx.progress(10 + 80 * i / len(anim.frames), "writing frames")
        path = imaging.save(frame, imaging.output_path(ctx, "png"), "png")
        members.append((f"frame-{i:03d}.png", path))
    path = archive.write_zip(ctx, members)
    engine = f"{imaging.engine_name(source.format, 'png')} + {archive.ENGINE}"
    return archive.zip_output(path, "frames.zip", engine, count=len(members), delays=anim.delays)


TOOL = Tool(
    id="gif-tools",
    name="GIF Tools",
    category="format",
    description="Resize, optimize, reverse, speed up or slow down, rotate or caption an "
    "animated GIF/WebP (it stays animated), or extract its frames as a ZIP of PNGs.",
    settings=Settings,
    run=run,
)
