"""The hub's periodic jobs (alerts, remote configs, weekly reports) run on one shape of thread."""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def always() -> bool:
    return True


class PeriodicJob:
    """Calls `step` at once and then every `interval_s`, while `may_run()` says this process
    should (the lease: one process of a deployment runs these). A failing step is logged and
    tried again at the next tick; it never ends the thread."""

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        interval_s: float,
        *,
        may_run: Callable[[], bool] = always,
    ) -> None:
        self._name = name
        self._step = step
        self._interval_s = interval_s
        self._may_run = may_run
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Run the next step now rather than at the end of the interval."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._may_run():
                    self._step()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self._name, self._interval_s)
            self._wake.wait(self._interval_s)
            self._wake.clear()
