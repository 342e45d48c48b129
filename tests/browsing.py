"""What the browser tests share: `kb serve` on a copy of the shipped data, Debian's Chromium driven
by Playwright, where screenshots go, accounts made by the CLI, and axe-core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import OUTPUT, REPO, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser_data(shipped_data, tmp_path_factory):
    """A copy: the walk-throughs create accounts, pairings and plans that other modules must not see."""
    copy = tmp_path_factory.mktemp("browser") / "data"
    shutil.copytree(shipped_data, copy)
    return copy


@pytest.fixture(scope="module")
def server(browser_data, tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("server") / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--data", str(browser_data), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"kb serve did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: make test installs it (scripts/ensure-debian.sh)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def shots() -> Path:
    folder = OUTPUT / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


AXE = REPO / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def account(data, name, role, city=None) -> dict:
    args = [sys.executable, "-m", "kb", "users", "add", name, "--role", role, "--json", "--data", str(data)]
    out = subprocess.run(args + (["--city", city] if city else []), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def axe(page) -> list:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run()).violations")
    return [(page.url, v["id"], v["impact"], v["nodes"][0]["target"]) for v in violations]
