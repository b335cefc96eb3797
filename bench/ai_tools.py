"""Each AI tool's latency on a 1-megapixel portrait, in-process, on this machine's CPU.

The input is the scikit-image astronaut (NASA, public domain: one face, a flag behind)
enlarged to 1024x1024. Each tool runs with the settings below, once to load its models
(the "first" column: model loads and imports included), then --rounds times warm
(median). Models come from MODELS_DIR (default: the test suite's .cache/models, installed
if needed). Tools whose model is not installed say so (503) instead of a time.

Usage: .venv/bin/python bench/ai_tools.py [--rounds 3] [--only a,b] [--device cpu|gpu] [--slow]
--slow adds the Real-ESRGAN x4plus upscales (minutes on a CPU); --device gpu runs the ONNX
models on CUDA where onnxruntime-gpu and a GPU are there (the device used is printed).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyvips

from bench.common import ROOT, parse_args
from tools import imaging, registry, runner
from tools.ai import install
from tools.base import Context, Output, Source, ToolError

MODELS_DIR = Path(os.environ.get("MODELS_DIR", ROOT / ".cache" / "models"))
ASTRONAUT = Path(sys.modules["pyvips"].__file__ or "").parents[1] / "skimage/data/astronaut.png"

# (tool id, settings); each tool with models appears at least once.
RUNS: list[tuple[str, dict[str, Any]]] = [
    ("upscale", {"scale": 2, "model": "realesr-animevideov3"}),
    ("upscale", {"scale": 4, "model": "realesr-animevideov3"}),
    ("upscale", {"scale": 2, "model": "realcugan-se-conservative"}),
    ("remove-background", {}),
    ("remove-background", {"model": "selfie"}),
    ("remove-background", {"alphaMatting": True}),
    ("ocr", {"quality": "fast"}),
    ("ocr", {"quality": "balanced"}),
    ("ocr", {"quality": "best"}),
    ("blur-faces", {}),
    ("smart-crop", {"mode": "subject", "width": 640, "height": 360}),
    ("smart-crop", {"mode": "face", "width": 600, "height": 600}),
    ("red-eye-removal", {}),
    ("passport-photo", {"country": "us"}),
    ("erase-object", {"engine": "telea"}),
    ("restore-photo", {}),
    ("enhance-faces", {}),
    ("colorize", {}),
    ("content-aware-resize", {"width": 896, "protectFaces": True}),
]
SLOW: list[tuple[str, dict[str, Any]]] = [
    ("upscale", {"scale": 2, "model": "realesrgan-x4plus"}),
    ("upscale", {"scale": 4, "model": "realesrgan-x4plus-anime"}),
]


def portrait(path: Path) -> Source:
    image = pyvips.Image.new_from_file(str(ASTRONAUT))
    image.resize(2, kernel="lanczos3").pngsave(str(path))
    return imaging.open_source(path, "astronaut.png")


def mask_for(settings: dict[str, Any], tool_id: str) -> dict[str, Any]:
    """erase-object needs a mask: a 60x200 stroke across the flag."""
    if tool_id != "erase-object":
        return settings
    mask = pyvips.Image.black(1024, 1024).draw_rect(255, 700, 80, 60, 200, fill=True)
    import base64

    return {**settings, "maskData": base64.b64encode(mask.pngsave_buffer()).decode()}


def run_once(tool_id: str, settings: dict[str, Any], source: Source, ctx: Context) -> Output:
    tool = registry.get(tool_id)
    assert tool is not None, tool_id
    shutil.rmtree(ctx.scratch_dir, ignore_errors=True)
    parsed = runner.validate_settings(tool, mask_for(settings, tool_id))
    return runner.execute(tool, [source], parsed, ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated tool ids")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--slow", action="store_true")
    args = parse_args(parser, rounds=1)
    wanted = {t for t in args.only.split(",") if t}
    install.Installer(MODELS_DIR, MODELS_DIR / ".wheels", log=lambda _: None).install_shipped()
    with tempfile.TemporaryDirectory() as tmp:
        source = portrait(Path(tmp) / "astronaut.png")
        ctx = Context(Path(tmp) / "s", device=args.device, model_dir=MODELS_DIR)
        print(f"1 MP portrait (1024x1024 PNG), {os.cpu_count()} CPUs; median of {args.rounds}")
        print(f"{'tool':<22}{'first s':>9}{'warm s':>9}  {'device':<6} settings / engine")
        for tool_id, settings in RUNS + (SLOW if args.slow else []):
            if wanted and tool_id not in wanted:
                continue
            try:
                started = time.perf_counter()
                output = run_once(tool_id, settings, source, ctx)
                first = time.perf_counter() - started
                times = []
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    run_once(tool_id, settings, source, ctx)
                    times.append(time.perf_counter() - started)
                shown = f"{first:>9.2f}{statistics.median(times):>9.3f}  {output.device:<6}"
                print(f"{tool_id:<22}{shown} {settings} / {output.engine[:70]}")
            except ToolError as exc:
                print(f"{tool_id:<22}{'n/a':>9}{'':>9}  {'':<6} {settings} / {exc.code}")


if __name__ == "__main__":
    main()
