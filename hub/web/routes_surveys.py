"""Surveys in the JSON API: managers (of their sites) and admins create, assign and retire
them, and set a place's languages. The same rules as `seed-hub surveys …` (hub/surveys/)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.models import SurveyAssignment
from hub.surveys.definition import parse_survey
from hub.surveys.store import (
    Resolver,
    assign_survey,
    create_survey,
    list_surveys,
    retire_survey,
    set_languages,
    survey_version,
)
from hub.users import Principal, Role
from hub.web.auth import Db, Manager, Now, web_context
from protocol.errors import ConfigError
from protocol.surveys import MAX_LANGUAGES, LanguageTag, Survey, SurveyId

router = APIRouter()
MAX_FILE_CHARS = 64_000


class SurveyListingOut(BaseModel):
    survey_id: str
    name: str
    version: int = Field(description="the latest")
    languages: list[str]
    retired_at: datetime | None
    assigned_to: list[str] = Field(
        description="locations whose subtree asks it (a manager's: those within his sites)"
    )
    asked_elsewhere: bool = Field(
        default=False, description="also assigned beyond your sites: the admins' to change"
    )


class SurveyFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    toml: str = Field(max_length=MAX_FILE_CHARS, description="the survey file, as the CLI reads")


class CreatedOut(BaseModel):
    survey: Survey
    new: bool = Field(description="false: the latest version says the same; none was made")
    configs: int = Field(description="kiosks given a new config")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str = Field(max_length=64)


class LanguagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    languages: list[LanguageTag] = Field(min_length=1, max_length=MAX_LANGUAGES)


class PlaceLanguagesOut(BaseModel):
    location: str
    languages: list[str] = Field(description="the default first")
    asks: str | None = Field(description="the survey its nearest live assignment names")


class PushedOut(BaseModel):
    configs: int = Field(description="kiosks given a new config")


def _limit(request: Request) -> int:
    return web_context(request).settings.ingest.max_payload_bytes


def _visible(session: Session, user: Principal) -> set[str]:
    return user.visible(LocationTree.load(session))


def _may_change(session: Session, user: Principal, survey_id: str) -> None:
    """A manager changes a survey asked only within his sites (or asked nowhere yet)."""
    if user.role is Role.ADMIN:
        return
    places = set(
        session.scalars(
            select(SurveyAssignment.location_id).where(SurveyAssignment.survey_id == survey_id)
        )
    )
    outside = places - _visible(session, user)
    if outside:
        raise HTTPException(403, f"survey {survey_id} is also asked beyond your sites")


@router.get("/surveys", response_class=HTMLResponse, include_in_schema=False)
def surveys_page(request: Request, user: Manager) -> Response:
    return web_context(request).templates.TemplateResponse(request, "surveys.html", {"user": user})


@router.get("/api/surveys", tags=["surveys"])
def api_surveys(session: Db, user: Manager) -> list[SurveyListingOut]:
    """Every survey, its latest version and where it is asked (a manager sees the places
    within his sites, and whether it is also asked beyond them)."""
    listings = [SurveyListingOut.model_validate(s.__dict__) for s in list_surveys(session)]
    if user.role is Role.ADMIN:
        return listings
    visible = _visible(session, user)
    for listing in listings:
        mine = [place for place in listing.assigned_to if place in visible]
        listing.asked_elsewhere = len(mine) < len(listing.assigned_to)
        listing.assigned_to = mine
    return listings


@router.get("/api/surveys/{survey_id}", tags=["surveys"])
def api_survey(
    session: Db,
    _user: Manager,
    survey_id: SurveyId,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Survey:
    """One version of a survey (the latest by default), every text in every language."""
    try:
        return survey_version(session, survey_id=survey_id, version=version)
    except ConfigError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/api/surveys", tags=["surveys"], status_code=201)
def api_create_survey(
    request: Request, session: Db, user: Manager, body: SurveyFileIn, now: Now
) -> CreatedOut:
    """A survey file makes version 1, or the next version of the survey of its id."""
    try:
        parsed = parse_survey(body.toml, source="survey")
        _may_change(session, user, parsed.survey.survey_id)
        created = create_survey(
            session, parsed=parsed, by=user.username, now=now, max_config_bytes=_limit(request)
        )
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return CreatedOut(survey=created.survey, new=created.new, configs=len(created.configs))


@router.post("/api/surveys/{survey_id}/assign", tags=["surveys"])
def api_assign_survey(
    request: Request, session: Db, user: Manager, survey_id: SurveyId, body: AssignIn, now: Now
) -> PushedOut:
    """One of your locations, and every place beneath it, ask this survey."""
    if body.location not in _visible(session, user):
        raise HTTPException(404, f"no location {body.location!r} among yours")
    try:
        configs = assign_survey(
            session,
            survey_id=survey_id,
            location_id=body.location,
            by=user.username,
            now=now,
            max_config_bytes=_limit(request),
        )
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return PushedOut(configs=len(configs))


@router.post("/api/surveys/{survey_id}/retire", tags=["surveys"])
def api_retire_survey(
    request: Request, session: Db, user: Manager, survey_id: SurveyId, now: Now
) -> PushedOut:
    """No longer pushed; places fall back to a survey assigned above them, else keep theirs."""
    _may_change(session, user, survey_id)
    try:
        configs = retire_survey(
            session, survey_id=survey_id, now=now, max_config_bytes=_limit(request)
        )
    except ConfigError as exc:
        raise HTTPException(404, str(exc)) from exc
    return PushedOut(configs=len(configs))


@router.get("/api/locations/{location_id}/languages", tags=["surveys"])
def api_location_languages_get(session: Db, user: Manager, location_id: str) -> PlaceLanguagesOut:
    """The languages one of your locations asks in, the default first, and its survey."""
    if location_id not in _visible(session, user):
        raise HTTPException(404, f"no location {location_id!r} among yours")
    resolver = Resolver(session)
    return PlaceLanguagesOut(
        location=location_id,
        languages=resolver.languages.get(location_id, ["en"]),
        asks=resolver.survey_id(location_id),
    )


@router.put("/api/locations/{location_id}/languages", tags=["surveys"])
def api_location_languages(
    request: Request, session: Db, user: Manager, location_id: str, body: LanguagesIn, now: Now
) -> PushedOut:
    """The languages one of your locations and every place beneath it ask in, default first."""
    if location_id not in _visible(session, user):
        raise HTTPException(404, f"no location {location_id!r} among yours")
    try:
        configs = set_languages(
            session,
            location_id=location_id,
            languages=body.languages,
            now=now,
            max_config_bytes=_limit(request),
        )
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return PushedOut(configs=len(configs))
