"""The phone survey in the JSON API: managers (of their sites) and admins issue, revoke and
reissue a place's QR links, download its poster, and read, hide and export the comments
travellers wrote. The same rules as `seed-hub qr …` (hub/phone/commands.py)."""

import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hub.models import Comment, Location
from hub.phone.comments import CommentView, comment_count, comments_csv, list_comments, set_hidden
from hub.phone.links import (
    Link,
    find_link,
    issue_link,
    links_of,
    live_link,
    reissue_link,
    revoke_link,
)
from hub.phone.poster import Poster, PosterSize, PosterText, poster_pdf, poster_svg
from hub.surveys.store import Resolver
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from hub.web.language import N_, translate
from hub.web.routes_phone import DEFAULT_QUESTION, page_language
from hub.web.routes_scores import MAX_DAYS, visible_tree
from hub.web.schemas_scores import IsoTime
from protocol.errors import ConfigError
from protocol.surveys import Survey

router = APIRouter(tags=["phone"])

SCAN_HINT = N_("Scan with your phone camera to answer")
Size = Annotated[PosterSize, Query(description="the paper: a4 (default) or a5")]
Token = Annotated[str, Path(max_length=64)]
ResponseId = Annotated[str, Path(max_length=64)]
CommentDays = Annotated[
    float | None, Query(gt=0, le=MAX_DAYS, description="the last N days (default: all kept)")
]


class LinkOut(BaseModel):
    token: str
    url: str = Field(description="what the QR code carries")
    location: str
    kiosk: str | None = Field(description="the kiosk the link names, if any")
    created_at: IsoTime
    created_by: str
    revoked_at: IsoTime | None
    live: bool


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kiosk: str | None = Field(default=None, max_length=64, description="a kiosk of the place")


class CommentOut(BaseModel):
    response_id: str
    location: str
    location_name: str
    created_at: str
    language: str
    button: str = Field(description="the answer the comment went with")
    text: str | None = Field(description="null: erased at the end of its retention")
    masked: list[str] = Field(description="kinds of personal data masked in the text")
    hidden: bool


class CommentsOut(BaseModel):
    count: int = Field(description="comments listed")
    total: int = Field(description="comments ever written here, erased ones included")
    retention_days: float = Field(description="a comment's text is erased this long after")
    comments: list[CommentOut] = Field(description="newest first")


class HiddenOut(BaseModel):
    response_id: str
    hidden: bool


def public_base(request: Request) -> str:
    """Where phones reach the hub: SEED_HUB_PHONE_PUBLIC_URL, else this request's base URL."""
    configured = web_context(request).settings.phone.public_url
    return (configured or str(request.base_url)).rstrip("/")


def link_url(base: str, link: Link) -> str:
    return base.rstrip("/") + link.path()


def poster_of(session: Session, *, location_id: str, url: str) -> Poster:
    """The place's poster: its survey's question (else the default one) and the scan hint in
    each of its languages, the default first."""
    resolver = Resolver(session)
    try:
        survey = resolver.survey(location_id)
    except ConfigError:
        survey = None  # a survey without the place's languages: the default question
    location = session.get(Location, location_id)
    name = location.name if location is not None else location_id
    languages = resolver.languages.get(location_id) or ["en"]
    return Poster(url, name, tuple(_poster_text(tag, survey) for tag in languages))


def _poster_text(tag: str, survey: Survey | None) -> PosterText:
    language = page_language(tag)
    default = translate(language, DEFAULT_QUESTION)
    question = survey.question.get(tag, default) if survey is not None else default
    return PosterText(tag, question, translate(language, SCAN_HINT))


def poster_file_name(location_id: str, size: str, extension: str) -> str:
    """poster-hel-a4.pdf: safe in a header and on any disk."""
    return f"poster-{re.sub(r'[^A-Za-z0-9._-]+', '_', location_id)}-{size}.{extension}"


def _subtree(session: Session, user: Principal, location_id: str) -> set[str]:
    """The place and every place beneath it; 404 for a place the user may not see, as the
    score endpoints answer."""
    tree, visible = visible_tree(session, user)
    if location_id not in visible:
        raise HTTPException(404, f"no location {location_id!r} among yours")
    return tree.subtree(location_id)


def _link_out(request: Request, link: Link) -> LinkOut:
    return LinkOut(
        token=link.token,
        url=link_url(public_base(request), link),
        location=link.location_id,
        kiosk=link.device_id,
        created_at=link.created_at,
        created_by=link.created_by,
        revoked_at=link.revoked_at,
        live=link.live,
    )


def _my_link(session: Session, user: Principal, token: str) -> Link:
    link = find_link(session, token=token)
    if link is None or link.location_id not in visible_tree(session, user)[1]:
        raise HTTPException(404, "no such link among yours")
    return link


@router.get("/api/locations/{location_id}/phone-links")
def api_phone_links(
    request: Request, session: Db, user: Manager, location_id: str
) -> list[LinkOut]:
    """The place's QR links, live ones first, each newest first."""
    _subtree(session, user, location_id)
    links = sorted(links_of(session, location_id=location_id), key=lambda link: not link.live)
    return [_link_out(request, link) for link in links]


