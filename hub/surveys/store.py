"""Surveys in the database: created and versioned, assigned down the location tree, retired;
each kiosk's survey resolved and pushed through its remote config.

Repository functions as hub/ingest/store.py's: keyword-only, the session first, no commits.

- Creating a survey gives it version 1; creating it again with other wording or options
  gives the next version, the same content gives none (`Created.new` says which). Every
  press and follow-up records the version it answered, so reports never mix two questions.
- A location's survey is the nearest assignment at it or above it whose survey is not
  retired. Retiring a survey keeps its assignments (what a place asked stays readable) but
  they no longer resolve: a place falls back to a survey assigned above it, else its kiosks
  keep the last survey they received (the hub never pushes "no survey"), until another is
  assigned.
- Each location has its languages (its own, set for a subtree at once), the first its
  default. A kiosk gets its survey in exactly those languages: a survey lacking one of them
  cannot be assigned there, nor can a location be given a language its survey lacks.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import utc_now
from hub.fleet.remote_config import current_settings, write_config
from hub.hierarchy import LocationTree
from hub.models import Device, Location, SurveyAssignment, SurveyVersion
from hub.models import Survey as SurveyRow
from hub.surveys.definition import SurveyFile
from protocol.errors import ConfigError
from protocol.surveys import MAX_LANGUAGES, LanguageTag, Survey

LANGUAGE_TAG: TypeAdapter[str] = TypeAdapter(LanguageTag)
DEFAULT_MAX_CONFIG_BYTES = 4096
"""The broker's default payload limit (SEED_HUB_MAX_PAYLOAD_BYTES)."""


@dataclass(frozen=True)
class Created:
    survey: Survey
    new: bool
    """False: the file says what the latest version says; no version was made."""
    configs: list[str]
    """Kiosks whose remote config changed with it."""


@dataclass(frozen=True)
class SurveyListing:
    survey_id: str
    name: str
    version: int
    languages: list[str]
    retired_at: datetime | None
    assigned_to: list[str]


def create_survey(
    session: Session,
    *,
    parsed: SurveyFile,
    by: str,
    now: datetime | None = None,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> Created:
    """Store a survey file as version 1, or as the next version of a survey it changes."""
    now = now or utc_now()
    survey_id = parsed.survey.survey_id
    row = session.get(SurveyRow, survey_id)
    if row is None:
        row = SurveyRow(survey_id=survey_id, name=parsed.name, created_by=by, created_at=now)
        session.add(row)
        session.flush()
    elif row.retired_at is not None:
        raise ConfigError(
            f"survey {survey_id} was retired on {row.retired_at:%Y-%m-%d}; give the new one "
            "another id"
        )
    row.name = parsed.name
    latest = latest_version(session, survey_id=survey_id)
    if latest is not None and _content(latest) == _content(parsed.survey):
        return Created(latest, new=False, configs=[])
    survey = parsed.survey.model_copy(update={"version": (latest.version if latest else 0) + 1})
    session.add(
        SurveyVersion(
            survey_id=survey_id,
            version=survey.version,
            definition=survey.model_dump_json(),
            created_at=now,
            created_by=by,
        )
    )
    session.flush()
    resolver = Resolver(session)
    resolver.check(resolver.tree.places)  # every place asking it has its languages in it
    configs = refresh_configs(
        session, now=now, max_config_bytes=max_config_bytes, resolver=resolver
    )
    return Created(survey, new=True, configs=configs)


def _content(survey: Survey) -> str:
    """What a version is: everything but its number."""
    return json.dumps(survey.model_dump(exclude={"version"}), sort_keys=True)


def latest_version(session: Session, *, survey_id: str) -> Survey | None:
    definition = session.scalar(
        select(SurveyVersion.definition)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.version.desc())
        .limit(1)
    )
    return None if definition is None else Survey.model_validate_json(definition)


