"""The page joined to the kiosk's remote config: the notices of the config running now reach
the page's state, a later config's replace them, and one without clears them."""

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.config import DisplayConfig, KioskConfig
from edge.display.wiring import DisplayLink
from edge.followups import FollowUps
from edge.outbox import Outbox
from edge.recorder import PressRecorder
from edge.remote_config import RemoteConfigKeeper
from protocol.messages import RemoteConfig, encode

SINCE = "2026-11-23T08:42:00Z"


def offer(version: int, **settings: Any) -> bytes:
    return encode(
        RemoteConfig.model_validate(
            {"device_id": "k1", "version": version, "issued_at": datetime.now(UTC), **settings}
        )
    )


def notice(kind: str = "requested") -> dict[str, str]:
    return {"kind": kind, "team": "Cleaning T2", "since": SINCE, "time_zone": "Europe/Helsinki"}


@pytest.fixture
def keeper(tmp_path: Path) -> RemoteConfigKeeper:
    return RemoteConfigKeeper(KioskConfig(device_id="k1", location_id="gate-a", data_dir=tmp_path))


@pytest.fixture
def link(tmp_path: Path, keeper: RemoteConfigKeeper) -> Iterator[DisplayLink]:
    """The page as the kiosk wires it, its notices the keeper's."""
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = PressRecorder(
        device_id="k1",
        location_id="gate-a",
        response_interval_s=0,
        outbox=outbox,
        on_recorded=lambda _event: None,
    )
    followups = FollowUps(outbox)
    page = DisplayLink(
        DisplayConfig(port=0),
        recorder=recorder,
        followups=followups,
        notices=lambda: keeper.notices,
    )
    page.start()
    yield page
    page.stop()
    outbox.close()


def state(page: DisplayLink) -> dict[str, Any]:
    port = int(page.display.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/state", headers={"Host": f"127.0.0.1:{port}"})
    document: dict[str, Any] = json.loads(connection.getresponse().read())
    connection.close()
    return document


def test_the_page_shows_the_notices_of_the_config_running_now(
    keeper: RemoteConfigKeeper, link: DisplayLink
) -> None:
    assert state(link)["notices"] == []
    keeper.offer(offer(1, notices=[notice()]))
    assert [n["kind"] for n in state(link)["notices"]] == ["requested"]
    keeper.offer(offer(2, notices=[notice("on_the_way")]))
    assert state(link)["notices"] == [notice("on_the_way")]
    keeper.offer(offer(3, response_interval_s=2))  # no notices in it: none shown
    assert state(link)["notices"] == []
