"""Surveys in the database: versions, assignment down the tree, languages, retirement, and the
remote config that carries each kiosk its survey."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, IngestSettings
from hub.fleet.broker_files import PACKET_HEADROOM_BYTES, max_packet_size
from hub.fleet.provision import Fleet, Site
from hub.ingest import store
from hub.models import Device, Location
from hub.surveys.definition import SurveyFile
from hub.surveys.store import (
    assign_survey,
    create_survey,
    effective_survey,
    list_surveys,
    retire_survey,
    set_languages,
    survey_version,
)
from protocol.errors import ConfigError
from protocol.messages import RemoteConfig, decode_remote_config
from protocol.surveys import Survey
from tests.hub.factories import place
from tests.hub.surveys.survey_files import SECURITY, reworded, security

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _tree(session: Session) -> None:
    """hel -> hel-t2 -> (lane-1, lane-2), and osl -> gate-9; a kiosk at each touchpoint."""
    place(session, "hel", kind="site")
    place(session, "hel-t2", kind="area", parent="hel")
    place(session, "lane-1", parent="hel-t2")
    place(session, "lane-2", parent="hel-t2")
    place(session, "osl", kind="site")
    place(session, "gate-9", parent="osl")
    for device_id, location_id in (("k1", "lane-1"), ("k2", "lane-2"), ("k9", "gate-9")):
        store.register_device(session, device_id=device_id, location_id=location_id)


def _config(session: Session, device_id: str) -> RemoteConfig | None:
    device = session.get(Device, device_id)
    assert device is not None
    if device.desired_config is None:
        return None
    return decode_remote_config(device.desired_config.encode())


def test_the_same_content_makes_no_version_and_an_edit_the_next(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first = create_survey(session, parsed=security(), by="ana", now=NOW)
        again = create_survey(session, parsed=security(), by="ana", now=NOW)
        edited = create_survey(session, parsed=reworded(), by="ana", now=NOW)
    assert (first.new, first.survey.version) == (True, 1)
    assert (again.new, again.survey.version) == (False, 1)
    assert (edited.new, edited.survey.version) == (True, 2)
    with sessions() as session:
        old = survey_version(session, survey_id="security", version=1)
        new = survey_version(session, survey_id="security")
        assert new.version == 2
        negative_old, negative_new = old.follow_up("negative"), new.follow_up("negative")
        assert negative_old is not None and negative_new is not None
        assert negative_old.options[0].text["en"] == "Queue too long"  # what v1 asked stays
        assert negative_new.options[0].text["en"] == "Waited too long"
        with pytest.raises(ConfigError, match="no survey 'security' version 3"):
            survey_version(session, survey_id="security", version=3)
        [listing] = list_surveys(session)
        assert (listing.survey_id, listing.version, listing.assigned_to) == ("security", 2, [])


def test_a_subtree_asks_its_nearest_assignment_in_its_own_languages(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _tree(session)
        create_survey(session, parsed=security(), by="ana", now=NOW)
        washroom = SECURITY.replace('id = "security"', 'id = "washroom"')
        create_survey(session, parsed=security(washroom), by="ana", now=NOW)
        set_languages(session, location_id="hel", languages=["fa", "en"], now=NOW)
        assert assign_survey(
            session, survey_id="security", location_id="hel", by="ana", now=NOW
        ) == ["k1", "k2"]
        assert assign_survey(
            session, survey_id="washroom", location_id="lane-2", by="ana", now=NOW
        ) == ["k2"]
    with sessions() as session:
        lane_1 = effective_survey(session, "lane-1")
        assert lane_1 is not None and lane_1.survey_id == "security"
        assert lane_1.languages == ["fa", "en"]  # the location's, its default first
        assert lane_1.question == {
            "fa": "بازرسی امنیتی چطور بود؟",
            "en": "How was the security check?",
        }
        negative = lane_1.follow_up("negative")
        assert negative is not None and set(negative.options[0].text) == {"fa", "en"}
        lane_2 = effective_survey(session, "lane-2")
        assert lane_2 is not None and lane_2.survey_id == "washroom"
        assert effective_survey(session, "gate-9") is None
        config = _config(session, "k1")
        assert config is not None and config.survey == lane_1
        assert config.location_id == "lane-1"
        assert _config(session, "k9") is None  # nothing to tell it


def test_a_new_version_reaches_the_kiosks_asking_it_under_a_new_config_version(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _tree(session)
        create_survey(session, parsed=security(), by="ana", now=NOW)
        assign_survey(session, survey_id="security", location_id="hel-t2", by="ana", now=NOW)
        first = _config(session, "k1")
        unchanged = create_survey(session, parsed=security(), by="ana", now=NOW)
        assert unchanged.configs == []
        edited = create_survey(session, parsed=reworded(), by="ana", now=NOW)
        assert edited.configs == ["k1", "k2"]
        second = _config(session, "k1")
    assert first is not None and second is not None
    assert first.survey is not None and second.survey is not None
    assert (first.version, first.survey.version) == (1, 1)
    assert (second.version, second.survey.version) == (2, 2)


def test_a_survey_lacking_a_language_of_its_places_is_refused_naming_it(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _tree(session)
        create_survey(session, parsed=security(), by="ana", now=NOW)
        set_languages(session, location_id="lane-1", languages=["en", "de"], now=NOW)
    with (
        pytest.raises(ConfigError, match="no texts in de, a language of lane-1"),
        sessions.begin() as session,
    ):
        assign_survey(session, survey_id="security", location_id="hel", by="ana", now=NOW)
    with sessions.begin() as session:
        assign_survey(session, survey_id="security", location_id="lane-2", by="ana", now=NOW)
    with pytest.raises(ConfigError, match="no texts in sv"), sessions.begin() as session:
        set_languages(session, location_id="hel", languages=["sv"], now=NOW)
    with pytest.raises(ConfigError, match="no language tag"), sessions.begin() as session:
        set_languages(session, location_id="hel", languages=["English"], now=NOW)
    with pytest.raises(ConfigError, match="no location 'nowhere'"), sessions.begin() as session:
        assign_survey(session, survey_id="security", location_id="nowhere", by="ana", now=NOW)


def test_a_retired_survey_is_no_longer_pushed_and_places_fall_back(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _tree(session)
        create_survey(session, parsed=security(), by="ana", now=NOW)
        site_wide = SECURITY.replace('id = "security"', 'id = "site"')
        create_survey(session, parsed=security(site_wide), by="ana", now=NOW)
        assign_survey(session, survey_id="site", location_id="hel", by="ana", now=NOW)
        assign_survey(session, survey_id="security", location_id="lane-1", by="ana", now=NOW)
        assert retire_survey(session, survey_id="security", now=NOW) == ["k1"]
        fallen_back = _config(session, "k1")
        assert fallen_back is not None and fallen_back.survey is not None
        assert fallen_back.survey.survey_id == "site"
        assert retire_survey(session, survey_id="site", now=NOW) == []
        kept = _config(session, "k1")  # nothing left to ask: the kiosk keeps its last
        assert kept == fallen_back
    with pytest.raises(ConfigError, match="is retired"), sessions.begin() as session:
        assign_survey(session, survey_id="site", location_id="hel", by="ana", now=NOW)
    with pytest.raises(ConfigError, match="was retired"), sessions.begin() as session:
        create_survey(session, parsed=security(), by="ana", now=NOW)


def test_a_config_too_big_for_the_broker_is_refused_not_lost(
    sessions: sessionmaker[Session],
) -> None:
    """Eight languages of long texts make a config bigger than the broker's default packet
    limit; the hub refuses it when it is made, saying what to do."""
    tags = ["en", "fa", "nl", "de", "fr", "sv", "fi", "ar"]
    long = "x" * 110
    text = {tag: long for tag in tags}
    option = [{"key": f"o{i}", "text": text} for i in range(6)]
    big = Survey.model_validate(
        {
            "survey_id": "big",
            "version": 1,
            "languages": tags,
            "question": text,
            "negative": {"text": text, "options": option},
            "positive": {"text": text, "options": option},
        }
    )
    with sessions.begin() as session:
        _tree(session)
        set_languages(session, location_id="hel", languages=tags, now=NOW)
        create_survey(session, parsed=SurveyFile("Big", big), by="ana", now=NOW)
    with (
        pytest.raises(ConfigError, match="SEED_HUB_MAX_PAYLOAD_BYTES"),
        sessions.begin() as session,
    ):
        assign_survey(session, survey_id="big", location_id="hel", by="ana", now=NOW)
    with sessions.begin() as session:
        assert assign_survey(
            session, survey_id="big", location_id="hel", by="ana", now=NOW, max_config_bytes=65536
        ) == ["k1", "k2"]
        device = session.get(Device, "k1")
        assert device is not None and device.desired_config is not None
        size = len(device.desired_config.encode())
    assert 4096 < size <= 65536
    # the broker passes a config of that size only if its limit was raised alike
    assert max_packet_size(65536) - PACKET_HEADROOM_BYTES == 65536


def test_a_kiosk_added_or_moved_gets_the_survey_of_its_place(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = HubSettings(data_dir=tmp_path, ingest=IngestSettings(max_payload_bytes=4096))
    with sessions.begin() as session:
        _tree(session)
        create_survey(session, parsed=security(), by="ana", now=NOW)
        assign_survey(session, survey_id="security", location_id="hel-t2", by="ana", now=NOW)
        fleet = Fleet(session, settings)
        fleet.add("k3", Site(site=None, location="lane-1"), auth="password", out_dir=None)
        added = _config(session, "k3")
        assert added is not None and added.survey is not None
        assert added.survey.survey_id == "security"
        moved = fleet.move("k3", Site(site=None, location="gate-9"))
        assert moved.location_id == "gate-9"
        assert moved.survey is not None  # gate-9 asks nothing: it keeps what it had
        configured = fleet.configure("k1", heartbeat_s=30.0)
        assert configured.survey is not None and configured.heartbeat_s == 30.0


def test_a_new_version_must_keep_the_languages_of_the_places_asking_it(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        place(session, "hel", kind="site")  # a place with no kiosk yet
        create_survey(session, parsed=security(), by="ana", now=NOW)
        set_languages(session, location_id="hel", languages=["nl"], now=NOW)
        assign_survey(session, survey_id="security", location_id="hel", by="ana", now=NOW)
    without_nl = "\n".join(line for line in SECURITY.splitlines() if not line.startswith("nl ="))
    without_nl = without_nl.replace('["en", "fa", "nl"]', '["en", "fa"]')
    with (
        pytest.raises(ConfigError, match="no texts in nl, a language of hel"),
        sessions.begin() as session,
    ):
        create_survey(session, parsed=security(without_nl), by="ana", now=NOW)
    with sessions() as session:
        assert survey_version(session, survey_id="security").version == 1


def test_a_place_put_under_another_speaks_its_languages(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        fleet = Fleet(session, HubSettings(data_dir=tmp_path))
        fleet.add("k1", Site(site="hel", location="hel-gate"), auth="password", out_dir=None)
        set_languages(session, location_id="hel", languages=["fa", "en"])
        fleet.add("k2", Site(site="hel", location="hel-lounge"), auth="password", out_dir=None)
    with sessions() as session:
        assert session.get(Location, "hel-gate").languages == "fa,en"  # set for the subtree
        assert session.get(Location, "hel-lounge").languages == "fa,en"  # placed afterwards