def survey_version(session: Session, *, survey_id: str, version: int | None = None) -> Survey:
    """One version of a survey (the latest by default), or a ConfigError."""
    if version is None:
        survey = latest_version(session, survey_id=survey_id)
    else:
        definition = session.scalar(
            select(SurveyVersion.definition).where(
                SurveyVersion.survey_id == survey_id, SurveyVersion.version == version
            )
        )
        survey = None if definition is None else Survey.model_validate_json(definition)
    if survey is None:
        which = "" if version is None else f" version {version}"
        raise ConfigError(f"no survey {survey_id!r}{which}; `seed-hub surveys list` shows them")
    return survey


def list_surveys(session: Session) -> list[SurveyListing]:
    latest = dict(
        session.execute(
            select(SurveyVersion.survey_id, func.max(SurveyVersion.version)).group_by(
                SurveyVersion.survey_id
            )
        ).all()
    )
    assigned: dict[str, list[str]] = {}
    for location_id, survey_id in session.execute(
        select(SurveyAssignment.location_id, SurveyAssignment.survey_id).order_by(
            SurveyAssignment.location_id
        )
    ):
        assigned.setdefault(survey_id, []).append(location_id)
    listings = []
    for row in session.scalars(select(SurveyRow).order_by(SurveyRow.survey_id)):
        survey = survey_version(session, survey_id=row.survey_id, version=latest[row.survey_id])
        listings.append(
            SurveyListing(
                survey_id=row.survey_id,
                name=row.name,
                version=survey.version,
                languages=list(survey.languages),
                retired_at=row.retired_at,
                assigned_to=assigned.get(row.survey_id, []),
            )
        )
    return listings


