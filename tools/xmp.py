"""XMP packets for edit-metadata: Dublin Core, xmp:CreateDate and EXIF GPS properties.

Built as text from escaped values (no XML parser is involved, so nothing untrusted is
ever parsed). The packet has a fixed header and trailer and no padding: it is written
into the file's own XMP block, never edited in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

_HEADER = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
    '    xmlns:exif="http://ns.adobe.com/exif/1.0/">\n'
)
_TRAILER = '  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>'
# setting -> (property, RDF container) for the Dublin Core text fields.
_DUBLIN_CORE = {
    "title": ("dc:title", "Alt"),
    "description": ("dc:description", "Alt"),
    "author": ("dc:creator", "Seq"),
    "copyright": ("dc:rights", "Alt"),
    "keywords": ("dc:subject", "Bag"),
}


def packet(fields: dict[str, Any]) -> bytes:
    """A UTF-8 XMP packet with the non-empty `fields`; b"" when none is left to write."""
    lines: list[str] = []
    for name, (prop, container) in _DUBLIN_CORE.items():
        value = fields.get(name)
        if value:
            lines.append(_container(prop, container, value if name == "keywords" else [value]))
    when = fields.get("dateTime")
    if when:
        lines.append(_simple("xmp:CreateDate", _iso(when)))
        lines.append(_simple("photoshop:DateCreated", _iso(when)))
    gps = fields.get("gps")
    if gps:
        lines.append(_simple("exif:GPSLatitude", _coordinate(gps.lat, "N", "S")))
        lines.append(_simple("exif:GPSLongitude", _coordinate(gps.lon, "E", "W")))
        lines.append(_simple("exif:GPSVersionID", "2.3.0.0"))
    if not lines:
        return b""
    return (_HEADER + "".join(lines) + _TRAILER).encode("utf-8")


def _container(prop: str, kind: str, values: list[str]) -> str:
    lang = ' xml:lang="x-default"' if kind == "Alt" else ""
    items = "".join(f"     <rdf:li{lang}>{escape(v)}</rdf:li>\n" for v in values)
    return f"   <{prop}>\n    <rdf:{kind}>\n{items}    </rdf:{kind}>\n   </{prop}>\n"


def _simple(prop: str, value: str) -> str:
    return f"   <{prop}>{escape(value)}</{prop}>\n"


def _coordinate(degrees: float, positive: str, negative: str) -> str:
    """XMP's "DDD,MM.mmmmmmK" form of a GPS coordinate."""
    whole, minutes = divmod(abs(degrees) * 60, 60)
    return f"{int(whole)},{minutes:.6f}{positive if degrees >= 0 else negative}"


def _iso(when: datetime) -> str:
    """ISO 8601 as XMP dates want it (seconds precision)."""
    return when.replace(microsecond=0).isoformat()
