"""File library benchmark: 1,000 uploads, list latency as the library grows, thumbnails/s.

Starts uvicorn (one process, VIPS_CONCURRENCY=1) on a temporary DATA_DIR with SQLite and
local storage, then over HTTP:
  - uploads 1,000 distinct 640×480 JPEGs as a plain user, --batch per request (files/s);
  - after 100 and after 1,000 files, times GET /api/v1/files at page 1 and page 40
    (pageSize 25, newest first), median of --repeat requests, for that user (their own
    files) and for an admin (everyone's): it must not grow with the library size;
  - requests the thumbnail of --thumbs files for the first time (rendered: thumbnails/s),
    then again (served from the cache).
Usage: .venv/bin/python bench/library.py [--files 1000] [--batch 50] [--repeat 30] [--thumbs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, parse_args, start_server

PAGE_SIZE = 25


def make_images(count: int) -> list[bytes]:
    """`count` different 640×480 JPEGs: the fixture photo, tinted and shifted per image."""
    base = pyvips.Image.new_from_file(str(ROOT / "tests/fixtures/photo.jpg"))
    wide = base.resize(1.6)  # 960×640: room to shift a 640×480 window
    images = []
    for i in range(count):
        window = wide.crop(i * 7 % 320, i * 3 % 160, 640, 480)
        tint = [i % 17, (i // 17) % 17, (i // 289) % 17]
        images.append(bytes((window + tint).cast("uchar").jpegsave_buffer(Q=85)))
    return images


def signed_in(base: str, username: str, password: str) -> httpx.Client:
    login = {"username": username, "password": password}
    token = httpx.post(f"{base}/api/auth/login", json=login).json()["token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def clients(base: str) -> tuple[httpx.Client, httpx.Client]:
    """The first admin, and a plain user it registers."""
    admin = signed_in(base, "admin", "admin")
    user = {"username": "bench", "password": "bench-pass-phrase-42", "role": "user"}
    assert admin.post("/api/auth/register", json=user).status_code == 201
    # An account an admin creates must choose its own password before anything else.
    first = signed_in(base, user["username"], user["password"])
    chosen = "bench-chosen-phrase-43"
    change = {"currentPassword": user["password"], "newPassword": chosen}
    assert first.post("/api/auth/change-password", json=change).status_code == 200
    return signed_in(base, user["username"], chosen), admin


def upload(client: httpx.Client, images: list[bytes], start: int, batch: int) -> list[str]:
    """Upload images[start:] in requests of `batch` files; returns the new file ids."""
    ids: list[str] = []
    for first in range(start, len(images), batch):
        chunk = images[first : first + batch]
        files = [
            ("files", (f"photo-{first + i:04}.jpg", data, "image/jpeg"))
            for i, data in enumerate(chunk)
        ]
        response = client.post("/api/v1/upload", files=files)
        assert response.status_code == 201, response.text[:300]
        ids += [f["id"] for f in response.json()["files"]]
    return ids


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def list_latency(client: httpx.Client, page: int, repeat: int) -> float:
    def one() -> None:
        response = client.get("/api/v1/files", params={"page": page, "pageSize": PAGE_SIZE})
        assert response.status_code == 200, response.text[:300]

    return median_ms(one, repeat)


def thumbnails_per_s(client: httpx.Client, ids: list[str]) -> float:
    start = time.perf_counter()
    for file_id in ids:
        response = client.get(f"/api/v1/files/{file_id}/thumbnail")
        assert response.status_code == 200, response.text[:200]
        assert response.content[:2] == b"\xff\xd8"  # a JPEG
    return len(ids) / (time.perf_counter() - start)


def run(
    user: httpx.Client, admin: httpx.Client, images: list[bytes], args: argparse.Namespace
) -> None:
    ids: list[str] = []
    print(f"list: pageSize {PAGE_SIZE}, newest first, median of {args.repeat} requests, in ms")
    print("(page 40 holds files 976-1000: it is empty while there are only 100)")
    columns = ("user p1", "user p40", "admin p1", "admin p40")
    print(f"{'files':>6}{'upload files/s':>16}" + "".join(f"{c:>10}" for c in columns))
    for checkpoint in sorted({min(100, len(images)), len(images)}):
        started = time.perf_counter()
        new = upload(user, images[:checkpoint], len(ids), args.batch)
        rate = len(new) / (time.perf_counter() - started)
        ids += new
        latencies = [list_latency(c, page, args.repeat) for c in (user, admin) for page in (1, 40)]
        print(f"{checkpoint:>6}{rate:>16.1f}" + "".join(f"{ms:>10.2f}" for ms in latencies))
    sample = ids[: args.thumbs]
    rendered = thumbnails_per_s(user, sample)
    cached = thumbnails_per_s(user, sample)
    print(f"thumbnails of {len(sample)} 640x480 JPEGs: {rendered:.1f}/s on first request")
    print(f"  (rendered and stored), {cached:.1f}/s when cached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--thumbs", type=int, default=200)
    parser.add_argument("--port", type=int, default=13491)
    args = parse_args(parser, files=200, batch=25, repeat=5, thumbs=20)
    images = make_images(args.files)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data", args.port)
        try:
            user, admin = clients(f"http://127.0.0.1:{args.port}")
            run(user, admin, images, args)
            user.close()
            admin.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
