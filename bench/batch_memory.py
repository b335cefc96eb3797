"""Batch memory benchmark: one N-file resize batch on Pixelsmith as the README runs it
against the same batch on Fastify + @fastify/multipart + sharp, interleaved in rounds.

Issue 14's goal: peak memory (PSS of web + workers) during a 100-file batch no more than
sharp's, and back to within 10 % of idle after the batch.
  - ours: scripts/serve.sh (bench.http_compare.start_ours: uvicorn + the django-q worker,
    settings as shipped, but for an upload limit and sync wait that fit the batch); one
    synchronous POST /api/v1/tools/resize/batch, answered with a ZIP of N entries plus
    manifest.json (checked);
  - theirs: bench/peer/server.js's POST /batch: every part buffered (toBuffer), then each
    file resized in turn with sharp; answers {"count": N, "bytes": ...} (checked).
Every file is the same JPEG (1 MP 1155x866 -> 400 px, or 12 MP 4000x3000 -> 800 px with
--size 12mp; q80, Lanczos3), sent as the same multipart body to both. After a warm-up batch
of the same size, per round and server: PSS of the server's process tree idle before the batch,
its peak during (sampled every 50 ms), 3 s and 10 s after the answer, and the batch's wall
time. Prints each round's ratios and their medians. Usage:
  .venv/bin/python bench/batch_memory.py [--rounds 3] [--files 100] [--size 1mp|12mp] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import parse_args
from bench.http_compare import (
    MIB,
    SIZES,
    PeakPss,
    Server,
    make_photo,
    peer_installed,
    start_ours,
    start_theirs,
    stop,
    tree_pss,
)

SETTLE_S = (3, 10)  # PSS is read this long after the answer


@dataclass
class Batch:
    """One batch on one server: PSS of its process tree (bytes) and the wall time."""

    idle: int
    peak: int
    after: tuple[int, int]  # at SETTLE_S
    wall_s: float


def body(photo: bytes, count: int, width: int) -> tuple[bytes, dict[str, str]]:
    """One multipart body with `count` copies of the photo in `files`, and its headers."""
    files = [("files", (f"photo-{i:03d}.jpg", photo, "image/jpeg")) for i in range(count)]
    data = {"settings": json.dumps({"width": width, "quality": 80})}
    request = httpx.Request("POST", "http://batch", files=files, data=data)
    return request.read(), {"Content-Type": request.headers["Content-Type"]}


def batch_url(server: Server) -> str:
    """Ours: /api/v1/tools/resize/batch; the peer: /batch beside its /resize."""
    if server.name == "theirs":
        return server.url.rsplit("/", 1)[0] + "/batch"
    return f"{server.url}/batch"


def send(server: Server, content: bytes, headers: dict[str, str], count: int) -> float:
    """POST one batch and check its answer; returns the wall seconds."""
    start = time.perf_counter()
    response = httpx.post(
        batch_url(server), content=content, headers={**server.headers, **headers}, timeout=1800
    )
    wall = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{server.name}: {response.status_code} {response.text[:300]}")
    if server.name == "theirs":
        answer = response.json()
        if answer["count"] != count or answer["bytes"] <= 0:
            raise SystemExit(f"theirs: answered {answer} for {count} files")
    else:
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        if len(names) != count + 1 or "manifest.json" not in names:
            raise SystemExit(f"ours: the ZIP has {len(names)} entries for {count} files")
    return wall


def measure(server: Server, content: bytes, headers: dict[str, str], count: int) -> Batch:
    root = server.process.pid
    idle = tree_pss(root)
    sampler = PeakPss(root)
    sampler.start()
    wall = send(server, content, headers, count)
    peak = sampler.stop()
    after, waited = [], 0
    for settle in SETTLE_S:
        time.sleep(settle - waited)
        waited = settle
        after.append(tree_pss(root))
    return Batch(idle, peak, (after[0], after[1]), wall)


def show(name: str, b: Batch) -> None:
    mib = [round(v / MIB) for v in (b.idle, b.peak, *b.after)]
    print(
        f"  {name:<7} PSS idle {mib[0]:>4} peak {mib[1]:>5} +3s {mib[2]:>4} +10s {mib[3]:>4} MiB"
        f"  wall {b.wall_s:>6.2f} s",
        flush=True,
    )


def ratios(ours: Batch, theirs: Batch | None) -> dict[str, float]:
    """This round's figures: ours/theirs, then each server's after/idle."""
    result = {}
    if theirs is not None:
        result["peak o/t"] = ours.peak / theirs.peak
        result["wall o/t"] = ours.wall_s / theirs.wall_s
    for name, b in (("ours", ours), ("theirs", theirs)):
        if b is not None:
            result[f"{name} +3s/idle"] = b.after[0] / b.idle
            result[f"{name} +10s/idle"] = b.after[1] / b.idle
    print("  " + "  ".join(f"{label} {value:.2f}" for label, value in result.items()))
    return result


def run(servers: list[Server], photo: bytes, width: int, args: argparse.Namespace) -> None:
    encoded = body(photo, args.files, width)
    # A whole batch first: imports, caches, the worker's first job, and the steady state of
    # each server's heap (a fresh Node heap is ~70 MiB smaller than after its first batch,
    # and only the first round saw that).
    for server in servers:
        send(server, *encoded, args.files)
    time.sleep(SETTLE_S[0])
    rounds: list[dict[str, float]] = []
    for number in range(1, args.rounds + 1):
        print(f"round {number}", flush=True)
        results = {}
        for server in servers:
            results[server.name] = measure(server, *encoded, args.files)
            show(server.name, results[server.name])
        rounds.append(ratios(results["ours"], results.get("theirs")))
    print(f"\nmedian over {len(rounds)} rounds (min..max)")
    for label in rounds[0]:
        values = [r[label] for r in rounds]
        spread = f"({min(values):.2f}..{max(values):.2f})"
        print(f"  {label:<17}{statistics.median(values):>6.2f}  {spread}")
    print("goals: peak o/t <= 1.00; ours +3s/idle and +10s/idle <= 1.10")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=100, help="files per batch")
    parser.add_argument("--size", choices=sorted(SIZES), default="1mp")
    args = parse_args(parser, rounds=1, files=30)
    src_w, src_h, width = SIZES[args.size]
    why_not = peer_installed()
    if why_not:
        print(f"NOT COMPARED: the Fastify + sharp peer cannot run: {why_not}. Ours alone:")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo = make_photo(work / "photo.jpg", src_w, src_h)
        upload_mb = len(photo) * args.files // MIB + 16
        # As shipped but for these two: the whole batch is one request that waits for its ZIP.
        extra = {"MAX_UPLOAD_SIZE_MB": str(max(upload_mb, 100)), "SYNC_WAIT_S": "1800"}
        print(
            f"{args.files} x {src_w}x{src_h} JPEG ({len(photo) / 1e6:.2f} MB) -> {width} px "
            f"JPEG q80 in one batch; {args.rounds} rounds, {os.cpu_count()} cores; ours: {extra}"
        )
        print(
            "PSS = summed Pss of the server's process tree; peak o/t, wall o/t = ours / theirs "
            "(lower is better); +3s/idle, +10s/idle = PSS 3 s / 10 s after the answer / before"
        )
        servers: list[Server] = []
        try:
            servers.append(start_ours(work, extra))
            if not why_not:
                servers.append(start_theirs(work))
            run(servers, photo, width, args)
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    main()
