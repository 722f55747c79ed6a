"""Users as the hub's clock stamps them: when one was created, when one was disabled."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from hub.models import User
from hub.users import Role, add_user, disable_user, principal

CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DISABLED = CREATED + timedelta(days=30)


def test_a_user_is_stamped_when_created_and_when_disabled(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        add_user(session, username="duty", role=Role.TECHNICIAN, clock=lambda: CREATED)
    with sessions.begin() as session:
        disable_user(session, username="duty", clock=lambda: DISABLED)
    with sessions() as session:
        user = session.get(User, "duty")
        assert user is not None
        assert (user.created_at, user.disabled_at) == (CREATED, DISABLED)
        assert principal(session, username="duty") is None
