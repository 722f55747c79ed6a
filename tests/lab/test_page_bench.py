"""`seed-lab bench page` on a few presses: every press shows its follow-up, the page stays
light, and both memories are read."""

import pytest

from lab.browser import chromium_installed
from lab.page_bench import bench_page
from tests.helpers import service_missing

pytestmark = pytest.mark.browser


def test_every_press_is_timed_to_its_follow_up_on_screen() -> None:
    if not chromium_installed():
        service_missing("chromium and chromium-driver are not installed (apt-get install them)")
    result = bench_page(presses=12, rss_seconds=1)
    shown = result["shown_ms"]
    assert result["presses"] == 12
    assert 0 < shown["p50"] <= shown["p99"] <= shown["max"]
    # the page, its script, its style and its state; a favicon request may or may not be timed
    assert (
        result["page_bytes"]["requests"] >= 4 and 0 < result["page_bytes"]["transferred"] < 50_000
    )
    assert result["rss_mb"]["kiosk"]["rss"] > 10 and result["rss_mb"]["chromium_pss"] > 10
