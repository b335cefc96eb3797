"""HTTP benchmark: Pixelsmith as the README runs it against Fastify + @fastify/multipart +
sharp (SnapOtter's stack), the same work, interleaved in rounds.

Both servers run side by side on free loopback ports for the whole run:
  - ours: scripts/serve.sh (what `make run` execs: uvicorn + a django-q worker) on a fresh
    temporary DATA_DIR with SQLite, settings as shipped; --our-env KEY=VALUE adds settings;
  - theirs: bench/peer/server.js under node (`npm install` into bench/peer/ if needed; if
    that is impossible it says so and measures ours alone).
Each request POSTs one multipart JPEG (1 MP 1155x866, or 12 MP 4000x3000 with --size 12mp)
and gets back the resized JPEG (400 px wide, or 800; q80, Lanczos3). The load generator
(httpx, --clients threads, each its own keep-alive connection) sends --requests requests
per phase; a round is one phase of ours, then one of theirs (every other round the other
way round: which server ran just before changes a phase by about 10 %). Per phase: requests/s,
p50/p95 latency, server CPU ms per request (utime+stime of the server's process tree) and
peak PSS of the tree (sum of /proc/<pid>/smaps_rollup Pss, sampled every 50 ms). Prints
each round's ratios (ours / theirs) and their median with the spread (min..max).
With --variant KEY=VALUE a second Pixelsmith, "ours+", runs with that setting in the same
rounds: a before/after of one change. Then the two Pixelsmith trees share library pages,
so each one's PSS is lower than alone: compare ours with ours+, not with a 2-server run.
With --before CHECKOUT, "before" runs the same way from another checkout (`git worktree add
/tmp/old <commit>`), in the same rounds and with this checkout's virtualenv: a before/after
of code changes.
With --floor, "floor" runs too: the same resize tool behind a bare ASGI app on the same
uvicorn (bench/floor_app.py), so ours against floor is what the platform (Django,
authentication, the job record, the worker) costs, and floor against theirs what Python does.
The load generator shares the machine's cores with the servers: compare ratios, not
absolute numbers. Usage:
  .venv/bin/python bench/http_compare.py [--rounds 5] [--requests 400] [--clients 8]
      [--size 1mp|12mp] [--our-env KEY=VALUE]... [--variant KEY=VALUE]...
      [--before CHECKOUT] [--floor] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, parse_args, prepared_env, tree_pids

PEER = ROOT / "bench" / "peer"
MIB = 1024 * 1024
SIZES = {"1mp": (1155, 866, 400), "12mp": (4000, 3000, 800)}  # source w, h, target width
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A running server: its process (the root of its tree), upload URL and auth header."""

    name: str
    process: subprocess.Popen
    url: str
    headers: dict[str, str]


@dataclass
class Phase:
    """One load phase against one server."""

    rps: float
    p50_ms: float
    p95_ms: float
    cpu_ms: float  # server CPU per request
    idle_mib: float
    peak_mib: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_photo(path: Path, width: int, height: int) -> bytes:
    """A JPEG with photographic texture (the fixture photo, enlarged, plus grain)."""
    base = pyvips.Image.new_from_file(str(ROOT / "tests/fixtures/photo.jpg"))
    big = base.resize(width / base.width, vscale=height / base.height, kernel="lanczos3")
    grain = pyvips.Image.gaussnoise(big.width, big.height, sigma=10, mean=0)
    (big + grain.bandjoin([grain, grain])).cast("uchar").jpegsave(str(path), Q=90)
    return path.read_bytes()


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server did not become healthy: {url}\n{log.read_text()[-2000:]}")


def start_ours(work: Path, extra: dict[str, str], name: str = "ours", root: Path = ROOT) -> Server:
    """scripts/serve.sh of the checkout at `root` on a fresh install (migrated,
    admin/admin), then a login token."""
    port = free_port()
    (work / name).mkdir()
    env = prepared_env(
        work / name / "data", root, HOST="127.0.0.1", PORT=str(port), PY=sys.executable
    )
    env.update(extra)
    log = work / name / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["scripts/serve.sh"], cwd=root, env=env, stdout=out, stderr=out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(f"{base}/api/v1/health", process, log)
    login = {"username": "admin", "password": "admin"}
    token = httpx.post(f"{base}/api/auth/login", json=login).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    return Server(name, process, f"{base}/api/v1/tools/resize", auth)


