"""Headless Chromium for the tests that drive a page (the lab's, skipped where it is absent)."""

from collections.abc import Iterator
from contextlib import contextmanager
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
