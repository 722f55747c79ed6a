"""Small helpers the tests share."""

import os
import time
from collections.abc import Callable

import pytest


def service_missing(reason: str) -> None:
    """Skip the test, or fail it where CI requires every service (SEED_REQUIRE_SERVICES=1)."""
    if os.environ.get("SEED_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def wait_until(condition: Callable[[], bool], timeout_s: float = 20, what: str = "") -> None:
    """Poll `condition` until true; fail the test with `what` if it never becomes true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")
