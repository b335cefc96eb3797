"""Browser tests: Playwright driving Debian's Chromium against a live stack (uvicorn and a
real django-q2 worker, SQLite in a temporary DATA_DIR), one stack per test process.

`playwright install` cannot download browsers here: Chromium is the system's (CHROMIUM_PATH,
else `chromium` on PATH). A missing browser fails with the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import api
from tests.live.stack import Stack, running_stack
from tests.shipped_models import ROOT as SHIPPED_MODELS

pytestmark = pytest.mark.live
VENDOR = Path(__file__).parent / "vendor"
AXE = (VENDOR / "axe-4.14.1.min.js").read_text()
UPLOAD_LIMIT_MB = 8  # small, so a file over it is cheap to make
# What the probe of this machine kind found Chromium needs to start in a closed sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = "apt-get install -y chromium  (as root; or set CHROMIUM_PATH to a Chromium binary)"


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not found:
        pytest.fail(f"Chromium is not installed; the browser tests need it: {INSTALL_HINT}")
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("browser-live")
    # The wheels that ship models: the tests' shared cache (tests/shipped_models.py), so an
    # install from the models page needs no network once that cache is filled.
    wheels = str(SHIPPED_MODELS / ".wheels")
    limit = str(UPLOAD_LIMIT_MB)
    # The webhook tests' receivers listen on 127.0.0.1, a private address.
    env = {"MAX_UPLOAD_SIZE_MB": limit, "MODEL_WHEELS_DIR": wheels, "WEBHOOK_ALLOW_PRIVATE": "true"}
    with running_stack(data_dir, **env) as stack:
        stack.login()  # admin/admin -> LIVE_PASSWORD, as a first sign-in must
        yield stack


@pytest.fixture(scope="session")
def base_url(live: Stack) -> str:
    return live.base


@pytest.fixture(scope="session")
def admin_headers(live: Stack) -> dict[str, str]:
    return live.login()


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    """Where screenshots go: the test output folder (pytest-playwright's --output)."""
    folder = Path(pytestconfig.getoption("--output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def new_user(
    live: Stack, admin_headers: dict[str, str], role: str = "user", password: str | None = None
) -> tuple[str, str]:
    """A new account (created by the admin through the API), its password changed so it
    can sign in straight away. Returns (username, password)."""
    username = f"u{uuid.uuid4().hex[:10]}"
    first = "first-Pass-123"
    created = api.post(
        f"{live.base}/api/auth/register",
        json={"username": username, "password": first, "role": role},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    token = api.post(
        f"{live.base}/api/auth/login", json={"username": username, "password": first}
    ).json()["token"]
    final = password or f"pw-{uuid.uuid4().hex[:12]}"
    changed = api.post(
        f"{live.base}/api/auth/change-password",
        json={"currentPassword": first, "newPassword": final},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    return username, final


@pytest.fixture(scope="session")
def admin_state(browser: Browser, live: Stack, base_url: str, tmp_path_factory) -> str:
    """The signed-in admin's cookies, saved once per test process."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_in(page, "admin", live.password)
    expect(page).to_have_url(f"{base_url}/")
    path = tmp_path_factory.mktemp("state") / "admin.json"
    context.storage_state(path=str(path))
    context.close()
    return str(path)


@pytest.fixture
def admin_page(browser: Browser, base_url: str, admin_state: str) -> Iterator[Page]:
    """A page signed in as the admin (a fresh context per test)."""
    context = browser.new_context(base_url=base_url, storage_state=admin_state)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def user_page(
    browser: Browser, base_url: str, live: Stack, admin_headers: dict[str, str]
) -> Iterator[Page]:
    """A page signed in as a new, ordinary user (page.username names it)."""
    username, password = new_user(live, admin_headers)
    context: BrowserContext = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_in(page, username, password)
    page.username = username  # type: ignore[attr-defined]
    yield page
    context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.evaluate(AXE)  # evaluated by the test driver, so the page's CSP does not apply
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in violations
        ],
        indent=1,
    )


WIDTHS = {"desktop": (1280, 900), "phone": (375, 740)}
# Text nodes that are only a JavaScript placeholder: a value the page forgot to handle.
STRAY_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue.trim();
    if (["null", "undefined", "NaN", "[object Object]"].includes(text)) {
      found.push(walker.currentNode.parentElement.outerHTML.slice(0, 160));
    }
  }
  return found;
}"""


def audit_page(page: Page, artifacts: Path, name: str) -> None:
    """axe in light and dark theme at 1280 px and 375 px, with a full-page screenshot of
    each under the test output folder. Fails on any serious or critical violation, and on
    a stray "null" or "undefined" shown as text."""
    problems: dict[str, str] = {}
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            page.wait_for_timeout(50)
            page.screenshot(
                path=str(artifacts / f"{name}-{width_name}-{theme}.png"), full_page=True
            )
            found = axe_violations(page)
            if found:
                problems[f"{width_name}/{theme}"] = describe(found)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not problems, f"axe violations on {name}: {problems}"
    assert page.evaluate(STRAY_TEXT) == [], f"placeholder text shown on {name}"
