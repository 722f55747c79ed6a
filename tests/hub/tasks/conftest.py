"""The alerts tests' places (site hel > area t2 > touchpoints gate-a and gate-b in Helsinki),
presses, rules and SMTP server, `teams` to make a team with its members, and `receiver`: a
real HTTP server on loopback that records what webhooks post."""

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.tasks.teams import Role, Route, TeamView, add_member, add_team, team_view
from tests.hub.alerts.conftest import engine_for, make_rule, places, presses, smtp_inbox
from tests.hub.factories import NOON

__all__ = ["engine_for", "make_rule", "places", "presses", "smtp_inbox"]

TeamMaker = Callable[..., TeamView]


@pytest.fixture
def teams(places: sessionmaker[Session]) -> TeamMaker:
    """teams("cleaning", location_id="t2", members=[(Route.EMAIL, "a@example.org")],
    escalation=[(Route.WEBHOOK, "http://...")], **add_team keywords) -> the team."""

    def make(
        team_id: str = "cleaning",
        *,
        location_id: str = "t2",
        members: Sequence[tuple[Route, str]] = (),
        escalation: Sequence[tuple[Route, str]] = (),
        **kwargs: Any,
    ) -> TeamView:
        with places.begin() as session:
            add_team(
                session,
                team_id=team_id,
                name=kwargs.pop("name", team_id.title()),
                location_id=location_id,
                now=kwargs.pop("now", NOON),
                **kwargs,
            )
            for role, contacts in ((Role.MEMBER, members), (Role.ESCALATION, escalation)):
                for n, (route, target) in enumerate(contacts, start=1):
                    add_member(
                        session,
                        team_id=team_id,
                        name=f"{role.value.title()} {n}",
                        route=route,
                        target=target,
                        role=role,
                    )
            return team_view(session, team_id=team_id)

    return make


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes


@dataclass
class Receiver:
    """A local HTTP server that records each POST and answers `answers` in turn, then 200."""

    url: str
    answers: list[int] = field(default_factory=list)
    posts: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        return [p for p in self.posts if p.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.answers.pop(0) if state.answers else 200
            state.posts.append(Received(self.path, dict(self.headers), json.loads(raw), raw))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
