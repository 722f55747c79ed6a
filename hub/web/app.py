"""The FastAPI application: middleware, routers, static assets, and the OpenAPI document."""

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hub import __version__
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.metrics.database import DatabaseCollector
from hub.metrics.registry import scrape_registry
from hub.signing import session_secret
from hub.tasks.links import StaffLinks
from hub.web import (
    language,
    routes_account,
    routes_alerts,
    routes_camera,
    routes_exports,
    routes_metrics,
    routes_phone,
    routes_phone_admin,
    routes_reports,
    routes_scores,
    routes_staff,
    routes_surveys,
    routes_tasks,
)
from hub.web.auth import Anyone, NotSignedInError, csrf_guard, csrf_token
from hub.web.body_limit import BodyLimit
from hub.web.context import STATIC_DIR, TEMPLATES_DIR, WebContext
from hub.web.headers import SecurityHeaders
from hub.web.metrics_middleware import RequestMetrics
from hub.web.throttle import SignInThrottle

ROUTERS = (
    language.router,
    routes_account.router,
    routes_scores.router,
    routes_alerts.router,
    routes_exports.router,
    routes_reports.router,
    routes_surveys.router,
    routes_phone.router,
    routes_phone_admin.router,
    routes_tasks.router,
    routes_staff.router,
    routes_camera.router,
    routes_metrics.router,
)


def create_app(
    settings: HubSettings, sessions: sessionmaker[Session], *, clock: Clock = utc_now
) -> FastAPI:
    """The app; `clock` is its "now" (for default periods, stamps and sign-in throttling)."""
    app = FastAPI(
        title="Seed hub",
        version=__version__,
        description="Perception scores of every touchpoint, for the dashboard and for scripts.",
        docs_url=None,  # Swagger UI would load its assets from a CDN
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
        dependencies=[Depends(csrf_guard)],
    )
    templates = Jinja2Templates(
        directory=TEMPLATES_DIR, context_processors=[language.template_context]
    )
    language.install(templates.env)
    templates.env.globals["csrf_token"] = csrf_token
    throttle = SignInThrottle(clock=clock)
    app.state.context = WebContext(settings, sessions, templates, throttle=throttle, clock=clock)
    secret = session_secret(settings)
    app.state.phone = routes_phone.phone_pages(settings, secret, clock)
    app.state.staff_links = StaffLinks(
        secret, max_age_s=settings.tasks.link_hours * 3600, clock=clock
    )
    app.state.metrics = scrape_registry(DatabaseCollector(sessions, clock=clock))
    _add_middleware(app, secret, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(NotSignedInError, _not_signed_in)
    _serve_openapi(app)
    return app


def _add_middleware(app: FastAPI, secret: str, settings: HubSettings) -> None:
    """Innermost first: each one added wraps those added before it."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="seed_session",
        max_age=int(settings.web.session_hours * 3600),
        same_site="lax",
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, secure_cookies=settings.web.secure_cookies)
    # The client's address and scheme, as a trusted reverse proxy reports them.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.web.trusted_proxies)
    app.add_middleware(RequestMetrics)


def _serve_openapi(app: FastAPI) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: Anyone) -> dict[str, Any]:
        return app.openapi()


async def _not_signed_in(request: Request, _exc: Exception) -> Response:
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return JSONResponse({"detail": "sign in first"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={target}", status_code=303)
