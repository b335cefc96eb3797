"""SVG work is bounded: the sanitiser refuses the amplifiers in milliseconds, and librsvg
runs only in a child process that a time limit, a cancel or its own rlimits stop.

The slow drawings here are honest ones (a large blurred square, thousands of texts with
no declared size) run under a limit of a second or two, so the suite stays fast; the
elapsed-time asserts are guards, the error codes are the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import pyvips

from tests.documents import DRAWING_SVG
from tools import imaging, svg_child, svg_render
from tools.base import Cancelled, Source, ToolError
from tools.svg_sanitise import MAX_DEPTH, MAX_ELEMENTS, MAX_FILTER_PRIMITIVES, sanitise

SVG = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
PNG = {"format": "png"}

# The reported 271-byte bomb: a 9900 px square (under the 100 MP limit) through a filter
# of 1000 noise octaves and a huge blur. It took over 10 minutes and 2.9 GB in-process.
TURBULENCE_BOMB = (
    f'<svg {SVG} width="9900" height="9900"><filter id="f" x="0" y="0" width="1" height="1">'
    '<feTurbulence baseFrequency="0.05" numOctaves="1000"/>'
    '<feGaussianBlur stdDeviation="2000"/></filter>'
    '<rect width="9900" height="9900" filter="url(#f)"/></svg>'
).encode()


def use_bomb(levels: int, fan: int) -> bytes:
    """Each level is a group that uses the previous one `fan` times: fan**levels paths."""
    parts = [f'<svg {SVG} width="1000" height="1000"><defs><path id="l0" d="M0 0H1000V1000Z"/>']
    for level in range(1, levels + 1):
        uses = f'<use xlink:href="#l{level - 1}"/>' * fan
        parts.append(f'<g id="l{level}">{uses}</g>')
    parts.append(f'</defs><use href="#l{levels}"/></svg>')
    return "".join(parts).encode()


def blurred_square(size: int) -> bytes:
    """A drawing a person could make, slow to draw: librsvg blurs the whole square once
    per strip that libvips renders (4000 px took 12 s here)."""
    return (
        f'<svg {SVG} width="{size}" height="{size}"><filter id="f" x="0" y="0" width="1" '
        'height="1"><feFlood flood-color="red"/><feGaussianBlur stdDeviation="20"/></filter>'
        f'<rect width="{size}" height="{size}" filter="url(#f)"/></svg>'
    ).encode()


def many_texts_without_a_size(count: int) -> bytes:
    """No width, height or viewBox: librsvg measures every text to size the drawing
    (20,000 texts took 5.5 s just to read the header)."""
    texts = "".join(
        f'<text x="{i % 500}" y="{i % 700}">lorem ipsum {i}</text>' for i in range(count)
    )
    return f"<svg {SVG}>{texts}</svg>".encode()


# A logo with what drawings use: gradient, symbol + use, pattern, path, text, a small blur.
LOGO_SVG = (
    f'<svg {SVG} width="200" height="120" viewBox="0 0 100 60"><defs>'
    '<linearGradient id="g"><stop offset="0" stop-color="#f80"/>'
    '<stop offset="1" stop-color="#08f"/></linearGradient>'
    '<pattern id="p" width="4" height="4" patternUnits="userSpaceOnUse">'
    '<rect width="2" height="2" fill="#0a0"/></pattern>'
    '<filter id="shadow"><feGaussianBlur stdDeviation="1.5"/></filter>'
    '<symbol id="dot"><circle cx="3" cy="3" r="3" fill="#c00"/></symbol></defs>'
    '<rect x="4" y="6" width="50" height="40" rx="6" fill="#000" filter="url(#shadow)"/>'
    '<rect x="2" y="4" width="50" height="40" rx="6" fill="url(#g)"/>'
    '<rect x="60" y="4" width="36" height="40" fill="url(#p)"/>'
    '<use href="#dot" x="10" y="48"/><use xlink:href="#dot" x="20" y="48"/>'
    '<path d="M5 30 Q27 5 49 30" fill="none" stroke="#222" stroke-width="2"/>'
    '<text x="30" y="58" font-size="8" text-anchor="middle">Logo</text></svg>'
).encode()


@pytest.fixture
def svg_file(tmp_path: Path, make_source) -> Callable[[bytes], Source]:
    def make(data: bytes, name: str = "drawing.svg") -> Source:
        path = tmp_path / name
        path.write_bytes(data)
        return make_source(path)

    return make


@pytest.fixture
def limits() -> Iterator[Callable[..., None]]:
    """Set the process-wide render limits for one test (`limits(timeout_s=1)`)."""
    yield lambda **given: svg_render.configure(svg_render.Limits(**given))
    svg_render.configure(svg_render.Limits())


def refused(run: Callable[[], object]) -> tuple[ToolError, float]:
    start = time.monotonic()
    with pytest.raises(ToolError) as caught:
        run()
    return caught.value, time.monotonic() - start


def svg_children() -> list[str]:
    """This process's children (zombies included) that are SVG renders."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # it exited while we looked
        if ppid == os.getpid() and (b"svg_child" in command or not command):
            found.append(stat.parent.name)
    return found