def start_floor(work: Path) -> Server:
    """bench/floor_app.py under the uvicorn `make run` uses (see its docstring)."""
    port = free_port()
    log = work / "floor.log"
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port),
             "--host", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_healthy(f"{base}/health", process, log)
    return Server("floor", process, f"{base}/api/v1/tools/resize", {})


def peer_installed() -> str | None:
    """None when the peer can run; else why not (after trying `npm install` once)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install -y nodejs npm)"
    if (PEER / "node_modules" / "sharp").is_dir():
        return None
    if shutil.which("npm") is None:
        return "npm is not installed (apt-get install -y nodejs npm)"
    print("installing the peer: npm install in bench/peer/ ...", flush=True)
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(command, cwd=PEER, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return f"`npm install` in bench/peer/ failed (no network?): {done.stderr[-500:]}"
    return None


def start_theirs(work: Path) -> Server:
    port = free_port()
    log = work / "theirs.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["node", "server.js", str(port)], cwd=PEER, stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_healthy(f"{base}/health", process, log)
    return Server("theirs", process, f"{base}/resize", {})


def stop(server: Server) -> None:
    """TERM to the tree's root (serve.sh stops its web and worker itself), then KILL."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        for pid in tree_pids(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.wait()


def pss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass  # the process ended while we looked
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_pss(root: int) -> int:
    return sum(pss_bytes(pid) for pid in tree_pids(root))


def tree_cpu(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in tree_pids(root))


