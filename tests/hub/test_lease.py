"""One hub process at a time holds the lease for the periodic jobs; a dead holder frees it."""

import subprocess
import sys
import time

from sqlalchemy import Engine

from hub.db import make_engine
from hub.lease import Lease


def test_one_process_holds_the_lease_until_it_lets_go(engine: Engine) -> None:
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    first, second = Lease(engine), Lease(other_engine)
    try:
        assert first.held()
        assert first.held()  # asking again keeps it
        assert not second.held()
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()
        other_engine.dispose()


def test_a_holder_that_dies_frees_the_lease(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from hub.db import make_engine\nfrom hub.lease import Lease\n"
         f"lease = Lease(make_engine({url!r}))\nassert lease.held()\n"
         "print('held', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lease = Lease(engine)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not lease.held()
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 10
        while not lease.held():
            assert time.monotonic() < deadline, "the dead holder's lease was never freed"
            time.sleep(0.1)
    finally:
        lease.release()
        if holder.poll() is None:
            holder.kill()