def assign_survey(
    session: Session,
    *,
    survey_id: str,
    location_id: str,
    by: str,
    now: datetime | None = None,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """The location and every place beneath it without a nearer assignment ask this survey;
    returns the kiosks whose config changed."""
    now = now or utc_now()
    row = session.get(SurveyRow, survey_id)
    if row is None:
        raise ConfigError(f"no survey {survey_id!r}; create it with `seed-hub surveys create`")
    if row.retired_at is not None:
        raise ConfigError(f"survey {survey_id} is retired; assign a survey in use")
    if session.get(Location, location_id) is None:
        raise ConfigError(f"no location {location_id!r}")
    assignment = session.get(SurveyAssignment, location_id)
    if assignment is None:
        assignment = SurveyAssignment(location_id=location_id)
        session.add(assignment)
    assignment.survey_id = survey_id
    assignment.assigned_at = now
    assignment.assigned_by = by
    session.flush()
    resolver = Resolver(session)
    resolver.check(resolver.tree.subtree(location_id))
    return refresh_configs(session, now=now, max_config_bytes=max_config_bytes, resolver=resolver)


def retire_survey(
    session: Session,
    *,
    survey_id: str,
    now: datetime | None = None,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """No longer pushed; places fall back to a survey assigned above them, if any."""
    now = now or utc_now()
    row = session.get(SurveyRow, survey_id)
    if row is None:
        raise ConfigError(f"no survey {survey_id!r}")
    if row.retired_at is None:
        row.retired_at = now
    session.flush()
    return refresh_configs(session, now=now, max_config_bytes=max_config_bytes)


def set_languages(
    session: Session,
    *,
    location_id: str,
    languages: list[str],
    now: datetime | None = None,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """Give the location and every place beneath it these languages, the first the default."""
    tags = [tag.strip() for tag in languages if tag.strip()]
    if not tags or len(tags) > MAX_LANGUAGES or len(set(tags)) != len(tags):
        raise ConfigError(f"give 1 to {MAX_LANGUAGES} distinct languages, the default first")
    for tag in tags:
        try:
            LANGUAGE_TAG.validate_python(tag)
        except ValidationError as exc:
            raise ConfigError(f"{tag!r} is no language tag; use BCP 47: en, nl, zh-Hans") from exc
    tree = LocationTree.load(session)
    if location_id not in tree:
        raise ConfigError(f"no location {location_id!r}")
    subtree = tree.subtree(location_id)
    for location in session.scalars(select(Location).where(Location.location_id.in_(subtree))):
        location.languages = ",".join(tags)
    session.flush()
    resolver = Resolver(session)
    resolver.check(subtree)
    return refresh_configs(
        session, now=now or utc_now(), max_config_bytes=max_config_bytes, resolver=resolver
    )


class Resolver:
    """Each location's survey, in its languages: the tree and assignments read once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.tree = LocationTree.load(session)
        self.languages = {
            location_id: languages.split(",")
            for location_id, languages in session.execute(
                select(Location.location_id, Location.languages)
            )
        }
        retired = set(
            session.scalars(select(SurveyRow.survey_id).where(SurveyRow.retired_at.is_not(None)))
        )
        self._assigned = {
            location_id: survey_id
            for location_id, survey_id in session.execute(
                select(SurveyAssignment.location_id, SurveyAssignment.survey_id)
            )
            if survey_id not in retired
        }
        self._latest: dict[str, Survey] = {}

    def survey_id(self, location_id: str) -> str | None:
        """The survey the nearest live assignment at or above the location names."""
        if location_id not in self.tree:
            return None
        for place in (location_id, *self.tree.ancestors(location_id)):
            if place in self._assigned:
                return self._assigned[place]
        return None

    def survey(self, location_id: str) -> Survey | None:
        """The location's survey in its languages, or None: the kiosk keeps what it has."""
        survey_id = self.survey_id(location_id)
        if survey_id is None:
            return None
        if survey_id not in self._latest:
            self._latest[survey_id] = survey_version(self._session, survey_id=survey_id)
        return in_languages(
            self._latest[survey_id], self.languages.get(location_id, ["en"]), location_id
        )

    def check(self, location_ids: Iterable[str]) -> None:
        """Every one of these locations can be given its survey (a ConfigError says why not)."""
        for location_id in sorted(location_ids):
            self.survey(location_id)


def in_languages(survey: Survey, languages: list[str], location_id: str) -> Survey:
    """The survey with its texts in these languages only, in this order."""
    missing = [tag for tag in languages if tag not in survey.languages]
    if missing:
        raise ConfigError(
            f"survey {survey.survey_id} v{survey.version} has no texts in {', '.join(missing)}, "
            f"a language of {location_id} ({', '.join(languages)}): add them to the survey "
            f"file and create it again, or change the languages with "
            f"`seed-hub surveys languages {location_id} ...`"
        )
    document = survey.model_dump()
    document["languages"] = list(languages)

    def keep(texts: dict[str, str]) -> dict[str, str]:
        return {tag: texts[tag] for tag in languages}

    document["question"] = keep(document["question"])
    for name in ("negative", "positive"):
        follow_up = document.get(name)
        if follow_up is not None:
            follow_up["text"] = keep(follow_up["text"])
            for option in follow_up["options"]:
                option["text"] = keep(option["text"])
    return Survey.model_validate(document)


def effective_survey(session: Session, location_id: str) -> Survey | None:
    """The survey a kiosk at this location asks (None: none assigned; it keeps its own)."""
    return Resolver(session).survey(location_id)


def refresh_configs(
    session: Session,
    *,
    now: datetime,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
    device_ids: Iterable[str] | None = None,
    resolver: Resolver | None = None,
) -> list[str]:
    """Give each active kiosk whose survey has changed a new config version (the serving
    hub publishes it); returns their device ids."""
    resolver = resolver or Resolver(session)
    query = select(Device).where(Device.registered.is_(True), Device.revoked_at.is_(None))
    if device_ids is not None:
        query = query.where(Device.device_id.in_(set(device_ids)))
    changed = []
    for device in session.scalars(query.order_by(Device.device_id)):
        if device.location_id is None:
            continue
        wanted = resolver.survey(device.location_id)
        settings = current_settings(device)
        if wanted is None or settings.get("survey") == wanted.model_dump(exclude_none=True):
            continue
        settings.setdefault("location_id", device.location_id)
        settings["survey"] = wanted.model_dump(exclude_none=True)
        write_config(device, settings, now=now, max_bytes=max_config_bytes)
        changed.append(device.device_id)
    return changed
