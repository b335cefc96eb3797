"""Resize benchmark: a 12 MP JPEG to 800 px wide (JPEG q80, Lanczos3, no metadata), and
PERFORMANCE.md's HTTP anchor: a 1 MP JPEG to 400 px.

Measures, in one run on one core each:
  - Pillow (thumbnail with reducing_gap=1.0, which uses JPEG draft mode): the baseline;
  - Pixelsmith's resize tool in-process (tools.runner.execute);
  - Pixelsmith over HTTP: uvicorn + Django + auth + upload + job row + streamed response,
    sequential requests from one client, then 2 concurrent clients;
interleaved: each round runs every path in turn. Prints images/s and each path's ratio to
the Pillow run of the same round (median and spread).
Usage: .venv/bin/python bench/resize.py [--rounds 3] [--n 30]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one core, like the anchors in PERFORMANCE.md

import httpx
import pyvips
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import parse_args, start_server  # noqa: E402
from tools import imaging, registry, runner  # noqa: E402
from tools.base import Context  # noqa: E402

SCENARIOS = [  # (label, source width, source height, target width)
    ("12 MP JPEG (4000x3000) -> 800 px", 4000, 3000, 800),
    ("1 MP JPEG (1155x866) -> 400 px", 1155, 866, 400),
]


def make_photo(path: Path, width: int, height: int) -> None:
    """A JPEG with photographic texture (the fixture photo, enlarged, plus grain)."""
    base = pyvips.Image.new_from_file(str(ROOT / "tests/fixtures/photo.jpg"))
    big = base.resize(width / base.width, vscale=height / base.height, kernel="lanczos3")
    grain = pyvips.Image.gaussnoise(big.width, big.height, sigma=10, mean=0)
    photo = (big + grain.bandjoin([grain, grain])).cast("uchar")
    photo.jpegsave(str(path), Q=90)


Path_ = tuple[Callable[[], object], int]  # one call, and how many images it resizes


def interleaved(paths: dict[str, Path_], n: int, rounds: int) -> dict[str, list[float]]:
    """Images/s of each path per round; every round runs each path on ~`n` images in turn
    (the order rotates each round), so the baseline and ours see the same machine state."""
    for fn, _ in paths.values():
        fn()  # warm-up: caches, lazy imports, connections
    names = list(paths)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            fn, images = paths[name]
            calls = max(1, n // images)
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            rates[name].append(calls * images / (time.perf_counter() - start))
    return rates


def pillow_resize(path: Path, width: int) -> bytes:
    with Image.open(path) as im:
        im.thumbnail((width, width * 10), Image.Resampling.LANCZOS, reducing_gap=1.0)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=80)
        return out.getvalue()


def tool_resize(path: Path, scratch: Path, width: int) -> bytes:
    source = imaging.open_source(path, path.name)
    tool = registry.get("resize")
    assert tool is not None
    output = runner.execute(tool, [source], {"width": width, "quality": 80}, Context(scratch))
    assert output.path is not None
    return output.path.read_bytes()


def http_path(port: int, photo: Path, width: int, clients: int) -> Callable[[], object]:
    """One call: `clients` concurrent POSTs of `photo` to the resize tool (1 = sequential)."""
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": "admin", "password": "admin"}
    ).json()["token"]
    data = photo.read_bytes()
    session = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def one(_: object = None) -> None:
        response = session.post(
            f"{base}/api/v1/tools/resize",
            files={"file": ("photo.jpg", data, "image/jpeg")},
            data={"settings": f'{{"width": {width}, "quality": 80}}'},
        )
        assert response.status_code == 200, response.text[:200]

    if clients == 1:
        return one
    pool = ThreadPoolExecutor(clients)
    return lambda: list(pool.map(one, range(clients)))


def run_scenario(work: Path, port: int, args: argparse.Namespace, scenario: tuple) -> None:
    label, src_w, src_h, width = scenario
    photo = work / f"photo-{src_w}.jpg"
    make_photo(photo, src_w, src_h)
    check = pyvips.Image.new_from_buffer(tool_resize(photo, work / "s", width), "")
    assert check.width == width, check.width
    paths: dict[str, Path_] = {
        "Pillow thumbnail(reducing_gap=1.0)": (lambda: pillow_resize(photo, width), 1),
        "Pixelsmith resize, in-process": (lambda: tool_resize(photo, work / "s", width), 1),
        "Pixelsmith HTTP, 1 client (uvicorn, 1 proc)": (http_path(port, photo, width, 1), 1),
        "Pixelsmith HTTP, 2 clients (uvicorn, 1 proc)": (http_path(port, photo, width, 2), 2),
    }
    show(label, interleaved(paths, args.n, args.rounds), args)


def show(label: str, rates: dict[str, list[float]], args: argparse.Namespace) -> None:
    """Median img/s of each path, and its ratio to Pillow: median and spread of the
    per-round ratios (each round's Pillow run is the baseline of that round)."""
    pillow, inproc = (rates[name] for name in list(rates)[:2])
    print(f"\n{label} JPEG q80; {args.rounds} interleaved rounds of ~{args.n} images each")
    print(f"{'path':<44}{'img/s':>8}{'vs Pillow (min..max)':>26}{'vs in-process':>15}")
    for name, values in rates.items():
        to_pillow = [v / p for v, p in zip(values, pillow, strict=True)]
        to_inproc = [v / i for v, i in zip(values, inproc, strict=True)]
        spread = f"{statistics.median(to_pillow):.2f}x ({min(to_pillow):.2f}..{max(to_pillow):.2f})"
        print(
            f"{name:<44}{statistics.median(values):>8.1f}{spread:>26}"
            f"{statistics.median(to_inproc):>14.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=30, help="images per round")
    parser.add_argument("--port", type=int, default=13490)
    args = parse_args(parser, rounds=3, n=10)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = start_server(work / "data", args.port)
        try:
            for scenario in SCENARIOS:
                run_scenario(work, args.port, args, scenario)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
