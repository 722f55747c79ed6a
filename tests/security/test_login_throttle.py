"""Issue 13, item 7: sign-ins are throttled per (account, address) and per address, in the
database every web process shares, without ever locking the admin out for good; a throttled
or crowded sign-in hashes no password."""

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import hub.users
from hub.config import HubSettings
from hub.models import LoginThrottle
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from hub.web.throttle import SignInThrottle
from tests.hub.web.conftest import CSRF_FIELD, PASSWORD

ATTACKER = "203.0.113.7"
ADMIN_DESK = "198.51.100.2"
PROXY = "127.0.0.1"  # trusted by default to report the client's address
# The rules do not depend on the database; what they store does, and runs on both.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Clock:
    """The throttle's time, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting the passwords it checks and how many at once."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0
        self.most_at_once = 0
        self._running = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.verified += 1
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            return super().verify(hash, password)
        finally:
            with self._lock:
                self._running -= 1


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(hub.users, "_hasher", counting)
    return counting


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(sessions: sessionmaker[Session], tmp_path: Path, clock: Clock) -> FastAPI:
    """The dashboard with an admin, on the test's clock (its throttle too)."""
    with sessions.begin() as session:
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
    return create_app(HubSettings(data_dir=tmp_path), sessions, clock=clock)


@pytest.fixture
def client_from(app: FastAPI) -> Iterator[Any]:
    """client_from(address) -> a browser at that address."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        clients.append(TestClient(app, client=(address, 50000)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _use(app: FastAPI, throttle: SignInThrottle) -> None:
    """A stricter policy than the default, so that a test needs fewer (slow) failures."""
    app.state.context = replace(app.state.context, throttle=throttle)


def _sign_in(
    client: TestClient, username: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=form, headers=headers, follow_redirects=False)


def test_past_five_wrong_passwords_the_account_waits_at_that_address_and_nothing_is_hashed(
    client_from: Any, hasher: CountingHasher, clock: Clock
) -> None:
    attacker = client_from(ATTACKER)
    assert [_sign_in(attacker, "admin", "wrong").status_code for _ in range(5)] == [401] * 5
    for password in ("wrong", PASSWORD):  # while blocked, not even the right one is checked
        answer = _sign_in(attacker, "admin", password)
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "1"
        assert "Too many failed sign-ins" in answer.text
    assert hasher.verified == 5
    clock.advance(1)
    assert _sign_in(attacker, "admin", PASSWORD).status_code == 303


@SQLITE_ONLY
def test_the_wait_doubles_up_to_its_cap_and_then_ends(
    app: FastAPI, client_from: Any, clock: Clock
) -> None:
    _use(app, SignInThrottle(pair_free_failures=1, max_delay_s=8, clock=clock))
    attacker = client_from(ATTACKER)
    assert _sign_in(attacker, "admin", "wrong").status_code == 401
    waits = []
    for _ in range(5):
        waits.append(int(_sign_in(attacker, "admin", "wrong").headers["Retry-After"]))
        clock.advance(waits[-1])
        assert _sign_in(attacker, "admin", "wrong").status_code == 401
    assert waits == [1, 2, 4, 8, 8]
    clock.advance(8)
    assert _sign_in(attacker, "admin", PASSWORD).status_code == 303, "locked out for good"


def test_by_default_no_wait_passes_five_minutes(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    throttle = SignInThrottle(clock=clock)
    with sessions.begin() as session:
        for _ in range(200):
            throttle.record_failure(session, username="admin", address=ATTACKER)
        assert throttle.retry_after(session, username="admin", address=ATTACKER) == 300


@SQLITE_ONLY
def test_an_attacker_never_locks_the_admin_out_of_his_own_desk(client_from: Any) -> None:
    attacker = client_from(ATTACKER)
    answers = {_sign_in(attacker, "admin", "wrong").status_code for _ in range(12)}
    assert answers == {401, 429}
    assert _sign_in(client_from(ADMIN_DESK), "admin", PASSWORD).status_code == 303


@SQLITE_ONLY
def test_an_address_trying_many_names_is_throttled_whatever_the_name(
    app: FastAPI, client_from: Any, hasher: CountingHasher, clock: Clock
) -> None:
    _use(app, SignInThrottle(address_free_failures=3, clock=clock))
    sprayer = client_from(ATTACKER)
    for i in range(3):
        assert _sign_in(sprayer, f"user{i}", "wrong").status_code == 401
    assert _sign_in(sprayer, "someone-new", "wrong").status_code == 429
    assert hasher.verified == 3
    assert _sign_in(client_from(ADMIN_DESK), "user0", "wrong").status_code == 401


@SQLITE_ONLY
def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    client_from: Any,
) -> None:
    proxy = client_from(PROXY)
    for _ in range(6):
        _sign_in(proxy, "admin", "wrong", headers={"X-Forwarded-For": ATTACKER})
    assert _sign_in(proxy, "admin", "wrong", {"X-Forwarded-For": ATTACKER}).status_code == 429
    desk = {"X-Forwarded-For": ADMIN_DESK}
    assert _sign_in(proxy, "admin", PASSWORD, desk).status_code == 303


@SQLITE_ONLY
def test_an_untrusted_client_cannot_pose_as_another_address(client_from: Any) -> None:
    attacker = client_from(ATTACKER)
    for i in range(6):
        _sign_in(attacker, "admin", "wrong", headers={"X-Forwarded-For": f"192.0.2.{i}"})
    assert _sign_in(attacker, "admin", "wrong").status_code == 429


@SQLITE_ONLY
def test_ipv6_addresses_are_counted_per_slash_56(client_from: Any) -> None:
    """A site given a /56 has 256 /64s to move between: they count as one."""
    for subnet in range(1, 7):
        _sign_in(client_from(f"2001:db8:1:{subnet}::1"), "admin", "wrong")
    assert _sign_in(client_from("2001:db8:1:ff::99"), "admin", "wrong").status_code == 429
    assert _sign_in(client_from("2001:db8:1:100::1"), "admin", "wrong").status_code == 401


def test_failures_quiet_for_an_hour_are_purged(
    client_from: Any, clock: Clock, sessions: sessionmaker[Session]
) -> None:
    for i in range(3):
        _sign_in(client_from(f"192.0.2.{i}"), f"user{i}", "wrong")
    clock.advance(3601)
    _sign_in(client_from(ATTACKER), "admin", "wrong")
    with sessions.begin() as session:
        rows = session.scalar(select(func.count()).select_from(LoginThrottle))
    assert rows == 3, "only the last attempt's (account, address), address and window remain"


def test_a_name_the_database_refuses_is_a_wrong_name_not_an_error(client_from: Any) -> None:
    assert _sign_in(client_from(ATTACKER), "ad\x00min", PASSWORD).status_code == 401


@SQLITE_ONLY
def test_parallel_sign_ins_check_two_passwords_at_a_time_at_most(
    sessions: sessionmaker[Session], tmp_path: Path, hasher: CountingHasher
) -> None:
    """16 sign-ins at once, over real HTTP: the rest wait their turn (or are answered 429)."""
    app = create_app(HubSettings(data_dir=tmp_path), sessions)
    _use(app, SignInThrottle(sign_ins_per_address=16))
    server = WebServer(app, "127.0.0.1", 0)
    base = server.start()
    assert server.wait_started()
    ready = threading.Barrier(16)
    answers: list[httpx.Response] = []

    def try_once(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            token = CSRF_FIELD.search(client.get("/login").text)
            assert token
            form = {"username": f"user{i}", "password": "wrong", "csrf_token": token.group(1)}
            ready.wait(timeout=30)
            answers.append(client.post("/login", data=form))

    try:
        threads = [threading.Thread(target=try_once, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert len(answers) == 16
    assert {a.status_code for a in answers} <= {401, 429}
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 429)
    assert 1 <= hasher.most_at_once <= 2


@SQLITE_ONLY
def test_an_address_looping_on_its_own_right_password_is_throttled_not_the_admin(
    app: FastAPI,
    client_from: Any,
    sessions: sessionmaker[Session],
    hasher: CountingHasher,
    clock: Clock,
) -> None:
    _use(app, SignInThrottle(sign_ins_per_address=3, clock=clock))
    with sessions.begin() as session:
        add_user(session, username="tech", role=Role.TECHNICIAN, password=PASSWORD)
    hog = client_from(ATTACKER)
    assert [_sign_in(hog, "tech", PASSWORD).status_code for _ in range(3)] == [303] * 3
    clock.advance(10)
    answer = _sign_in(hog, "tech", PASSWORD)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "50")
    assert "Too many sign-ins from here" in answer.text
    assert hasher.verified == 3
    assert _sign_in(client_from(ADMIN_DESK), "admin", PASSWORD).status_code == 303
    clock.advance(50)
    assert _sign_in(hog, "tech", PASSWORD).status_code == 303, "the next minute is his again"


@SQLITE_ONLY
def test_a_sign_in_waits_for_a_busy_hashing_slot_instead_of_being_refused(
    app: FastAPI, client_from: Any, clock: Clock
) -> None:
    throttle = SignInThrottle(slot_wait_s=5, clock=clock)
    _use(app, throttle)
    held = ExitStack()
    for _ in range(throttle.hashing_slots):
        assert held.enter_context(throttle.hashing_slot())
    threading.Timer(0.3, held.close).start()  # a slow sign-in ends
    assert _sign_in(client_from(ADMIN_DESK), "admin", PASSWORD).status_code == 303


@SQLITE_ONLY
def test_a_sign_in_that_waits_too_long_for_a_slot_is_refused_unhashed(
    app: FastAPI, client_from: Any, hasher: CountingHasher, clock: Clock
) -> None:
    throttle = SignInThrottle(slot_wait_s=0.2, clock=clock)
    _use(app, throttle)
    with throttle.hashing_slot(), throttle.hashing_slot():
        answer = _sign_in(client_from(ADMIN_DESK), "admin", PASSWORD)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")
    assert hasher.verified == 0
