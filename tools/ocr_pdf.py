"""The ocr tool's documents: a searchable PDF (page image + invisible text) and hOCR.

Searchable PDF, written with pikepdf: each page is the image, drawn over the whole page
(page size = image size at its resolution), with the recognised lines on top in text
render mode 3 (neither filled nor stroked: invisible, yet selectable, searchable and
extractable). Each line is set at its box: the font size is the box height and the
text is scaled horizontally (Tz) to the box width.

The font is a Type0 (CID) font, Identity-H encoded, with no glyphs embedded (nothing is
ever drawn with it) and a ToUnicode map made for the document: every character used
gets a code, so any script (Chinese from PP-OCR too) is extracted as the same text.
Every character is 500/1000 em wide (Tz then fits the line).

hOCR: the XHTML format of the hOCR spec (ocr_page / ocr_line / ocrx_word with their
bbox and word confidence x_wconf 0..100), one ocr_page per page.
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools import arrays

_HALF_EM = 500  # every glyph's width, in 1/1000 em
_ASCENT = 0.8  # of the font size above the baseline (the rest is below)
_BFCHAR_BLOCK = 100  # the most entries a CMap's bfchar section may hold


@dataclass(frozen=True)
class PageImage:
    """Image data as a PDF image XObject holds it: `data` encoded with `filter`
    (DCTDecode: JPEG; FlateDecode: zlib), 8 bits per component."""

    data: bytes
    filter: str
    width: int
    height: int
    grey: bool = False


@dataclass
class Page:
    """One page: its image, its resolution (dpi) and its lines (boxes in image pixels)."""

    image: PageImage
    dpi: float
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def size_pt(self) -> tuple[float, float]:
        return self.image.width * 72 / self.dpi, self.image.height * 72 / self.dpi


def page_image(rgb: np.ndarray, *, lossy: bool, pixels: bool = True) -> PageImage:
    """A page's (H, W, 3) uint8 pixels for the PDF: JPEG (quality 90) where the source was
    lossy already (photos, rendered PDF pages), else lossless (zlib); grey pages as grey.
    `pixels` False: only the size (hOCR needs no more)."""
    height, width = rgb.shape[:2]
    if not pixels:
        return PageImage(b"", "", width, height)
    grey = bool(
        np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    )
    data = np.ascontiguousarray(rgb[..., 0] if grey else rgb)
    if lossy:
        image = arrays.from_array(data, "b-w" if grey else "srgb")
        return PageImage(image.jpegsave_buffer(Q=90, strip=True), "DCTDecode", width, height, grey)
    return PageImage(zlib.compress(data.tobytes(), 6), "FlateDecode", width, height, grey)


def write_pdf(path: Path, pages: Sequence[Page]) -> None:
    """The searchable PDF of `pages`, in order."""
    import pikepdf  # imported here: only documents need it

    pdf = pikepdf.new()
    codes = _codes(pages)
    font = pdf.make_indirect(_font(pdf, codes))
    for page in pages:
        width, height = page.size_pt
        image = _image(pdf, page.image)
        content = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm /Im0 Do Q\n" + _text(page, codes)
        pdf.add_blank_page(page_size=(width, height))
        added = pdf.pages[-1]
        added.Resources = pikepdf.Dictionary(
            XObject=pikepdf.Dictionary(Im0=image), Font=pikepdf.Dictionary(F0=font)
        )
        added.Contents = pdf.make_stream(content.encode("ascii"))
    pdf.save(path)


def _image(pdf: Any, image: PageImage) -> Any:
    import pikepdf

    stream = pikepdf.Stream(pdf, b"")
    stream.write(image.data, filter=pikepdf.Name("/" + image.filter))
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Image
    stream.Width, stream.Height = image.width, image.height
    stream.ColorSpace = pikepdf.Name.DeviceGray if image.grey else pikepdf.Name.DeviceRGB
    stream.BitsPerComponent = 8
    return stream


def _codes(pages: Sequence[Page]) -> dict[str, int]:
    """A 2-byte code (CID) for every character on the pages, from 1."""
    chars = dict.fromkeys(ch for page in pages for line in page.lines for ch in line["text"])
    return {ch: index + 1 for index, ch in enumerate(chars)}


def _text(page: Page, codes: dict[str, int]) -> str:
    """The invisible text: each line at its box, scaled to its width."""
    scale = 72 / page.dpi
    page_height = page.size_pt[1]
    parts = ["BT 3 Tr"]
    for line in page.lines:
        text = line["text"]
        x, y, w, h = (v * scale for v in line["box"])
        if not text or w <= 0 or h <= 0:
            continue
        size = h
        natural = len(text) * size * _HALF_EM / 1000
        baseline = page_height - y - h * _ASCENT
        hex_text = "".join(f"{codes[ch]:04X}" for ch in text)
        parts.append(
            f"/F0 {size:.3f} Tf {100 * w / natural:.3f} Tz "
            f"1 0 0 1 {x:.3f} {baseline:.3f} Tm <{hex_text}> Tj"
        )
    parts.append("ET\n")
    return "\n".join(parts)


def _font(pdf: Any, codes: dict[str, int]) -> Any:
    from pikepdf import Array, Dictionary, Name

    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name.GlyphLessFont,
        Flags=5,
        FontBBox=Array([0, -200, _HALF_EM, 800]),
        ItalicAngle=0,
        Ascent=800,
        Descent=-200,
        CapHeight=800,
        StemV=80,
    )
    cid_font = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=Name.GlyphLessFont,
        CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=_HALF_EM,
        CIDToGIDMap=Name.Identity,
    )
    return Dictionary(
        Type=Name.Font,
        Subtype=Name.Type0,
        BaseFont=Name.GlyphLessFont,
        Encoding=Name("/Identity-H"),
        DescendantFonts=Array([pdf.make_indirect(cid_font)]),
        ToUnicode=pdf.make_stream(_to_unicode(codes)),
    )


def _to_unicode(codes: dict[str, int]) -> bytes:
    """The CMap from each code back to its character (UTF-16BE, so any code point)."""
    entries = [
        f"<{code:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for ch, code in codes.items()
    ]
    blocks = []
    for start in range(0, len(entries), _BFCHAR_BLOCK):
        chunk = entries[start : start + _BFCHAR_BLOCK]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    cmap = "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            "<0000> <FFFF>",
            "endcodespacerange",
            *blocks,
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )
    return cmap.encode("ascii")


# --- hOCR ------------------------------------------------------------------------------


def hocr(pages: Sequence[Page], system: str, name: str) -> str:
    """The hOCR document of the pages (boxes in each page image's pixels)."""
    body = []
    for number, page in enumerate(pages, start=1):
        w, h = page.image.width, page.image.height
        title = f"image {_quoted(name)}; bbox 0 0 {w} {h}; ppageno {number - 1}"
        body.append(f"  <div class='ocr_page' id='page_{number}' title='{html.escape(title)}'>")
        for index, line in enumerate(page.lines, start=1):
            body.append(_hocr_line(line, f"{number}_{index}"))
        body.append("  </div>")
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
            '  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
            "<head>",
            "  <title>OCR</title>",
            '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
            f"  <meta name='ocr-system' content='{html.escape(system)}'/>",
            "  <meta name='ocr-capabilities' content='ocr_page ocr_line ocrx_word'/>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _hocr_line(line: dict[str, Any], key: str) -> str:
    words = line.get("words") or []
    if words:
        inner = " ".join(
            f"<span class='ocrx_word' id='word_{key}_{n}' title='{_bbox(w['box'])}; "
            f"x_wconf {round(w['confidence'] * 100)}'>{html.escape(w['text'])}</span>"
            for n, w in enumerate(words, start=1)
        )
    else:
        inner = html.escape(line["text"])
    return f"    <span class='ocr_line' id='line_{key}' title='{_bbox(line['box'])}'>{inner}</span>"


def _bbox(box: Sequence[int]) -> str:
    x, y, w, h = box
    return f"bbox {x} {y} {x + w} {y + h}"


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "").replace('"', "") + '"'
