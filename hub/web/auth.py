"""Who is asking: signed session cookies, CSRF tokens, and one dependency per role.

A page asked for without a sign-in redirects to /login; an API route answers 401. A signed-in
user without the role answers 403. Every POST carries the session's CSRF token, in the
`X-CSRF-Token` header (scripts) or a `csrf_token` form field (forms). A cookie holds the
user's session epoch as it was at sign-in: signing out, a new password or `users disable`
raise the epoch, which ends every session the user had, on every device, at once.
"""

import hmac
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from hub.tasks.links import PREFIX as STAFF_PREFIX
from hub.users import Principal, Role, end_sessions, principal
from hub.web.context import WebContext
from protocol.errors import SeedError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class NotSignedInError(SeedError):
    """Raised by the role dependencies; the app turns it into 401 or a redirect to /login."""


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


def db_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns without an error."""
    with web_context(request).sessions.begin() as session:
        yield session


Db = Annotated[Session, Depends(db_session)]


def request_time(request: Request) -> datetime:
    """Now, by the app's clock: one time for the whole request."""
    return web_context(request).clock()


Now = Annotated[datetime, Depends(request_time)]


PHONE_PREFIX = "/t/"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


async def csrf_guard(request: Request) -> None:
    """Every state-changing request must echo the session's token, but the phone survey's
    (`/t/`): it has no session, and its steps carry their own signed tickets; and a staff
    task page's (`/s/`): it has no session either, and the signed token in its path is the
    capability itself (a forged request would have to know it already)."""
    if request.method in SAFE_METHODS or request.url.path.startswith((PHONE_PREFIX, STAFF_PREFIX)):
        return
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def sign_in(request: Request, user: Principal) -> None:
    request.session.clear()
    request.session["user"] = user.username
    request.session["epoch"] = user.session_epoch
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request, session: Session) -> None:
    """Ends every session of the user (not only this browser's), then clears this cookie."""
    user = _session_user(request, session)
    if user is not None:
        end_sessions(session, username=user.username)
    request.session.clear()


def _session_user(request: Request, session: Session) -> Principal | None:
    """The user the cookie names, while the session it opened has not been ended."""
    username = request.session.get("user")
    user = principal(session, username=username) if isinstance(username, str) else None
    if user is None or request.session.get("epoch") != user.session_epoch:
        return None
    return user


def current_user(request: Request, session: Db) -> Principal:
    user = _session_user(request, session)
    if user is None:
        raise NotSignedInError()
    request.state.user = user
    return user


def require(*roles: Role) -> Callable[[Principal], Principal]:
    def check(user: Annotated[Principal, Depends(current_user)]) -> Principal:
        if user.role not in roles:
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return user

    return check


Anyone = Annotated[Principal, Depends(require(*Role))]
Manager = Annotated[Principal, Depends(require(Role.MANAGER, Role.ADMIN))]
Technician = Annotated[Principal, Depends(require(Role.TECHNICIAN, Role.ADMIN))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
