"""Headless Chromium (playwright) for the page tests, and their screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "rahasia-rapat-1"
AXE = Path(__file__).resolve().parent.parent / ".cache/axe/node_modules/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    """A Chromium browser; a missing /usr/bin/chromium fails the test (make test installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package chromium (make test does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _screenshot(page, path: Path, copy_to: Path | None = None, full_page: bool = False) -> None:
    """A still picture (blinking stopped on "on"), kept with the test and optionally in docs/."""
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    # Refresh the README's pictures only when asked: a test run must not dirty the checkout.
    if copy_to is not None and os.environ.get("SIAGA_DOCS_SCREENSHOTS") == "1":
        copy_to.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copy_to)


def axe_violations(page) -> dict[str, list]:
    """axe-core's WCAG 2 A and AA violations on the page now: rule id -> its first three places.
    The page's context needs bypass_csp=True (the dashboard's CSP blocks the injected script)."""
    assert AXE.exists(), f"{AXE} not found: run `make axe` (make test does)"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: "
                           "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return {v["id"]: [n["target"] for n in v["nodes"]][:3] for v in result["violations"]}
