"""video-upscale on this machine: frames per second of the default model on a 480p clip,
and the peak memory of the process that ran it.

A 854x480 H.264 clip with audio (generated: moving shapes and a tone) is upscaled x2 to
1708x960 by realesr-animevideov3 and encoded H.264 (preset fast), the way a worker runs
the tool (tools.runner), in a child process of its own so its peak RSS is its own. The
fps counts the whole loop (decode, network, encode) after the model is loaded. With
--device gpu (onnxruntime-gpu on an NVIDIA machine) the frames are batched on CUDA; the
provider actually used is printed.

Usage: .venv/bin/python bench/video.py [--seconds 1] [--fps 24] [--device cpu|gpu]
       [--codec h264] [--scale 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, parse_args

MODELS_DIR = Path(os.environ.get("MODELS_DIR", ROOT / ".cache" / "models"))


def make_clip(folder: Path, seconds: float, fps: int) -> Path:
    from tests.tools import video_support

    path = folder / "clip-480p.mp4"
    spec = video_support.Spec(width=854, height=480, frames=round(seconds * fps), fps=fps)
    video_support.write(spec, path)
    return path


def child(clip: Path, device: str, codec: str, scale: int) -> dict[str, Any]:
    """Runs in the child: load the model (not timed), then upscale the clip."""
    from tests.shipped_models import shipped_models_dir
    from tools import imaging, runner, video_upscale
    from tools.base import Context
    from tools.video import enlarge

    models = shipped_models_dir() if MODELS_DIR == ROOT / ".cache" / "models" else MODELS_DIR
    ctx = Context(scratch_dir=clip.parent / "scratch", device=device, model_dir=models)
    loaded = enlarge.load(ctx, "realesr-animevideov3", scale)  # warm: the store keeps it
    settings = {"scale": scale, "codec": codec, "preset": "fast"}
    started = time.perf_counter()
    output = runner.execute(
        video_upscale.TOOL, [imaging.open_source(clip, clip.name)], settings, ctx
    )
    wall = time.perf_counter() - started
    return {
        "device": loaded.described["device"],
        "engine": loaded.described["engine"],
        "batch": loaded.batch,
        "tile": loaded.tile,
        "frames": output.extras["frames"],
        "size": f"{output.extras['width']}x{output.extras['height']}",
        "loopFps": output.extras["fps"],
        "wallS": round(wall, 2),
        "wallFps": round(output.extras["frames"] / wall, 3),
        "outputMb": round(output.path.stat().st_size / 1e6, 2) if output.path else 0,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--codec", default="h264")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parse_args(parser, seconds=0.5)
    if args.child:
        print(json.dumps(child(Path(args.child), args.device, args.codec, args.scale)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp), args.seconds, args.fps)
        command = [sys.executable, __file__, "--child", str(clip), "--device", args.device]
        command += ["--codec", args.codec, "--scale", str(args.scale)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(done.stderr[-2000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"video-upscale, 854x480 {args.seconds:g} s at {args.fps} fps, x{args.scale}, {args.codec}"
    )
    for key, value in result.items():
        print(f"  {key:>10}: {value}")


if __name__ == "__main__":
    main()
