"""pdf-to-image memory: the peak memory of rendering one big page (about 96 MP: a 4700 pt
square page at 150 dpi) to PNG, Pixelsmith's banded renderer against the baseline of
rendering the whole page at once with pypdfium2 (what the tool did before). Each runs in a
fresh process, sampled every 10 ms: its own (anonymous) memory, which is what a worker
really holds, and its file-backed pages (the banded renderer maps its scratch file; the
kernel drops those pages under pressure).

Usage: .venv/bin/python bench/pdf_pages.py [--points 4700] [--dpi 150]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, parse_args

BASELINE = """
import sys, pypdfium2 as pdfium, pyvips, resource
doc = pdfium.PdfDocument(sys.argv[1]); page = doc[0]
pil = page.render(scale=float(sys.argv[2]) / 72, fill_color=(255, 255, 255, 255)).to_pil()
pil = pil.convert("RGB")
image = pyvips.Image.new_from_memory(pil.tobytes(), pil.width, pil.height, 3, "uchar")
image.pngsave(sys.argv[3])
"""

OURS = """
import sys
from pathlib import Path
from tools import runner
from tools.base import Context, Source
path = Path(sys.argv[1])
source = Source(path=path, name="big.pdf", format="pdf", size=path.stat().st_size)
ctx = Context(scratch_dir=Path(sys.argv[3]).parent / "scratch", max_megapixels=200)
from tools import registry
runner.execute(registry.get("pdf-to-image"), [source], {"dpi": int(sys.argv[2])}, ctx)
"""


def make_pdf(path: Path, points: int) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (points, points), (200, 120, 40)).save(buffer, "PDF", resolution=72.0)
    path.write_bytes(buffer.getvalue())


def _status(pid: int) -> dict[str, int]:
    """RssAnon and RssFile of a process, in kB (0 once it has gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split(":") for line in lines if line.startswith(("RssAnon", "RssFile")))
    return {name: int(value.split()[0]) for name, value in fields}


def measure(script: str, pdf: Path, dpi: int, out: Path) -> tuple[float, float, float]:
    """Peak anonymous MB, peak file-backed MB and wall seconds of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(pdf), str(dpi), str(out)], cwd=ROOT
    )
    anon = file = 0
    while process.poll() is None:
        status = _status(process.pid)
        anon = max(anon, status.get("RssAnon", 0))
        file = max(file, status.get("RssFile", 0))
        time.sleep(0.01)
    if process.returncode:
        raise SystemExit(f"the run failed ({process.returncode})")
    return anon / 1024, file / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=4700)
    parser.add_argument("--dpi", type=int, default=150)
    args = parse_args(parser, points=2000)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "big.pdf"
        make_pdf(pdf, args.points)
        pixels = (round(args.points * args.dpi / 72)) ** 2 / 1e6
        base = measure(BASELINE, pdf, args.dpi, Path(folder) / "base.png")
        ours = measure(OURS, pdf, args.dpi, Path(folder) / "ours.png")
    print(f"one {pixels:.0f} MP page at {args.dpi} dpi to PNG:")
    print("                                own memory   file-backed   wall time")
    for label, (anon, file, seconds) in (("whole page (baseline)", base), ("banded", ours)):
        print(f"  {label:28} {anon:7.0f} MB {file:10.0f} MB {seconds:9.1f} s")
    print(f"  own memory: {ours[0] / base[0]:.2f}x of the baseline")


if __name__ == "__main__":
    main()
