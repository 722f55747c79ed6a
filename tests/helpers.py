"""Small helpers the tests share."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout_s: float = 20, what: str = "") -> None:
    """Poll `condition` until true; fail the test with `what` if it never becomes true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")
