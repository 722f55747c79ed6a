"""Signing in and out, who am I, and the admin's user list."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.users import Role, add_user, authenticate, list_users
from hub.web.auth import Admin, Anyone, Db, sign_in, sign_out, web_context
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
        request, "login.html", {"next": _safe_next(next) or "", "error": None}
    )


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: Db,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    user = authenticate(session, username=username, password=password)
    if user is None:
        return web_context(request).templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next) or "", "error": "Wrong user name or password."},
            status_code=401,
        )
    sign_in(request, user)
    return RedirectResponse(_safe_next(next) or home_for(user.role), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    sign_out(request)
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
        {"user": user, "users": list_users(session), "roles": list(Role), "message": None},
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
        password = add_user(session, username=username, role=role, sites=site_ids)
        message = f"{username} can sign in with the password {password} (shown once)."
    except ConfigError as exc:
        message = f"Not saved: {exc}"
    return web_context(request).templates.TemplateResponse(
        request,
        "users.html",
        {"user": user, "users": list_users(session), "roles": list(Role), "message": message},
    )