@router.post("/api/locations/{location_id}/phone-links", status_code=201)
def api_issue_link(
    request: Request, session: Db, user: Manager, location_id: str, body: IssueIn, now: Now
) -> LinkOut:
    """A new live link to one of your places (or to one of its kiosks), for a new poster."""
    _subtree(session, user, location_id)
    try:
        link = issue_link(
            session, location_id=location_id, device_id=body.kiosk, by=user.username, now=now
        )
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _link_out(request, link)


@router.post("/api/phone-links/{token}/revoke")
def api_revoke_link(
    request: Request, session: Db, user: Manager, token: Token, now: Now
) -> LinkOut:
    """Take a link down (a poster removed): its page then says so kindly."""
    _my_link(session, user, token)
    return _link_out(request, revoke_link(session, token=token, by=user.username, now=now))


@router.post("/api/phone-links/{token}/reissue", status_code=201)
def api_reissue_link(
    request: Request, session: Db, user: Manager, token: Token, now: Now
) -> LinkOut:
    """Revoke a link and issue its place (and kiosk) a new one: a reprinted poster."""
    _my_link(session, user, token)
    return _link_out(request, reissue_link(session, token=token, by=user.username, now=now))


def _poster(
    request: Request, session: Session, user: Principal, location_id: str, now: datetime
) -> Poster:
    _subtree(session, user, location_id)
    link = live_link(session, location_id=location_id, by=user.username, now=now)
    return poster_of(session, location_id=location_id, url=link_url(public_base(request), link))


def _download(content: bytes | str, media_type: str, file_name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@router.get("/api/locations/{location_id}/poster.pdf", response_class=Response)
def api_poster_pdf(
    request: Request, session: Db, user: Manager, location_id: str, now: Now, size: Size = "a4"
) -> Response:
    """The place's poster as a PDF to print: its newest live link without a kiosk (one is
    issued if it has none) as a QR code, its question in each of its languages."""
    poster = _poster(request, session, user, location_id, now)
    name = poster_file_name(location_id, size, "pdf")
    return _download(poster_pdf(poster, size), "application/pdf", name)


@router.get("/api/locations/{location_id}/poster.svg", response_class=Response)
def api_poster_svg(
    request: Request, session: Db, user: Manager, location_id: str, now: Now, size: Size = "a4"
) -> Response:
    """The same poster as an SVG, for a print shop or a layout program."""
    poster = _poster(request, session, user, location_id, now)
    name = poster_file_name(location_id, size, "svg")
    return _download(poster_svg(poster, size), "image/svg+xml", name)


def _comments(
    session: Session, places: set[str], days: float | None, *, now: datetime, hidden: bool
) -> list[CommentView]:
    since = None if days is None else now - timedelta(days=days)
    return list_comments(session, location_ids=places, since=since, include_hidden=hidden)


@router.get("/api/locations/{location_id}/comments")
def api_comments(
    request: Request,
    session: Db,
    user: Manager,
    location_id: str,
    now: Now,
    days: CommentDays = None,
    include_hidden: Annotated[bool, Query(description="hidden ones too (marked)")] = True,
) -> CommentsOut:
    """The comments travellers wrote at the place and beneath it, newest first, with the
    answer each went with."""
    places = _subtree(session, user, location_id)
    found = _comments(session, places, days, now=now, hidden=include_hidden)
    return CommentsOut(
        count=len(found),
        total=comment_count(session, location_ids=places),
        retention_days=web_context(request).settings.phone.comment_retention_days,
        comments=[CommentOut.model_validate(c.as_dict()) for c in found],
    )


@router.get("/api/locations/{location_id}/comments.csv", response_class=Response)
def api_comments_csv(
    session: Db,
    user: Manager,
    location_id: str,
    now: Now,
    days: CommentDays = None,
    include_hidden: Annotated[bool, Query(description="hidden ones too")] = False,
) -> Response:
    """The comments as CSV (hidden ones left out unless asked for)."""
    found = _comments(
        session, _subtree(session, user, location_id), days, now=now, hidden=include_hidden
    )
    name = f"comments-{re.sub(r'[^A-Za-z0-9._-]+', '_', location_id)}.csv"
    return _download(comments_csv(found), "text/csv; charset=utf-8", name)


def _set_hidden(
    session: Session, user: Principal, response_id: str, *, hidden: bool, now: datetime
) -> HiddenOut:
    comment = session.get(Comment, response_id)
    if comment is None or comment.location_id not in visible_tree(session, user)[1]:
        raise HTTPException(404, "no such comment among yours")
    set_hidden(session, response_id=response_id, hidden=hidden, by=user.username, now=now)
    return HiddenOut(response_id=response_id, hidden=hidden)


@router.post("/api/comments/{response_id}/hide")
def api_hide_comment(session: Db, user: Manager, response_id: ResponseId, now: Now) -> HiddenOut:
    """Hide a comment from the location page's default list and the CSV export."""
    return _set_hidden(session, user, response_id, hidden=True, now=now)


@router.post("/api/comments/{response_id}/show")
def api_show_comment(session: Db, user: Manager, response_id: ResponseId, now: Now) -> HiddenOut:
    """Show a hidden comment again."""
    return _set_hidden(session, user, response_id, hidden=False, now=now)
