"""Travellers' comments, as managers read them: listed per place with their response, hidden
by a manager, exported, and erased by a retention job after the configured days (the row,
and so every count, stays; the text goes)."""

import csv
import io
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.models import Comment, Event, Location
from hub.periodic import PeriodicJob, always
from protocol.errors import ConfigError

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0
MAX_LISTED = 500


@dataclass(frozen=True)
class CommentView:
    response_id: str
    location_id: str
    location_name: str
    created_at: datetime
    language: str
    button: str
    text: str | None
    """None: erased at the end of its retention."""
    masked: tuple[str, ...]
    hidden: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "response_id": self.response_id,
            "location": self.location_id,
            "location_name": self.location_name,
            "created_at": self.created_at.isoformat(),
            "language": self.language,
            "button": self.button,
            "text": self.text,
            "masked": list(self.masked),
            "hidden": self.hidden,
        }


def list_comments(
    session: Session,
    *,
    location_ids: Collection[str],
    since: datetime | None = None,
    until: datetime | None = None,
    include_hidden: bool = True,
    limit: int = MAX_LISTED,
) -> list[CommentView]:
    """The comments of these places, newest first, with the answer each went with."""
    statement = (
        select(Comment, Event.button, Location.name)
        .join(Event, Event.event_id == Comment.event_id)
        .join(Location, Location.location_id == Comment.location_id)
        .where(Comment.location_id.in_(sorted(location_ids)))
        .order_by(Comment.created_at.desc(), Comment.event_id)
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(Comment.created_at >= since)
    if until is not None:
        statement = statement.where(Comment.created_at < until)
    if not include_hidden:
        statement = statement.where(Comment.hidden_at.is_(None))
    return [
        CommentView(
            response_id=comment.event_id,
            location_id=comment.location_id,
            location_name=name,
            created_at=comment.created_at,
            language=comment.language,
            button=button,
            text=comment.text,
            masked=tuple(filter(None, comment.masked.split(","))),
            hidden=comment.hidden_at is not None,
        )
        for comment, button, name in session.execute(statement)
    ]


def comment_count(session: Session, *, location_ids: Collection[str]) -> int:
    """Comments ever written at these places, erased ones included."""
    statement = select(func.count()).where(Comment.location_id.in_(sorted(location_ids)))
    return int(session.scalar(statement) or 0)


def set_hidden(session: Session, *, response_id: str, hidden: bool, by: str, now: datetime) -> str:
    """Hide a comment from the location page and exports (or show it again); returns its
    location."""
    comment = session.get(Comment, response_id)
    if comment is None:
        raise ConfigError(f"no comment on response {response_id!r}")
    comment.hidden_at = now if hidden else None
    comment.hidden_by = by if hidden else None
    return comment.location_id


CSV_COLUMNS = ("created_at", "location", "location_name", "language", "button", "masked", "text")


def comments_csv(comments: Collection[CommentView]) -> str:
    """The comments as CSV; a cell that a spreadsheet would run as a formula is quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for c in comments:
        row = [
            c.created_at.isoformat(),
            c.location_id,
            c.location_name,
            c.language,
            c.button,
            " ".join(c.masked),
            c.text or "",
        ]
        writer.writerow([_inert(cell) for cell in row])
    return buffer.getvalue()


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def erase_old_comments(session: Session, *, older_than: datetime, now: datetime) -> int:
    """Erase the text of comments written before `older_than`; the rows (the counts) stay."""
    result = session.execute(
        update(Comment)
        .where(Comment.created_at < older_than, Comment.erased_at.is_(None))
        .values(text=None, erased_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class CommentRetention(PeriodicJob):
    """Erases comments past their retention, hourly, in the process holding the lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        *,
        interval_s: float = RETENTION_EVERY_S,
        may_run: Callable[[], bool] = always,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__("comment-retention", self.step, interval_s, may_run=may_run)
        self._sessions = sessions
        self._days = settings.phone.comment_retention_days
        self._clock = clock

    def step(self) -> int:
        now = self._clock()
        with self._sessions.begin() as session:
            erased = erase_old_comments(
                session, older_than=now - timedelta(days=self._days), now=now
            )
        if erased:
            log.info("comment retention erased %d comments older than %g days", erased, self._days)
        return erased
