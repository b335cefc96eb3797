"""Batch benchmark: N 12-megapixel JPEGs resized to 800 px in one sync batch over HTTP.

Starts the real stack on a temporary DATA_DIR with SQLite (uvicorn + `manage.py worker`
with one worker process, CONCURRENT_JOBS threads in it), POSTs every file in one
multipart request to /api/v1/tools/resize/batch and waits for the ZIP. For each batch
size and CONCURRENT_JOBS it reports wall time (upload + processing + download), the
job's own duration, images/s, and the peak RSS of the server's and the worker's process
trees (every process of each tree, summed, sampled every 50 ms): memory must stay flat
as the batch grows. Usage:
  .venv/bin/python bench/batch.py [--sizes 50,100] [--concurrency 1,2] [--width 800]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, children_of, parse_args, prepared_env

MIB = 1024 * 1024


@dataclass
class Row:
    """One batch: its size, CONCURRENT_JOBS, timings, and RSS per process tree."""

    files: int
    concurrency: int
    wall_s: float
    job_s: float
    idle: dict[str, int]
    peak: dict[str, int]


def make_photo(path: Path, width: int = 4000, height: int = 3000) -> None:
    """A 12 MP JPEG with photographic texture: the fixture photo enlarged, plus grain."""
    base = pyvips.Image.new_from_file(str(ROOT / "tests/fixtures/photo.jpg"))
    big = base.resize(width / base.width, vscale=height / base.height, kernel="lanczos3")
    grain = pyvips.Image.gaussnoise(big.width, big.height, sigma=6, mean=0)
    (big + grain.bandjoin([grain, grain])).cast("uchar").jpegsave(str(path), Q=88)


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int, children: dict[int, list[int]]) -> int:
    """RSS of `root` and all its descendants, summed."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss_bytes(pid)
        todo.extend(children.get(pid, []))
    return total


class PeakRss(threading.Thread):
    """Samples the summed RSS of some process trees every 50 ms; keeps each tree's peak."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peaks = dict.fromkeys(roots, 0)
        self.stopped = threading.Event()

    def sample(self) -> dict[str, int]:
        children = children_of()
        return {name: tree_rss(pid, children) for name, pid in self.roots.items()}

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            for name, value in self.sample().items():
                self.peaks[name] = max(self.peaks[name], value)

    def stop(self) -> dict[str, int]:
        self.stopped.set()
        self.join()
        return self.peaks


def start_stack(data_dir: Path, port: int, concurrency: int) -> list[subprocess.Popen]:
    """uvicorn and a worker (`manage.py worker`), each in its own session so its whole tree
    can be stopped."""
    env = prepared_env(
        data_dir,
        MAX_UPLOAD_SIZE_MB="4096",
        CONCURRENT_JOBS=str(concurrency),
        WORKER_CONCURRENCY="1",
    )
    server_cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    server_cmd += ["--no-access-log", "--log-level", "warning"]
    worker_cmd = [sys.executable, "manage.py", "worker"]
    with (data_dir / "stack.log").open("ab") as log:
        return [
            subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
            for cmd in (server_cmd, worker_cmd)
        ]


def stop_stack(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def login(base: str) -> httpx.Client:
    for _ in range(150):
        try:
            response = httpx.post(
                f"{base}/api/auth/login", json={"username": "admin", "password": "admin"}
            )
            token = response.json()["token"]
            return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=900)
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def run_batch(
    client: httpx.Client, base: str, photo: bytes, count: int, width: int, out: Path
) -> tuple[float, float]:
    """One sync batch; returns (wall seconds, the job's own seconds). Checks the ZIP."""
    files = [("files", (f"photo-{i:03d}.jpg", photo, "image/jpeg")) for i in range(count)]
    start = time.perf_counter()
    with client.stream(
        "POST",
        f"{base}/api/v1/tools/resize/batch",
        files=files,
        data={"settings": f'{{"width": {width}}}'},
    ) as response:
        if response.status_code != 200:
            raise SystemExit(f"batch failed: {response.status_code} {response.read()[:300]!r}")
        with out.open("wb") as fh:
            for chunk in response.iter_bytes():
                fh.write(chunk)
        job_id = response.headers["X-Job-Id"]
    wall = time.perf_counter() - start
    with zipfile.ZipFile(out) as archive:
        assert len(archive.namelist()) == count + 1, archive.namelist()[:5]
    job = client.get(f"{base}/api/v1/jobs/{job_id}").json()
    assert job["items"] == {"total": count, "done": count, "failed": 0}, job["items"]
    return wall, job["durationS"]


def measure(
    work: Path, port: int, concurrency: int, sizes: list[int], width: int, photo: bytes
) -> list[Row]:
    """Every batch size on a fresh stack running CONCURRENT_JOBS=`concurrency`."""
    processes = start_stack(work / f"data-c{concurrency}", port, concurrency)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        client = login(base)
        for count in sizes:
            sampler = PeakRss({"server": processes[0].pid, "worker": processes[1].pid})
            idle = sampler.sample()
            sampler.start()
            wall, job_s = run_batch(client, base, photo, count, width, work / "out.zip")
            peaks = sampler.stop()
            rows.append(Row(count, concurrency, wall, job_s, idle, peaks))
    finally:
        stop_stack(processes)
    return rows


def print_table(rows: list[Row], photo_mb: float, width: int) -> None:
    print(f"\n12 MP JPEG ({photo_mb:.1f} MB each) -> resize width {width}, one sync batch")
    print(
        f"{'files':>5} {'CONC':>4} {'wall s':>7} {'job s':>6} {'img/s':>6} {'img/s job':>9}"
        f" {'server MiB idle/peak':>21} {'worker MiB idle/peak':>21}"
    )
    for row in rows:
        server = f"{row.idle['server'] / MIB:.0f} / {row.peak['server'] / MIB:.0f}"
        worker = f"{row.idle['worker'] / MIB:.0f} / {row.peak['worker'] / MIB:.0f}"
        print(
            f"{row.files:>5} {row.concurrency:>4} {row.wall_s:>7.1f} {row.job_s:>6.1f}"
            f" {row.files / row.wall_s:>6.1f} {row.files / row.job_s:>9.1f}"
            f" {server:>21} {worker:>21}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="50,100", help="files per batch, comma-separated")
    parser.add_argument("--concurrency", default="1,2", help="CONCURRENT_JOBS values")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--port", type=int, default=13491)
    args = parse_args(parser, sizes="10,20", concurrency="1")
    sizes = [int(s) for s in args.sizes.split(",")]
    levels = [int(c) for c in args.concurrency.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_photo(work / "photo.jpg")
        photo = (work / "photo.jpg").read_bytes()
        rows: list[Row] = []
        for concurrency in levels:
            rows += measure(work, args.port, concurrency, sizes, args.width, photo)
        print_table(rows, len(photo) / 1e6, args.width)


if __name__ == "__main__":
    main()
