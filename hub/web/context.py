"""What every request of the web app shares: settings, the database, the templates."""

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@dataclass(frozen=True)
class WebContext:
    settings: HubSettings
    sessions: sessionmaker[Session]
    templates: Jinja2Templates
