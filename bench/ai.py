"""The shipped ONNX models on this machine: load time, warm latency, peak memory.

Each model runs in a process of its own (so its peak RSS is its own): it is loaded with
tools.ai.onnx_session, run once to warm up, then timed over --rounds runs on a
representative input. The upscalers also upscale a 572x1024 image (the size the upscale
services' users send) through the tiling helper: animevideov3 x4 always, x4plus with
--slow (minutes on a CPU). With --device gpu (onnxruntime-gpu on an NVIDIA machine) the
same runs on CUDA; the provider actually used is printed.

Usage: .venv/bin/python bench/ai.py [--rounds 5] [--device cpu|gpu] [--slow] [--only id,...]
The shipped models are installed first if needed, into MODELS_DIR (default: the test
suite's .cache/models).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np

from bench.common import ROOT, parse_args
from tools.ai import install, onnx_session, realesrgan
from tools.ai.catalog import ModelFile, ModelSpec, catalog
from tools.ai.store import ModelStore
from tools.base import Context

MODELS_DIR = Path(os.environ.get("MODELS_DIR", ROOT / ".cache" / "models"))
# A representative input per task: (N, C, H, W) float32.
INPUTS = {
    "ocr-det": (1, 3, 640, 640),
    "ocr-rec": (1, 3, 48, 320),
    "ocr-cls": (1, 3, 48, 192),
    "segment": (1, 3, 320, 320),
    "upscale": (1, 3, 64, 64),
}
BIG = (1024, 572)  # (height, width) of the tiled upscale


def runs() -> list[tuple[ModelSpec, ModelFile]]:
    return [
        (spec, file)
        for spec in catalog().values()
        if spec.engine == "onnxruntime" and spec.source.kind == "package"
        for file in spec.files
    ]


def measure(spec: ModelSpec, file: ModelFile, rounds: int, device: str, slow: bool) -> dict:
    """In a child process: load, warm up, time; the child's own peak RSS."""
    ctx = Context(
        Path(tempfile.mkdtemp()), device=device, models=ModelStore(), model_dir=MODELS_DIR
    )
    started = time.perf_counter()
    session = onnx_session.for_model(ctx, spec, file)
    load_s = time.perf_counter() - started
    feed = {session.input_names[0]: np.random.default_rng(0).random(INPUTS[spec.task], np.float32)}
    session.run(feed)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        session.run(feed)
        times.append(time.perf_counter() - started)
    row: dict[str, Any] = {
        "model": session.model_id,
        "provider": session.provider,
        "load_s": round(load_s, 3),
        "warm_ms": round(statistics.median(times) * 1000, 1),
        "input": "x".join(map(str, INPUTS[spec.task][2:])),
    }
    if spec.task == "upscale" and (file.name.endswith("animevideov3-x4.onnx") or slow):
        image = np.random.default_rng(1).integers(0, 256, (*BIG, 3), np.uint8)
        started = time.perf_counter()
        realesrgan.upscale(session, image, scale=file.scale or 4, ctx=ctx)
        row["upscale_572x1024_s"] = round(time.perf_counter() - started, 2)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return row


HEADER = {
    "model": "model",
    "provider": "provider",
    "load_s": "load s",
    "warm_ms": "warm ms",
    "input": "input",
    "upscale_572x1024_s": "572x1024 s",
    "peak_rss_mb": "peak MB",
}
WIDTHS = {"model": -58, "provider": -22, "load_s": 7, "warm_ms": 8, "input": 8}


def line(row: dict[str, Any]) -> str:
    """One table row: text columns left-aligned (negative width), numbers right-aligned."""
    cells = []
    for key, title in HEADER.items():
        width = WIDTHS.get(key, len(title))
        value = str(row.get(key, "-"))
        cells.append(value.ljust(-width) if width < 0 else value.rjust(width))
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--slow", action="store_true", help="also x4plus on 572x1024")
    parser.add_argument("--only", default="", help="comma-separated model ids")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parse_args(parser, rounds=1)
    if args.child:
        spec_id, name = args.child.split("/", 1)
        spec = catalog()[spec_id]
        file = next(f for f in spec.files if f.name == name)
        print(json.dumps(measure(spec, file, args.rounds, args.device, args.slow)))
        return
    only = set(filter(None, args.only.split(",")))
    install.Installer(MODELS_DIR, MODELS_DIR / ".wheels", log=lambda _: None).install_shipped()
    print(line(HEADER))
    for spec, file in runs():
        if only and spec.id not in only:
            continue
        command = [sys.executable, __file__, "--child", f"{spec.id}/{file.name}"]
        command += ["--rounds", str(args.rounds), "--device", args.device]
        command += ["--slow"] if args.slow else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{spec.id}/{file.name}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        print(line(json.loads(done.stdout)))


if __name__ == "__main__":
    main()