# --- the reported bombs -----------------------------------------------------------------


def test_the_turbulence_bomb_is_stopped_by_the_time_limit(svg_file, run_tool, limits) -> None:
    limits(timeout_s=2)
    error, elapsed = refused(lambda: run_tool("resize", svg_file(TURBULENCE_BOMB), {"width": 100}))
    assert (error.code, error.status) == ("RENDER_TIMEOUT", 422)
    assert "2 s limit" in error.message
    assert elapsed < 10
    assert svg_children() == []


def test_the_turbulence_bomb_is_stopped_by_the_memory_limit(svg_file, run_tool, limits) -> None:
    limits(timeout_s=30, memory_mb=320)  # its filter surface alone is 9900 x 9900 x 4 bytes
    error, elapsed = refused(lambda: run_tool("convert", svg_file(TURBULENCE_BOMB), PNG))
    assert (error.code, error.status) == ("SVG_TOO_COMPLEX", 422)
    assert "320 MiB" in error.message
    assert elapsed < 10


def test_its_noise_octaves_are_clamped() -> None:
    clean = sanitise(TURBULENCE_BOMB).xml
    assert b'numOctaves="8"' in clean and b"1000" not in clean


@pytest.mark.parametrize("tool", ["resize", "svg-to-raster", "info"])
def test_the_nested_use_bomb_is_refused_before_librsvg(svg_file, run_tool, tool) -> None:
    settings = {"width": 100} if tool == "resize" else {}
    error, elapsed = refused(lambda: run_tool(tool, svg_file(use_bomb(8, 10)), settings))
    assert (error.code, error.status) == ("SVG_TOO_COMPLEX", 422)
    assert f"{MAX_ELEMENTS:,} elements" in error.message and "<use>" in error.message
    assert elapsed < 2


def test_use_fan_out_is_counted_at_every_level() -> None:
    sanitise(use_bomb(4, 10))  # 11,111 paths drawn: fine
    with pytest.raises(ToolError) as caught:
        sanitise(use_bomb(5, 10))  # 111,111
    assert caught.value.code == "SVG_TOO_COMPLEX"
    with pytest.raises(ToolError):
        sanitise(use_bomb(17, 2))  # 131,071 through a narrow, deep fan


@pytest.mark.parametrize(
    "body",
    [
        '<g id="a"><use href="#b"/></g><g id="b"><use xlink:href="#a"/></g>',
        '<g id="a"><rect/><use href="#a"/></g>',
        '<pattern id="p" width="4" height="4"><rect fill="url(#p)"/></pattern>'
        '<rect width="9" height="9" fill="url(#p)"/>',
        '<mask id="m"><rect mask="url(#m)"/></mask>',
    ],
)
def test_a_reference_cycle_is_refused(svg_file, run_tool, body) -> None:
    svg = f'<svg {SVG} width="10" height="10">{body}</svg>'.encode()
    error, _ = refused(lambda: run_tool("convert", svg_file(svg), PNG))
    assert (error.code, error.status) == ("UNSAFE_SVG", 400)
    assert "cycle" in error.message


# --- the bound on every render ------------------------------------------------------------


def test_a_slow_honest_drawing_is_stopped_at_the_time_limit(svg_file, run_tool, limits) -> None:
    limits(timeout_s=1)
    source = svg_file(blurred_square(4000))
    for tool in ("svg-to-raster", "convert"):
        error, elapsed = refused(lambda: run_tool(tool, source, PNG))  # noqa: B023
        assert (error.code, error.status) == ("RENDER_TIMEOUT", 422)
        assert "1 s limit" in error.message
        assert elapsed < 6
    assert svg_children() == []


def test_sizing_a_drawing_is_bounded_too(svg_file, run_tool, limits) -> None:
    limits(timeout_s=1)
    error, elapsed = refused(
        lambda: run_tool("info", svg_file(many_texts_without_a_size(20000)), {})
    )
    assert error.code == "RENDER_TIMEOUT"
    assert elapsed < 6


def test_the_child_stops_itself_at_its_cpu_limit(tmp_path: Path) -> None:
    """Even with no parent watching the clock, RLIMIT_CPU ends the render."""
    drawing = tmp_path / "slow.svg"
    drawing.write_bytes(blurred_square(4000))
    job = {
        "svg": str(drawing),
        "out": str(tmp_path / "out.v"),
        "dpi": 72.0,
        "scale": 1.0,
        "max_pixels": None,
        "cpu_s": 1,
        "memory_bytes": 2 << 30,
        "parent": os.getpid(),
        "path": sys.path,
    }
    command = [sys.executable, "-P", "-S", svg_child.__file__, json.dumps(job)]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert done.returncode == -signal.SIGXCPU, done.stderr
    assert time.monotonic() - start < 10


