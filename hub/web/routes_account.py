"""Signing in and out, who am I, and the admin's user list."""

from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hub.first_admin import FIRST_ADMIN, forget_first_password
from hub.users import Principal, Role, add_user, authenticate, list_users
from hub.web.auth import Admin, Anyone, Db, sign_in, sign_out, web_context
from hub.web.context import WebContext
from hub.web.language import N_
from hub.web.throttle import SignInThrottle
from protocol.errors import ConfigError

router = APIRouter()


def home_for(role: Role) -> str:
    return "/fleet" if role is Role.TECHNICIAN else "/"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to someone else's."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    return web_context(request).templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next) or "", "error": None, "seconds": None}
    )


class Refusal(NamedTuple):
    error: str
    """A marked text, which login.html translates; `%(seconds)s` there is retry_after_s."""
    status: int
    retry_after_s: int | None = None


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    address = request.client.host if request.client else ""
    outcome = _try_password(web_context(request), username, password, address)
    if isinstance(outcome, Refusal):
        response = web_context(request).templates.TemplateResponse(
            request,
            "login.html",
            {
                "next": _safe_next(next) or "",
                "error": outcome.error,
                "seconds": outcome.retry_after_s,
            },
            status_code=outcome.status,
        )
        if outcome.retry_after_s is not None:
            response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    sign_in(request, outcome)
    if outcome.username == FIRST_ADMIN:
        forget_first_password(web_context(request).settings.data_dir)
    return RedirectResponse(_safe_next(next) or home_for(outcome.role), status_code=303)


def _try_password(
    context: WebContext, username: str, password: str, address: str
) -> Principal | Refusal:
    """The user, unless the password is wrong or the throttle refuses to check it now."""
    throttle = context.throttle
    with context.sessions.begin() as session:
        refusal = _throttled(throttle, session, username=username, address=address)
    if refusal is not None:
        return refusal
    with throttle.hashing_slot() as free:  # waits a moment for one
        if not free:
            return Refusal(N_("Too many sign-ins at once: try again in a moment."), 429, 1)
        with context.sessions.begin() as session:
            user = authenticate(session, username=username, password=password)
            record = throttle.record_failure if user is None else throttle.record_success
            record(session, username=username, address=address)
    return user or Refusal(N_("Wrong user name or password."), 401)


def _throttled(
    throttle: SignInThrottle, session: Session, *, username: str, address: str
) -> Refusal | None:
    """Why this sign-in must wait, or None: then it counts against its address."""
    wait_s = throttle.retry_after(session, username=username, address=address)
    if wait_s is not None:
        # Translators: a sign-in refused for a while; "s" is seconds
        return Refusal(N_("Too many failed sign-ins: try again in %(seconds)s s."), 429, wait_s)
    wait_s = throttle.count_sign_in(session, address=address)
    if wait_s is not None:
        # Translators: a sign-in refused for a while; "s" is seconds
        return Refusal(N_("Too many sign-ins from here: try again in %(seconds)s s."), 429, wait_s)
    return None


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: Db) -> Response:
    """Signs the user out everywhere: every session he has ends."""
    sign_out(request, session)
    return RedirectResponse("/login", status_code=303)


@router.get("/api/me", tags=["account"])
def me(user: Anyone) -> dict[str, Any]:
    """The signed-in user, his role and the sites he is given."""
    return {"username": user.username, "role": user.role.value, "sites": list(user.sites)}


@router.get("/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, session: Db, user: Admin) -> Response:
    return web_context(request).templates.TemplateResponse(
        request,
        "users.html",
        {
            "user": user,
            "users": list_users(session),
            "roles": list(Role),
            "message": None,
            "message_values": {},
        },
    )


@router.post("/users", response_class=HTMLResponse, include_in_schema=False)
def create_user(
    request: Request,
    session: Db,
    user: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    sites: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A new user with a random password, shown to the admin once."""
    site_ids = tuple(s.strip() for s in sites.split(",") if s.strip())
    try:
        password = add_user(
            session,
            username=username,
            role=role,
            sites=site_ids,
            clock=web_context(request).clock,
        )
        message = N_("%(username)s can sign in with the password %(password)s (shown once).")
        values = {"username": username, "password": password}
    except ConfigError as exc:
        # Translators: a user not added; the reason follows, in English
        message, values = N_("Not saved: %(reason)s"), {"reason": str(exc)}
    return web_context(request).templates.TemplateResponse(
        request,
        "users.html",
        {
            "user": user,
            "users": list_users(session),
            "roles": list(Role),
            "message": message,
            "message_values": values,
        },
    )
