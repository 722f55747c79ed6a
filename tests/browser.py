"""Headless Chromium for the tests that drive a page (the lab's, skipped where it is absent),
and axe-core to hold each page to WCAG 2.2 AA."""

import base64
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver

from lab.browser import chromium, chromium_installed
from tests.helpers import service_missing


@contextmanager
def headless_chromium(
    size: tuple[int, int], *, prefs: dict[str, Any] | None = None
) -> Iterator[WebDriver]:
    if not chromium_installed():
        service_missing("chromium and chromium-driver are not installed (apt-get install them)")
    with chromium(size, prefs=prefs) as driver:
        yield driver


PHONE = (375, 667)
"""An iPhone SE-class screen, in CSS pixels: where a traveller or a cleaner holds the page."""


@contextmanager
def phone_chromium(size: tuple[int, int] = PHONE) -> Iterator[WebDriver]:
    """Headless Chromium that says it is a phone: its viewport, and the mobile layout."""
    with headless_chromium(size) as driver:
        width, height = size
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
        )
        yield driver


def browser_log(driver: WebDriver, kind: str) -> list[dict[str, Any]]:
    """The browser's `browser` (console) or `performance` (network) log since last read."""
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # 4.14.1
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


@cache
def axe_script() -> str:
    """axe-core's script, exactly the version the README under tests/vendor/axe-core names."""
    source = AXE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core 4.14.1 (sha256 {digest})"
    return source.decode()


def axe_violations(driver: WebDriver, axe_source: str | None = None) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.2 A and AA on the page as it stands."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        # through the driver: the page's CSP does not apply
        driver.execute_script(axe_source or axe_script())
    found: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
        " resultTypes: ['violations']})"
        ".then((r) => done({violations: r.violations.map((v) => ({"
        " id: v.id, impact: v.impact, help: v.help, tags: v.tags,"
        " nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html,"
        " summary: n.failureSummary}))}))}),"
        " (e) => done({error: String(e)}));",
        list(AXE_TAGS),
    )
    assert "error" not in found, f"axe-core did not run: {found.get('error')}"
    violations: list[dict[str, Any]] = found["violations"]
    return violations


def readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {node['html'][:140]}\n      {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def full_page_screenshot(driver: WebDriver, folder: Path, name: str) -> None:
    """The whole page, not only the window: what a reviewer scrolls through (copied to
    $SEED_SCREENSHOTS_DIR too, where that is set)."""
    path = folder / f"{name}.png"
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    if extra := os.environ.get("SEED_SCREENSHOTS_DIR"):
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
