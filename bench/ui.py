"""Browser UI benchmark: how long the first page load takes and what it sends.

Starts the real stack (scripts/serve.sh on a temporary DATA_DIR with SQLite), signs in
as the admin in Debian's Chromium (Playwright), then opens each page with an empty cache
N times and reports the median of the navigation timings (time to first byte,
DOMContentLoaded, load) and the JS and CSS the page fetched: raw bytes and gzip bytes
(level 9, as collectstatic stores the copies whitenoise sends to browsers). The last
row, /api/docs (Swagger UI), is the baseline. Usage:
  .venv/bin/python bench/ui.py [--runs 5] [--pages /,/tools/resize,/library]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import parse_args
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, sign_in
from tests.live.stack import running_stack

TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const assets = performance.getEntriesByType("resource")
    .filter((r) => /\\.(js|css)(\\?|$)/.test(r.name)).map((r) => r.name);
  const times = {ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd};
  return {...times, load: nav.loadEventEnd, assets};
}"""


def asset_sizes(urls: list[str]) -> tuple[int, int]:
    raw = packed = 0
    for url in sorted(set(urls)):
        body = httpx.get(url).content
        raw += len(body)
        packed += len(gzip.compress(body, compresslevel=9))
    return raw, packed


def measure(page: Page, path: str) -> dict[str, Any]:
    page.goto(path, wait_until="load")
    return page.evaluate(TIMING)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    pages = "/login,/,/tools/resize,/tools/erase-object,/pipelines,/library,/jobs,/settings,/admin"
    # /api/docs (Swagger UI, drf-spectacular's sidecar) is the baseline: a page of a known
    # library served by the same server, measured the same way.
    parser.add_argument(
        "--pages", default=pages + ",/admin/users,/admin/models,/admin/system,/api/docs"
    )
    args = parse_args(parser, runs=1, pages="/,/tools/resize,/library,/api/docs")
    with tempfile.TemporaryDirectory() as folder, running_stack(Path(folder)) as stack:
        stack.login()  # the first admin's forced password change
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            signed = browser.new_context(base_url=stack.base)
            sign_in(signed.new_page(), "admin", stack.password)
            state = signed.storage_state()
            print(
                f"{'page':<22}{'TTFB ms':>9}{'DOM ready ms':>14}{'load ms':>9}"
                f"{'JS+CSS KB':>11}{'gzip KB':>9}"
            )
            for path in args.pages.split(","):
                rows = []
                for _ in range(args.runs):  # a new context each time: an empty cache
                    context = browser.new_context(base_url=stack.base, storage_state=state)
                    rows.append(measure(context.new_page(), path))
                    context.close()
                raw, packed = asset_sizes(
                    [f"{stack.base}{a}" if a.startswith("/") else a for a in rows[0]["assets"]]
                )
                median = {k: statistics.median(r[k] for r in rows) for k in ("ttfb", "dcl", "load")}
                print(
                    f"{path:<22}{median['ttfb']:>9.0f}{median['dcl']:>14.0f}"
                    f"{median['load']:>9.0f}{raw / 1024:>11.1f}{packed / 1024:>9.1f}"
                )
            browser.close()


if __name__ == "__main__":
    main()
