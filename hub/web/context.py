"""What every request of the web app shares: settings, database, templates, sign-in throttle,
and the clock that says what time it is."""

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.web.throttle import SignInThrottle

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@dataclass(frozen=True)
class WebContext:
    settings: HubSettings
    sessions: sessionmaker[Session]
    templates: Jinja2Templates
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    clock: Clock = utc_now
