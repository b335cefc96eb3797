"""GIF tools: edit animated GIF/WebP frame by frame; animated input stays animated.

`action` picks what to do, each with its own settings:

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
from the file) and written back with the same metadata, as GIF (or `format` webp; an
animated WebP input stays WebP by default). A still image is a one-frame animation.

Limits: at most 1000 frames (413); the pixel limit covers all frames together. A GIF cut
off between frames keeps the complete frames (as browsers show it); one cut inside its
first frame is 422.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pyvips
from pydantic import Field, model_validator

from tools import archive, colour, imaging, layers
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import HexColor, parse_color

MAX_FRAMES = 1000
MIN_DELAY_MS = 20
_DEFAULT_DELAY_MS = 100


class Settings(ToolSettings):
    """The action and its parameters (the ones another action takes are ignored)."""

    action: Literal[
        "resize", "optimize", "reverse", "speed", "extract-frames", "rotate", "add-text"
    ] = Field("optimize", description="What to do with the frames.")
    width: int | None = Field(None, ge=1, le=4096, description="resize: width in px.")
    height: int | None = Field(None, ge=1, le=4096, description="resize: height in px.")
    colors: int = Field(256, ge=2, le=256, description="optimize: palette size.")
    lossy: int = Field(0, ge=0, le=32, description="optimize: inter-frame error allowed.")
    factor: float = Field(2, ge=0.1, le=10, description="speed: 2 is twice as fast.")
    angle: float = Field(90, ge=-360, le=360, description="rotate: clockwise degrees.")
    text: layers.Text | None = Field(None, description="add-text: the text.")
    fontSize: layers.FontSize = 24
    color: HexColor = Field("#ffffff", description="add-text: text colour.")
    position: layers.Position = Field("bottom-center", description="add-text: anchor.")
    margin: int = Field(10, ge=0, le=1000, description="add-text: px from the edges.")
    format: Literal["gif", "webp"] | None = Field(
        None, description="Output format; default the input's (webp) or gif."
    )

    @model_validator(mode="after")
    def _action_needs(self) -> Settings:
        if self.action == "resize" and self.width is None and self.height is None:
            raise ValueError("resize needs width or height")
        if self.action == "add-text" and self.text is None:
            raise ValueError("add-text needs text")
        if self.action == "add-text" and self.position == "custom":
            raise ValueError("add-text takes an anchor position, not custom")
        return self


@dataclass
class Animation:
    """Decoded frames (8-bit sRGB + alpha, same size) with their delays in ms."""

    frames: list[pyvips.Image]
    delays: list[int]
    loop: int


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Apply the action to every frame; see the module docstring."""
    source = inputs[0]
    ctx.progress(5, "decoding frames")
    anim = load_frames(source, ctx.max_megapixels)
    if settings.action == "extract-frames":
        return _extract(anim, source, ctx)
    ctx.progress(30, settings.action)
    anim = _ACTIONS[settings.action](anim, settings)
    fmt = settings.format or ("webp" if source.format == "webp" else "gif")
    save_opts = {}
    if settings.action == "optimize":
        bits = max(1, math.ceil(math.log2(settings.colors)))
        save_opts = {"bitdepth": bits, "effort": 10, "interframe_maxerror": settings.lossy}
        if fmt == "webp":
            save_opts = {"effort": 6}
    output = imaging.write_image(joined(anim), ctx, fmt, source, **save_opts)
    if settings.action == "add-text":
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


def _resize(anim: Animation, settings: Settings) -> Animation:
    first = anim.frames[0]
    width, height = settings.width, settings.height
    if width is None:
        width = max(1, round(first.width * (height or first.height) / first.height))
    if height is None:
        height = max(1, round(first.height * width / first.width))
    frames = [f.thumbnail_image(width, height=height, size="force") for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _reverse(anim: Animation, settings: Settings) -> Animation:
    return Animation(anim.frames[::-1], anim.delays[::-1], anim.loop)


def _speed(anim: Animation, settings: Settings) -> Animation:
    delays = [max(MIN_DELAY_MS, round(d / settings.factor)) for d in anim.delays]
    return Animation(anim.frames, delays, anim.loop)


def _rotate(anim: Animation, settings: Settings) -> Animation:
    angle = settings.angle % 360
    if angle % 90 == 0:
        frames = [f.rot(f"d{int(angle)}") if angle else f for f in anim.frames]
    else:
        frames = [layers.rotated(f, angle) for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _add_text(anim: Animation, settings: Settings) -> Animation:
    assert settings.text is not None  # checked by Settings
    mask = layers.text_mask(settings.text, "DejaVu Sans", settings.fontSize)
    layer = layers.solid(mask, parse_color(settings.color))
    first = anim.frames[0]
    size = (first.width, first.height)
    x, y = layers.anchor(size, (layer.width, layer.height), settings.position, settings.margin)
    frames = [layers.place(f, layer, x, y) for f in anim.frames]
    return Animation(frames, anim.delays, anim.loop)


def _unchanged(anim: Animation, settings: Settings) -> Animation:
    return anim


_ACTIONS = {
    "resize": _resize,
    "optimize": _unchanged,
    "reverse": _reverse,
    "speed": _speed,
    "rotate": _rotate,
    "add-text": _add_text,
}


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
