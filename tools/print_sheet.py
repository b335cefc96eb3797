"""Copies of one photo on a print sheet (4x6 in or A4), with cut lines: used by
passport-photo's `printLayout`.

The sheet is white, at the photo's dpi. As many copies fit as the sheet holds in either
orientation (the one that holds more; portrait on a tie), in a centred grid with gaps of
at most 2 mm (less where a wider gap would cost a copy: 2x2 in photos fill a 4x6 in sheet
edge to edge, six of them). A4 keeps 5 mm margins for office printers; 4x6 is printed
borderless by photo labs. Each copy gets a 1 px grey outline on its own edge pixels, the
line to cut along (it is 0.08 mm at 300 dpi, and never covers a neighbouring copy).
"""

from __future__ import annotations

import numpy as np

from tools.base import ToolError

MM_PER_INCH = 25.4
SHEETS_MM = {"4x6": (4 * MM_PER_INCH, 6 * MM_PER_INCH), "A4": (210.0, 297.0)}
MARGIN_MM = {"4x6": 0.0, "A4": 5.0}
MAX_GAP_MM = 2.0
CUT_LINE = (160, 160, 160)


def sheet_pixels(layout: str, dpi: int) -> tuple[int, int]:
    """The portrait sheet's width and height in pixels at `dpi` (rounded to the nearest)."""
    width, height = SHEETS_MM[layout]
    return (round(width / MM_PER_INCH * dpi), round(height / MM_PER_INCH * dpi))


def lay_out(photo: np.ndarray, layout: str, dpi: int) -> tuple[np.ndarray, int]:
    """The sheet (H, W, 3 uint8) with as many copies of `photo` as fit, and their count."""
    per_mm = dpi / MM_PER_INCH
    margin = round(MARGIN_MM[layout] * per_mm)
    h, w = photo.shape[:2]
    portrait = sheet_pixels(layout, dpi)
    sizes = [portrait, (portrait[1], portrait[0])]
    fits = [_count(s[0] - 2 * margin, w) * _count(s[1] - 2 * margin, h) for s in sizes]
    width, height = sizes[int(fits[1] > fits[0])]
    cols, rows = _count(width - 2 * margin, w), _count(height - 2 * margin, h)
    if cols * rows == 0:
        raise ToolError("INVALID_SETTINGS", f"the photo is larger than the {layout} sheet", 400)
    gap_x = _gap(width - 2 * margin, w, cols, MAX_GAP_MM * per_mm)
    gap_y = _gap(height - 2 * margin, h, rows, MAX_GAP_MM * per_mm)
    x0 = (width - cols * w - (cols - 1) * gap_x) // 2
    y0 = (height - rows * h - (rows - 1) * gap_y) // 2
    sheet = np.full((height, width, 3), 255, np.uint8)
    framed = photo.copy()
    framed[[0, -1], :] = CUT_LINE
    framed[:, [0, -1]] = CUT_LINE
    for row in range(rows):
        for col in range(cols):
            x, y = x0 + col * (w + gap_x), y0 + row * (h + gap_y)
            sheet[y : y + h, x : x + w] = framed
    return sheet, cols * rows


def _count(space: int, cell: int) -> int:
    return max(0, space // cell)


def _gap(space: int, cell: int, count: int, largest: float) -> int:
    """The widest gap up to `largest` that still fits `count` cells in `space`."""
    if count < 2:
        return 0
    return int(min(largest, (space - count * cell) / (count - 1)))
