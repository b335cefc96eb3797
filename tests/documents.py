"""Non-photo inputs built on the fly (never committed): SVG drawings and PDF documents."""

from __future__ import annotations

import io

from PIL import Image

# A 120x80 drawing: left half red, right half blue, and an external image over the blue
# half that must never be fetched (the sanitiser removes the reference).
DRAWING_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'width="120" height="80" viewBox="0 0 120 80">'
    b'<rect width="60" height="80" fill="#ff0000"/>'
    b'<rect x="60" width="60" height="80" fill="#0000ff"/>'
    b'<image x="60" width="60" height="80" xlink:href="file:///etc/passwd"/>'
    b'<image x="60" width="60" height="80" href="http://192.0.2.1/tracker.png"/>'
    b"</svg>"
)

BILLION_LAUGHS_SVG = b"""<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY a "lollollollollollollollollollol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&h;</text></svg>"""


def pdf_pages(colours: list[tuple[int, int, int]], size: tuple[int, int] = (144, 72)) -> bytes:
    """A PDF with one page per colour, each page `size` points (at 72 dpi: pixels)."""
    pages = [Image.new("RGB", size, colour) for colour in colours]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72.0)
    return out.getvalue()


def pdf_with_pages(count: int) -> bytes:
    """A valid PDF of `count` tiny empty pages (about 70 bytes each), with a real xref."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(count))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"
    objects.extend([page] * count)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
