"""Split: cut one image into tiles and return them in a ZIP.

`mode` grid (the default) cuts `rows` x `cols` tiles, rows cuts `rows` horizontal strips
(full width), cols cuts `cols` vertical strips (full height); each mode takes only its own
count (`cols` with rows, or `rows` with cols, is INVALID_SETTINGS). Tiles of an even cut
differ by at most one pixel (the edges are at round(i * width / cols)). When `tileWidth`
and/or `tileHeight` are given they win, in any mode: tiles are that size from the top-left
corner, the last row/column keeps what is left (smaller); a size left out means the full
width/height.

Tiles are named `tile-r{row}-c{col}` (1-based, zero-padded), left to right then top to
bottom, in the input's format (or `format`); the ZIP's `tiles` extra lists them.

Limits: at most 400 tiles (400 INVALID_SETTINGS beyond) and at least 1 px per tile;
the first page/frame only.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from tools import archive, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError
from tools.fields import ImageOutputSettings, ModeSettings

MAX_TILES = 400


class _Cut(ImageOutputSettings):
    """What every mode takes: the tiles' format, and a fixed tile size that wins."""

    tileWidth: int | None = Field(None, ge=1, le=65535, description="Fixed tile width in px.")
    tileHeight: int | None = Field(None, ge=1, le=65535, description="Fixed tile height in px.")


class SplitGrid(_Cut):
    """The default mode: `rows` x `cols` tiles."""

    mode: Literal["grid"] = "grid"
    rows: int = Field(2, ge=1, le=400, description="Number of rows.")
    cols: int = Field(2, ge=1, le=400, description="Number of columns.")


class SplitRows(_Cut):
    """`rows` horizontal strips, each the full width."""

    mode: Literal["rows"]
    rows: int = Field(2, ge=1, le=400, description="Number of rows.")


class SplitCols(_Cut):
    """`cols` vertical strips, each the full height."""

    mode: Literal["cols"]
    cols: int = Field(2, ge=1, le=400, description="Number of columns.")


Cut = SplitGrid | SplitRows | SplitCols


class Settings(ModeSettings[Annotated[Cut, Field(discriminator="mode")]]):
    """How to cut, picked by `mode` (left out: grid); a fixed tile size wins in any mode.

    One model per mode, so `cols` is refused for rows and `rows` for cols.
    """

    default_mode = "grid"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Cut the image into tiles and ZIP them; see the module docstring."""
    cut = settings.root
    source = inputs[0]
    image = imaging.load(source, ctx.max_megapixels)
    xs, ys = edges(image.width, image.height, cut)
    count = (len(xs) - 1) * (len(ys) - 1)
    if count > MAX_TILES:
        raise ToolError(
            "INVALID_SETTINGS", f"{count} tiles asked for, at most {MAX_TILES} allowed", 400
        )
    image = image.copy_memory()  # every tile reads it: decode once
    fmt = imaging.output_format(cut.format, source.format)
    members: list[tuple[str, Path]] = []
    names: list[dict[str, object]] = []
    for name, (left, top, width, height) in boxes(xs, ys, imaging.extension(fmt)):
        ctx.check_cancelled()
        ctx.progress(90 * len(members) / count, "cutting tiles")
        tile = image.crop(left, top, width, height)
        out = imaging.save(tile, imaging.output_path(ctx, fmt), fmt, quality=cut.quality)
        members.append((name, out))
        names.append({"name": name, "x": left, "y": top, "width": width, "height": height})
    path = archive.write_zip(ctx, members)
    ctx.progress(100, "done")
    engine = f"{imaging.engine_name(source.format, fmt)} + {archive.ENGINE}"
    return archive.zip_output(path, "tiles.zip", engine, count=count, tiles=names)


def boxes(xs: list[int], ys: list[int], suffix: str) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(name, (left, top, width, height)) of every tile, row by row."""
    digits = len(str(max(len(xs), len(ys)) - 1))
    return [
        (
            f"tile-r{row:0{digits}d}-c{col:0{digits}d}{suffix}",
            (left, top, right - left, bottom - top),
        )
        for row, (top, bottom) in enumerate(itertools.pairwise(ys), 1)
        for col, (left, right) in enumerate(itertools.pairwise(xs), 1)
    ]


def edges(width: int, height: int, cut: Cut) -> tuple[list[int], list[int]]:
    """The x and y cut positions, first 0 and last width/height."""
    if cut.tileWidth or cut.tileHeight:
        return _fixed(width, cut.tileWidth), _fixed(height, cut.tileHeight)
    cols = cut.cols if isinstance(cut, SplitGrid | SplitCols) else 1
    rows = cut.rows if isinstance(cut, SplitGrid | SplitRows) else 1
    if cols > width or rows > height:
        raise ToolError(
            "INVALID_SETTINGS",
            f"cannot cut {width}x{height} px into {rows} rows x {cols} columns of at least 1 px",
        )
    return _even(width, cols), _even(height, rows)


def _even(length: int, parts: int) -> list[int]:
    return [round(i * length / parts) for i in range(parts + 1)]


def _fixed(length: int, tile: int | None) -> list[int]:
    if not tile or tile >= length:
        return [0, length]
    if length // tile > MAX_TILES:  # don't build a huge list just to refuse it
        return list(range(MAX_TILES + 2))
    return [*range(0, length, tile), length]


TOOL = Tool(
    id="split",
    name="Image Splitting",
    category="layout",
    description="Cut an image into a grid, rows, columns or fixed-size tiles (up to 400), "
    "returned as a ZIP.",
    settings=Settings,
    run=run,
    output=OutputKind.DOCUMENT,
)
