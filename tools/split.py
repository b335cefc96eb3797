"""Split: cut one image into tiles and return them in a ZIP.

`mode` grid cuts `rows` x `cols` tiles, rows cuts `rows` horizontal strips (full width),
cols cuts `cols` vertical strips (full height). Tiles of an even cut differ by at most
one pixel (the edges are at round(i * width / cols)). When `tileWidth` and/or
`tileHeight` are given they win: tiles are that size from the top-left corner, the last
row/column keeps what is left (smaller); a size left out means the full width/height.

Tiles are named `tile-r{row}-c{col}` (1-based, zero-padded), left to right then top to
bottom, in the input's format (or `format`); the ZIP's `tiles` extra lists them.

Limits: at most 400 tiles (400 INVALID_SETTINGS beyond) and at least 1 px per tile;
the first page/frame only.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from tools import archive, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError
from tools.fields import ImageOutputSettings

MAX_TILES = 400


class Settings(ImageOutputSettings):
    """How to cut: an even grid/rows/cols, or a fixed tile size."""

    mode: Literal["grid", "rows", "cols"] = Field("grid", description="Grid, strips or columns.")
    rows: int = Field(2, ge=1, le=400, description="Number of rows (grid, rows).")
    cols: int = Field(2, ge=1, le=400, description="Number of columns (grid, cols).")
    tileWidth: int | None = Field(None, ge=1, le=65535, description="Fixed tile width in px.")
    tileHeight: int | None = Field(None, ge=1, le=65535, description="Fixed tile height in px.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Cut the image into tiles and ZIP them; see the module docstring."""
    source = inputs[0]
    image = imaging.load(source, ctx.max_megapixels)
    xs, ys = edges(image.width, image.height, settings)
    count = (len(xs) - 1) * (len(ys) - 1)
    if count > MAX_TILES:
        raise ToolError(
            "INVALID_SETTINGS", f"{count} tiles asked for, at most {MAX_TILES} allowed", 400
        )
    image = image.copy_memory()  # every tile reads it: decode once
    fmt = imaging.output_format(settings.format, source.format)
    members: list[tuple[str, Path]] = []
    names: list[dict[str, object]] = []
    for name, (left, top, width, height) in boxes(xs, ys, imaging.extension(fmt)):
        ctx.check_cancelled()
        ctx.progress(90 * len(members) / count, "cutting tiles")
        tile = image.crop(left, top, width, height)
        out = imaging.save(tile, imaging.output_path(ctx, fmt), fmt, quality=settings.quality)
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


def edges(width: int, height: int, settings: Settings) -> tuple[list[int], list[int]]:
    """The x and y cut positions, first 0 and last width/height."""
    if settings.tileWidth or settings.tileHeight:
        return _fixed(width, settings.tileWidth), _fixed(height, settings.tileHeight)
    cols = settings.cols if settings.mode in ("grid", "cols") else 1
    rows = settings.rows if settings.mode in ("grid", "rows") else 1
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
