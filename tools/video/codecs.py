"""Output codecs and containers: which FFmpeg encoder, with which options, in which file.

The PyAV 18.1 wheel's FFmpeg (8.x) has these encoders: libx264 (H.264), libx265 (H.265),
libvpx-vp9 (VP9) and libsvtav1 (AV1); no libaom, rav1e or openh264. `available()` asks
the FFmpeg actually loaded, so another build is described honestly. Every codec is
written 8-bit 4:2:0 (yuv420p): what every player decodes, and what the networks give.

Quality is a CRF per codec (lower is better, bigger); `preset` trades encoding speed for
size. Containers: MP4/MOV hold H.264/H.265/VP9/AV1 and most audio, but only mov_text
subtitles; WebM holds VP9/AV1, Opus/Vorbis and WebVTT; Matroska holds all of them. So
`auto` keeps the input's container when it can hold the codec and every stream that is
kept, and otherwise writes Matroska, where nothing has to be dropped or re-encoded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import av

from tools.base import ToolError
from tools.video.formats import MUXERS


@dataclass(frozen=True)
class Codec:
    """One output codec: its FFmpeg encoder, CRF range and default, options per preset."""

    name: str  # the FFmpeg codec name of the stream: h264, hevc, vp9, av1
    label: str
    encoder: str
    default_crf: int
    max_crf: int
    presets: dict[str, dict[str, str]]
    common: dict[str, str]

    def options(self, crf: int | None, preset: str) -> dict[str, str]:
        chosen = self.default_crf if crf is None else crf
        if not 0 <= chosen <= self.max_crf:
            raise ToolError(
                "INVALID_SETTINGS", f"crf: {self.label} takes 0..{self.max_crf}, got {chosen}", 400
            )
        return {**self.common, **self.presets[preset], "crf": str(chosen)}


CODECS: dict[str, Codec] = {
    "h264": Codec(
        "h264",
        "H.264",
        "libx264",
        20,
        51,
        {
            p: {"preset": v}
            for p, v in (("fast", "veryfast"), ("medium", "medium"), ("slow", "slow"))
        },
        {},
    ),
    "h265": Codec(
        "hevc",
        "H.265",
        "libx265",
        24,
        51,
        {
            p: {"preset": v}
            for p, v in (("fast", "veryfast"), ("medium", "medium"), ("slow", "slow"))
        },
        {"x265-params": "log-level=error"},
    ),
    "vp9": Codec(
        "vp9",
        "VP9",
        "libvpx-vp9",
        31,
        63,
        {p: {"cpu-used": v} for p, v in (("fast", "5"), ("medium", "3"), ("slow", "1"))},
        {"b": "0", "row-mt": "1", "deadline": "good"},
    ),
    "av1": Codec(
        "av1",
        "AV1",
        "libsvtav1",
        30,
        63,
        {p: {"preset": v} for p, v in (("fast", "10"), ("medium", "7"), ("slow", "4"))},
        {},
    ),
}


@cache
def available() -> tuple[str, ...]:
    """The codec ids (h264, h265, vp9, av1) whose encoder this FFmpeg has."""
    found = []
    for key, codec in CODECS.items():
        try:
            av.codec.Codec(codec.encoder, "w")
        except av.FFmpegError:
            continue
        except ValueError:  # PyAV: "unknown codec"
            continue
        found.append(key)
    return tuple(found)


def require(key: str) -> Codec:
    """The codec, if this FFmpeg can encode it (else 400 naming the ones it can)."""
    if key not in available():
        raise ToolError(
            "CODEC_UNAVAILABLE",
            f"this server's FFmpeg has no {CODECS[key].encoder} encoder for {key}; "
            f"available: {', '.join(available())}",
            400,
        )
    return CODECS[key]


@cache
def holds(container: str, codec_name: str) -> bool:
    """Whether FFmpeg's muxer for `container` (mp4, mov, mkv, webm) takes `codec_name`."""
    with av.open(io.BytesIO(), "w", format=MUXERS[container]) as probe:
        return codec_name in probe.supported_codecs


def choose_container(
    requested: str, input_container: str, codec: Codec, kept: list[str]
) -> tuple[str, list[str]]:
    """The container to write and the stream codecs among `kept` it cannot hold.

    `auto`: the input's container if it holds the codec and every kept stream, else mkv.
    A container asked for by name must hold the video codec (400); kept streams it cannot
    hold are named, for the caller to drop and say so.
    """
    if requested == "auto":
        first = input_container if input_container in MUXERS else "mp4"
        for candidate in (first, "mkv"):
            if holds(candidate, codec.name) and all(holds(candidate, c) for c in kept):
                return candidate, []
        return "mkv", [c for c in kept if not holds("mkv", c)]
    if not holds(requested, codec.name):
        raise ToolError(
            "INVALID_SETTINGS",
            f"container: {requested} cannot hold {codec.label}; choose another codec or "
            "container (mkv holds every codec)",
            400,
        )
    return requested, [c for c in kept if not holds(requested, c)]


def configure(ctx: Any, codec: Codec, options: dict[str, str], shape: dict[str, Any]) -> None:
    """Set up an encoder context (a segment's, or the output stream's) identically.

    `shape`: width, height, time_base, rate, colour (probe.Colour), sample_aspect.
    """
    ctx.width, ctx.height = shape["width"], shape["height"]
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = shape["time_base"]
    ctx.framerate = Fraction(shape["rate"])
    colour = shape["colour"]
    ctx.color_primaries, ctx.color_trc = colour.primaries, colour.trc
    ctx.colorspace, ctx.color_range = colour.space, colour.range
    if shape.get("sample_aspect"):
        ctx.sample_aspect_ratio = shape["sample_aspect"]
    ctx.options = dict(options)
