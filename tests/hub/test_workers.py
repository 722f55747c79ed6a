"""`seed-hub serve --role R --workers K`: what is refused, and how workers are told apart."""

from pathlib import Path

import pytest

from hub.app import HubRole
from hub.config import HubSettings, MqttSettings, WebSettings
from hub.workers import check_workers, plan_workers
from protocol.errors import ConfigError


def test_several_ingest_workers_need_a_broker_with_shared_subscriptions(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="shared subscriptions"):
        check_workers(settings, HubRole.INGEST, 3)
    check_workers(settings, HubRole.WEB, 3)  # web workers need no broker
    check_workers(settings, HubRole.ALL, 1)  # one hub may embed its broker


def test_ingest_workers_share_a_group_each_with_a_client_id_of_its_own(tmp_path: Path) -> None:
    mqtt = MqttSettings(broker="mqtt://127.0.0.1:1883", client_id="hub")
    settings = HubSettings(data_dir=tmp_path, mqtt=mqtt)
    workers, web_url = plan_workers(settings, HubRole.INGEST, 3, "INFO")
    assert web_url is None
    assert {w.env["SEED_HUB_SHARE_GROUP"] for w in workers} == {"seed-hub"}
    assert [w.env["SEED_HUB_CLIENT_ID"] for w in workers] == ["hub-w0", "hub-w1", "hub-w2"]
    assert all(w.env["SEED_HUB_DB"] == settings.database_url for w in workers)
    assert all(w.command[-4:] == ["--role", "ingest", "--workers", "1"] for w in workers)


def test_web_workers_share_one_port(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path, web=WebSettings(port=0))
    workers, web_url = plan_workers(settings, HubRole.WEB, 2, "INFO")
    ports = {w.env["SEED_HUB_WEB_PORT"] for w in workers}
    assert len(ports) == 1 and web_url and web_url.endswith(f":{ports.pop()}")
    assert all(w.env["SEED_HUB_WEB_REUSE_PORT"] == "true" for w in workers)
    assert "SEED_HUB_SHARE_GROUP" not in workers[0].env