def test_a_cancel_kills_the_render_at_once(svg_file, ctx) -> None:
    """imaging.load has no Context: the running tool's comes through svg_render.running."""
    source = svg_file(blurred_square(4000))
    start = time.monotonic()
    ctx.is_cancelled = lambda: time.monotonic() - start > 0.2
    with svg_render.running(ctx), pytest.raises(Cancelled):
        imaging.load(source, ctx.max_megapixels)
    assert time.monotonic() - start < 2
    assert svg_children() == []
    assert list(ctx.scratch_dir.iterdir()) == []  # its folder went with it


def test_svg_to_raster_polls_its_cancel_flag(svg_file, ctx, run_tool) -> None:
    start = time.monotonic()
    ctx.is_cancelled = lambda: time.monotonic() - start > 0.5
    with pytest.raises(Cancelled):
        run_tool("svg-to-raster", svg_file(blurred_square(4000)), {})
    assert time.monotonic() - start < 3
    assert svg_children() == []


# --- ordinary drawings are unchanged ----------------------------------------------------


@pytest.mark.parametrize("svg", [DRAWING_SVG, LOGO_SVG], ids=["drawing", "logo"])
def test_ordinary_drawings_render_exactly_as_in_process(svg_file, svg) -> None:
    """The child draws what librsvg drew in-process before (every pixel)."""
    source = svg_file(svg)
    direct = pyvips.Image.svgload_buffer(sanitise(svg).xml)
    bounded = imaging.load(source, 100)
    assert (bounded.width, bounded.height, bounded.bands) == (direct.width, direct.height, 4)
    assert bounded.numpy().tolist() == direct.numpy().tolist()
    head = imaging.open_header(source)
    assert (head.width, head.height, head.bands, head.interpretation) == (
        direct.width,
        direct.height,
        direct.bands,
        direct.interpretation,
    )
    assert head.xres == pytest.approx(direct.xres)


def test_dpi_and_scale_reach_the_child(svg_file) -> None:
    source = svg_file(LOGO_SVG)
    image = imaging.load(source, 100, dpi=144, scale=1.5)
    assert (image.width, image.height) == (600, 360)


def test_a_drawing_over_the_pixel_limit_is_refused_before_drawing(svg_file, ctx) -> None:
    error, _ = refused(lambda: imaging.load(svg_file(TURBULENCE_BOMB), 50))
    assert (error.code, error.status) == ("IMAGE_TOO_LARGE", 413)
    assert "9900x9900" in error.message


def test_reuse_that_is_not_amplification_is_accepted() -> None:
    """A sprite used a thousand times, twenty thousand shapes sharing one gradient."""
    dots = "".join(f'<circle cx="{i}" r="1"/>' for i in range(50))
    sprites = f'<symbol id="s">{dots}</symbol>' + '<use href="#s"/>' * 1000
    stops = '<stop offset="0"/>' * 20
    shared = f'<linearGradient id="g">{stops}</linearGradient>' + '<rect fill="url(#g)"/>' * 20000
    for body in (sprites, shared, '<a href="#x"><g id="x"><rect/></g></a>'):
        sanitise(f'<svg {SVG} width="10" height="10">{body}</svg>'.encode())


# --- the other static bounds --------------------------------------------------------------


def _svg(body: str) -> bytes:
    return f'<svg {SVG} width="10" height="10">{body}</svg>'.encode()


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ("<g/>" * MAX_ELEMENTS, f"{MAX_ELEMENTS:,} elements"),
        ("<g>" * (MAX_DEPTH + 1) + "</g>" * (MAX_DEPTH + 1), f"{MAX_DEPTH} deep"),
        ("<g>" * 5000 + "</g>" * 5000, f"{MAX_DEPTH} deep"),  # no RecursionError
        (
            '<filter id="f">' + "<feOffset/>" * (MAX_FILTER_PRIMITIVES + 1) + "</filter>",
            f"limit is {MAX_FILTER_PRIMITIVES}",
        ),
        ('<filter id="f"><feConvolveMatrix order="15"/></filter>', "order 15"),
    ],
    ids=["elements", "depth", "very-deep", "primitives", "kernel"],
)
def test_static_limits_are_refused_naming_the_limit(body, mentions) -> None:
    with pytest.raises(ToolError) as caught:
        sanitise(_svg(body))
    assert (caught.value.code, caught.value.status) == ("SVG_TOO_COMPLEX", 422)
    assert mentions in caught.value.message


def test_just_under_the_static_limits_is_fine() -> None:
    depth = MAX_DEPTH - 2  # the root counts, and so does the innermost element
    sanitise(_svg("<g>" * depth + "</g>" * depth))
    sanitise(_svg('<filter id="f">' + "<feOffset/>" * MAX_FILTER_PRIMITIVES + "</filter>"))
    sanitise(_svg('<filter id="f"><feConvolveMatrix order="5"/></filter>'))