class PeakPss(threading.Thread):
    """Samples the summed PSS of one process tree every 50 ms; keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = tree_pss(root)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            self.peak = max(self.peak, tree_pss(self.root))

    def stop(self) -> int:
        self.stopped.set()
        self.join()
        return self.peak


def multipart(url: str, photo: bytes, width: int) -> tuple[bytes, dict[str, str]]:
    """The request body, encoded once (the same bytes for both servers), and its headers."""
    files = {"file": ("photo.jpg", photo, "image/jpeg")}
    data = {"settings": f'{{"width": {width}, "quality": 80}}'}
    request = httpx.Request("POST", url, files=files, data=data)
    return request.read(), {"Content-Type": request.headers["Content-Type"]}


def load(server: Server, body: bytes, headers: dict[str, str], requests: int, clients: int):
    """`requests` POSTs from `clients` threads; returns (wall seconds, latencies in s)."""
    latencies: list[float] = []
    remaining = [requests]
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(headers={**server.headers, **headers}, timeout=120) as session:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                response = session.post(server.url, content=body)
                took = time.perf_counter() - start
                if response.status_code != 200 or response.content[:2] != b"\xff\xd8":
                    raise SystemExit(f"{server.name}: {response.status_code} {response.text[:300]}")
                with lock:
                    latencies.append(took)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


def phase(server: Server, body: bytes, headers: dict[str, str], args: argparse.Namespace) -> Phase:
    idle = tree_pss(server.process.pid)
    sampler = PeakPss(server.process.pid)
    cpu_before = tree_cpu(server.process.pid)
    sampler.start()
    wall, latencies = load(server, body, headers, args.requests, args.clients)
    peak = sampler.stop()
    cpu = tree_cpu(server.process.pid) - cpu_before
    if len(latencies) != args.requests:
        raise SystemExit(f"{server.name}: a client failed ({len(latencies)}/{args.requests} done)")
    cuts = statistics.quantiles(latencies, n=20)
    return Phase(
        rps=args.requests / wall,
        p50_ms=statistics.median(latencies) * 1000,
        p95_ms=cuts[18] * 1000,
        cpu_ms=cpu / args.requests * 1000,
        idle_mib=idle / MIB,
        peak_mib=peak / MIB,
    )


def show(name: str, result: Phase) -> None:
    print(
        f"  {name:<7}{result.rps:>8.1f} req/s  p50 {result.p50_ms:>6.1f} ms  p95 "
        f"{result.p95_ms:>6.1f} ms  CPU {result.cpu_ms:>5.1f} ms/req  PSS idle "
        f"{result.idle_mib:>4.0f} peak {result.peak_mib:>4.0f} MiB",
        flush=True,
    )


RATIOS = {  # label -> (ours / theirs, what is better)
    "req/s": (lambda o, t: o.rps / t.rps, "higher"),
    "p50": (lambda o, t: o.p50_ms / t.p50_ms, "lower"),
    "p95": (lambda o, t: o.p95_ms / t.p95_ms, "lower"),
    "CPU/req": (lambda o, t: o.cpu_ms / t.cpu_ms, "lower"),
    "peak PSS": (lambda o, t: o.peak_mib / t.peak_mib, "lower"),
}


def round_ratios(name: str, ours: Phase, theirs: Phase) -> dict[str, float]:
    ratios = {label: fn(ours, theirs) for label, (fn, _) in RATIOS.items()}
    print(
        f"  {name}/theirs  " + "  ".join(f"{label} {value:.2f}" for label, value in ratios.items())
    )
    return ratios


def summary(name: str, rounds: list[dict[str, float]]) -> None:
    print(f"\n{name} / theirs over {len(rounds)} rounds: median (min..max)")
    for label, (_, better) in RATIOS.items():
        values = [r[label] for r in rounds]
        print(
            f"  {label:<9}{statistics.median(values):>6.2f}  "
            f"({min(values):.2f}..{max(values):.2f})  {better} is better"
        )


def totals(results: dict[str, list[Phase]]) -> None:
    for name, phases in results.items():
        print(
            f"  {name}: median {statistics.median(p.rps for p in phases):.1f} req/s, "
            f"p95 {statistics.median(p.p95_ms for p in phases):.1f} ms, "
            f"peak PSS {max(p.peak_mib for p in phases):.0f} MiB"
        )


def measure(servers: list[Server], photo: bytes, width: int, args: argparse.Namespace) -> None:
    encoded = {s.name: multipart(s.url, photo, width) for s in servers}
    warm_up = max(args.clients * 4, args.requests // 10)
    for server in servers:  # warm-up: imports, caches, connections
        load(server, *encoded[server.name], warm_up, args.clients)
    results: dict[str, list[Phase]] = {s.name: [] for s in servers}
    ours = [name for name in results if name != "theirs"]
    ratios: dict[str, list[dict[str, float]]] = {name: [] for name in ours}
    for number in range(1, args.rounds + 1):
        print(f"round {number}", flush=True)
        # Every other round in reverse order: a phase runs faster or slower for coming
        # right after a given server's (by ~10 % here), which alternating cancels out.
        for server in servers if number % 2 else servers[::-1]:
            results[server.name].append(phase(server, *encoded[server.name], args))
            show(server.name, results[server.name][-1])
        for name in ours if "theirs" in results else []:
            ratios[name].append(round_ratios(name, results[name][-1], results["theirs"][-1]))
    for name in ours if "theirs" in results else []:
        summary(name, ratios[name])
    print()
    totals(results)


def start_all(work: Path, args: argparse.Namespace, peer: bool) -> list[Server]:
    """ours; with --variant, "ours+" (ours with those settings too); the peer last."""
    extra = dict(pair.split("=", 1) for pair in args.our_env)
    variant = dict(pair.split("=", 1) for pair in args.variant)
    print(f"ours: {extra or 'settings as shipped'}" + (f"; ours+: {variant}" if variant else ""))
    servers = [start_ours(work, extra)]
    if args.before:  # the same settings, another checkout's code
        servers.insert(0, start_ours(work, extra, "before", Path(args.before).resolve()))
    if variant:
        servers.append(start_ours(work, {**extra, **variant}, "ours+"))
    if args.floor:
        servers.append(start_floor(work))
    if peer:
        servers.append(start_theirs(work))
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="requests per phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--size", choices=sorted(SIZES), default="1mp")
    parser.add_argument("--our-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='also run "ours+": ours with these settings, in the same rounds (before/after)',
    )
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help='also run "before": the server of another checkout (a git worktree of an older '
        "commit), in the same rounds: a before/after of code",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help='also run "floor": our resize tool behind a bare ASGI app (bench/floor_app.py)',
    )
    args = parse_args(parser, rounds=3, requests=120)
    src_w, src_h, width = SIZES[args.size]
    why_not = peer_installed()
    if why_not:
        print(f"NOT COMPARED: the Fastify + sharp peer cannot run: {why_not}. Ours alone:")
    print(
        f"POST {src_w}x{src_h} JPEG -> {width} px JPEG q80; {args.clients} clients, "
        f"{args.requests} requests per phase, {args.rounds} rounds, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo = make_photo(work / "photo.jpg", src_w, src_h)
        servers: list[Server] = []
        try:
            servers = start_all(work, args, peer=not why_not)
            measure(servers, photo, width, args)
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    main()
