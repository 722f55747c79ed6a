"""Staff links over a real database: a genuine one reads back as its one task and member;
a tampered, expired, foreign, over-long or orphaned one opens nothing."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from itsdangerous.encoding import base64_encode
from sqlalchemy.orm import Session, sessionmaker

from hub.signing import timed_serializer
from hub.tasks import links as links_module
from hub.tasks.links import MAX_TOKEN_CHARS, PREFIX, SALT, StaffLinks, StaffPass
from hub.tasks.records import open_by_hand, resolve
from hub.tasks.teams import Route, remove_member
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker

SECRET = "a secret long enough for the tests, and only for them"
HOURS = 24


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(clock: Clock) -> StaffLinks:
    return StaffLinks(SECRET, max_age_s=HOURS * 3600, clock=clock)


@pytest.fixture
def staffed(places: sessionmaker[Session], teams: TeamMaker) -> tuple[int, int, int, int]:
    """(cleaning's task, its member, security's task, its member)."""
    ids: list[int] = []
    for team in ("cleaning", "security"):
        view = teams(team, members=[(Route.EMAIL, f"{team}@example.org")])
        with places.begin() as session:
            ids.append(
                open_by_hand(
                    session, team_id=team, location_id="gate-a", title="Bin", by="max", now=NOON
                )
            )
        ids.append(view.members[0].id)
    return ids[0], ids[1], ids[2], ids[3]


def test_a_genuine_link_reads_back_as_its_task_and_member(
    places: sessionmaker[Session], links: StaffLinks, staffed: tuple[int, int, int, int]
) -> None:
    task, member, other_task, other_member = staffed
    token = links.token(task_id=task, member_id=member)
    assert links.path(task_id=task, member_id=member) == PREFIX + token
    assert len(token) <= MAX_TOKEN_CHARS
    with places() as session:
        found = links.read(session, token)
        other = links.read(session, links.token(task_id=other_task, member_id=other_member))
    assert found == StaffPass(task, member, "Member 1")
    assert found.actor == "Member 1 (by link)"
    assert other == StaffPass(other_task, other_member, "Member 1")
    with places.begin() as session:
        resolve(session, task_id=task, actor="ann", now=NOON)
    with places() as session:
        assert links.read(session, token) == found  # the page shows it resolved


def test_a_link_names_one_task_and_cannot_be_bent_to_another(
    places: sessionmaker[Session], links: StaffLinks, staffed: tuple[int, int, int, int]
) -> None:
    task, member, other_task, _ = staffed
    token = links.token(task_id=task, member_id=member)
    _, stamp, signature = token.split(".")
    # the same signature over another task's payload
    bent = links.token(task_id=other_task, member_id=member).split(".")[0]
    with places() as session:
        assert links.read(session, ".".join((bent, stamp, signature))) is None
        # a member of one team given a link to another team's task (signed, yet not theirs)
        assert links.read(session, links.token(task_id=other_task, member_id=member)) is None
        assert links.read(session, links.token(task_id=999, member_id=member)) is None


@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_tampered_link_is_refused(
    places: sessionmaker[Session],
    links: StaffLinks,
    staffed: tuple[int, int, int, int],
    where: int,
) -> None:
    task, member, *_ = staffed
    parts = links.token(task_id=task, member_id=member).split(".")
    changed = parts[where][:-1] + ("A" if parts[where][-1] != "A" else "B")
    tampered = ".".join(changed if i == where else p for i, p in enumerate(parts))
    with places() as session:
        assert links.read(session, tampered) is None
        for junk in ("", ".", "..", "x.y.z", "\ud800", "é" * 10, parts[0]):
            assert links.read(session, junk) is None


def test_a_link_expires_after_its_hours(
    places: sessionmaker[Session],
    links: StaffLinks,
    clock: Clock,
    staffed: tuple[int, int, int, int],
) -> None:
    task, member, *_ = staffed
    token = links.token(task_id=task, member_id=member)
    with places() as session:
        clock.now = NOON + timedelta(hours=HOURS)
        assert links.read(session, token) is not None
        clock.now = NOON + timedelta(hours=HOURS, seconds=1)
        assert links.read(session, token) is None
        clock.now = NOON - timedelta(minutes=1)  # signed in the future: a clock gone wrong
        assert links.read(session, token) is None


def test_a_value_signed_for_another_purpose_or_with_another_key_is_refused(
    places: sessionmaker[Session],
    links: StaffLinks,
    clock: Clock,
    staffed: tuple[int, int, int, int],
) -> None:
    task, member, *_ = staffed
    ticket = timed_serializer(SECRET, "seed-phone-ticket", clock).dumps([task, member])
    stranger = StaffLinks("another secret, another hub", max_age_s=3600, clock=clock)
    with places() as session:
        assert links.read(session, str(ticket)) is None
        assert links.read(session, stranger.token(task_id=task, member_id=member)) is None


@pytest.mark.parametrize(
    "payload",
    [[True, True], ["1", "1"], [1], [1, 1, 1], {"task": 1, "member": 1}, 1, None, [1.0, 1.0]],
)
def test_a_genuine_value_of_another_shape_is_refused(
    places: sessionmaker[Session],
    clock: Clock,
    links: StaffLinks,
    staffed: tuple[int, int, int, int],
    payload: Any,
) -> None:
    token = str(timed_serializer(SECRET, SALT, clock).dumps(payload))
    with places() as session:
        assert links.read(session, token) is None


def test_an_over_long_link_is_refused_unread(
    places: sessionmaker[Session],
    clock: Clock,
    links: StaffLinks,
    staffed: tuple[int, int, int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task, member, *_ = staffed
    # genuine, and naming the task: JSON takes the spaces
    padded = base64_encode(("[" + " " * MAX_TOKEN_CHARS + f"{task}, {member}]").encode())
    signer = timed_serializer(SECRET, SALT, clock).make_signer(SALT)
    long = signer.sign(padded).decode()
    with places() as session:
        assert len(long) > MAX_TOKEN_CHARS
        assert links.read(session, long) is None
        monkeypatch.setattr(links_module, "MAX_TOKEN_CHARS", 10 * MAX_TOKEN_CHARS)
        assert links.read(session, long) == StaffPass(task, member, "Member 1")


def test_a_removed_member_link_opens_nothing(
    places: sessionmaker[Session], links: StaffLinks, staffed: tuple[int, int, int, int]
) -> None:
    task, member, *_ = staffed
    token = links.token(task_id=task, member_id=member)
    with places.begin() as session:
        remove_member(session, member_id=member, now=NOON)
    with places() as session:
        assert links.read(session, token) is None
        assert links.read(session, links.token(task_id=task, member_id=12345)) is None
