"""The dashboard over real HTTP, on the port asked for or, when that is taken, a free one."""

import socket
import urllib.request
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.signing import session_secret
from hub.web.app import create_app
from hub.web.server import WebServer


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_a_taken_port_makes_the_dashboard_take_a_free_one(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    server = WebServer(create_app(HubSettings(data_dir=tmp_path), sessions), "127.0.0.1", taken)
    try:
        url = server.start()
        assert server.wait_started()
        assert not url.endswith(f":{taken}")
        status, page = _get(f"{url}/login")
        assert status == 200 and "Sign in" in page
        status, script = _get(f"{url}/static/charts.js")
        assert status == 200 and "heatmap" in script
    finally:
        server.stop()
        squatter.close()


def test_web_processes_sharing_a_data_folder_share_the_cookie_key(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path)
    first = session_secret(settings)
    assert session_secret(HubSettings(data_dir=tmp_path)) == first
    assert (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
