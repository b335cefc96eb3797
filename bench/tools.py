"""Per-tool latency on a 12-megapixel photo, in-process (tools.runner.execute), one table.

Each registered tool runs on a 4000x3000 JPEG (two-input tools get a logo-sized second
image, many-input tools four copies) with the settings below (or none), median of
--rounds runs after a warm-up. Usage: .venv/bin/python bench/tools.py [--rounds 3] [--only a,b]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one core, like PERFORMANCE.md's anchors

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyvips

from bench.common import ROOT, parse_args
from tools import imaging, registry, runner
from tools.base import Context, Inputs, Source, Tool, ToolError

# Settings for a representative run; a tool not listed runs with {}.
SETTINGS: dict[str, dict[str, Any]] = {
    "resize": {"width": 800},
    "crop": {"left": 500, "top": 500, "width": 2000, "height": 1500},
    "rotate": {"angle": 90},
    "convert": {"format": "webp"},
    "compress": {"quality": 70},
    "optimize-for-web": {"format": "auto", "maxWidthPx": 1600},
    "edit-metadata": {"title": "Benchmark", "author": "Pixelsmith"},
    "color-adjustments": {"brightness": 10, "contrast": 10, "saturation": 10},
    "watermark-text": {"text": "© Pixelsmith"},
    "text-overlay": {"text": "Hello", "x": 100, "y": 100},
    "split": {"mode": "grid", "rows": 2, "cols": 2},
    "border": {"width": 40, "color": "#000000"},
    "qr-generate": {"data": "https://example.com/pixelsmith"},
    "svg-to-raster": {"width": 1024},
    "pdf-to-image": {"dpi": 72},
    "content-aware-resize": {"width": 3600},
}


# Not image work on a photo: the AI tools have bench/ai_tools.py (a 1 MP portrait) and
# bench/video.py; the system tools load, download or benchmark models (bench/ai.py).
SKIPPED = {"ai", "system"}


def make_photo(path: Path, width: int = 4000, height: int = 3000) -> None:
    """A JPEG with photographic texture: the fixture photo enlarged, plus grain."""
    base = pyvips.Image.new_from_file(str(ROOT / "tests/fixtures/photo.jpg"))
    big = base.resize(width / base.width, vscale=height / base.height, kernel="lanczos3")
    grain = pyvips.Image.gaussnoise(big.width, big.height, sigma=10, mean=0)
    (big + grain.bandjoin([grain, grain])).cast("uchar").jpegsave(str(path), Q=90)


def inputs_for(tool: Tool, photo: Source, logo: Source) -> list[Source]:
    return {
        Inputs.NONE: [],
        Inputs.OPTIONAL: [],  # qr-generate: its logo is optional, the plain code is the case
        Inputs.ONE: [photo],
        Inputs.TWO: [photo, logo],
        Inputs.MANY: [photo] * 4,
    }[tool.inputs]


def time_tool(tool: Tool, sources: list[Source], scratch: Path, rounds: int) -> float:
    """Median seconds of one run (after a warm-up); scratch is emptied between runs."""
    settings = SETTINGS.get(tool.id, {})
    runs = []
    for attempt in range(rounds + 1):
        shutil.rmtree(scratch, ignore_errors=True)
        start = time.perf_counter()
        runner.execute(tool, sources, settings, Context(scratch))
        if attempt:
            runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated tool ids")
    args = parse_args(parser, rounds=1)
    wanted = {t for t in args.only.split(",") if t}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_photo(work / "photo.jpg")
        make_photo(work / "logo.jpg", 400, 300)
        photo = imaging.open_source(work / "photo.jpg", "photo.jpg")
        logo = imaging.open_source(work / "logo.jpg", "logo.jpg")
        print(f"12 MP JPEG (4000x3000, {photo.size / 1e6:.1f} MB); median of {args.rounds} runs")
        print(f"{'tool':<24}{'seconds':>9}  settings")
        for tool in registry.all_tools():
            if (wanted and tool.id not in wanted) or (not wanted and tool.category in SKIPPED):
                continue
            try:
                seconds = time_tool(tool, inputs_for(tool, photo, logo), work / "s", args.rounds)
                shown = f"{seconds:>9.3f}"
            except ToolError as exc:  # a tool whose input is not a photo (svg, pdf, gif)
                shown = f"{'n/a':>9}  ({exc.code})"
            print(f"{tool.id:<24}{shown}  {SETTINGS.get(tool.id, {})}")


if __name__ == "__main__":
    main()
