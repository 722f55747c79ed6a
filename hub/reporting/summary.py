"""What a director reads in thirty seconds, per site, for a period against the one before:
the Happy Index and its change, % positive with its interval, responses by channel, the best
and worst touchpoints, the top reasons after an unhappy answer, and the site's tasks (how
fast they were handled, what recovered).

Scores are read from the rollups (hub.reporting.reports), reasons from their rollups
(hub.reporting.reasons), tasks by hub.tasks.stats. The PDF's first page draws a summary;
`summary_text` and `summary_html` write it for the scheduled e-mail.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.models import Channel
from hub.reporting.analytics import MIN_RANKED_RESPONSES, Summary, rolled_up, score_summary
from hub.reporting.reasons import OptionShare, reasons
from hub.reporting.reports import LocationScore, location_scores
from hub.reporting.scores import ButtonCounts
from hub.rollups.buckets import Period
from hub.tasks.stats import TaskFigures, task_figures

TOP_TOUCHPOINTS = 3
TOP_REASONS = 3
CHANNEL_NAMES = {Channel.KIOSK.value: "kiosk", Channel.WEB.value: "phone"}


@dataclass(frozen=True)
class TouchpointScore:
    location: str
    name: str
    responses: int
    happy_index: float
    change: float | None
    """Against the period before, where both have answers."""


@dataclass(frozen=True)
class SiteSummary:
    site: str
    name: str
    time_zone: str
    period: Period
    previous: Period
    score: Summary
    before: Summary
    """The same figures over the period before."""
    channels: dict[str, int]
    """Scored responses per channel (kiosk, web)."""
    best: list[TouchpointScore]
    worst: list[TouchpointScore]
    """Worst first; never one of `best`."""
    min_answers: int
    """A touchpoint with fewer answers is neither best nor worst."""
    unhappy_answered: int
    """Follow-ups answered after an unhappy press."""
    reasons: list[OptionShare]
    """The top reasons after an unhappy press, most given first."""
    teams: list[TaskFigures]
    """Each team's figures over the site's tasks opened in the period."""
    places: list[TaskFigures]
    """Each place with a task measured before and after, per team."""

    @property
    def change(self) -> float | None:
        if self.score.happy_index is None or self.before.happy_index is None:
            return None
        return round(self.score.happy_index - self.before.happy_index, 1)

    @property
    def tasks(self) -> int:
        return sum(team.tasks for team in self.teams)


def site_summaries(
    session: Session,
    *,
    tree: LocationTree,
    sites: Sequence[str],
    period: Period,
    now: datetime,
    previous: Period | None = None,
    min_answers: int = MIN_RANKED_RESPONSES,
) -> list[SiteSummary]:
    """The summary of each site (with everything beneath it); `previous` defaults to the
    period of the same length just before."""
    previous = previous or period.previous()
    places: set[str] = set().union(*(tree.subtree(site) for site in sites))
    current = _scores(session, tree, places, period)
    before = _scores(session, tree, places, previous)
    return [
        _site(
            session,
            tree,
            site,
            (period, previous),
            (current, before),
            now=now,
            min_answers=min_answers,
        )
        for site in sites
    ]


def _scores(
    session: Session, tree: LocationTree, places: Collection[str], period: Period
) -> dict[str, LocationScore]:
    own = location_scores(
        session, since=period.since, until=period.until, locations=places, buttons_only=True
    )
    return rolled_up(tree, own)


def _site(
    session: Session,
    tree: LocationTree,
    site: str,
    periods: tuple[Period, Period],
    scores: tuple[dict[str, LocationScore], dict[str, LocationScore]],
    *,
    now: datetime,
    min_answers: int,
) -> SiteSummary:
    place = tree.places[site]
    current, before = scores
    counts = _counts(current, site)
    ranked = _touchpoints(tree, site, scores, min_answers)
    best = ranked[: min(TOP_TOUCHPOINTS, (len(ranked) + 1) // 2)]
    worst = ranked[len(best) :][::-1][:TOP_TOUCHPOINTS]
    unhappy = reasons(session, tree=tree, location_id=site, period=periods[0]).negative
    figures = task_figures(session, period=periods[0], now=now, within=tree.subtree(site))
    own = current.get(site)
    return SiteSummary(
        site=site,
        name=place.name,
        time_zone=place.time_zone,
        period=periods[0],
        previous=periods[1],
        score=score_summary(counts),
        before=score_summary(_counts(before, site)),
        channels={
            channel.value: 0 if own is None else own.channel_scored(channel).total
            for channel in Channel
        },
        best=best,
        worst=worst,
        min_answers=min_answers,
        unhappy_answered=unhappy.answered,
        reasons=[option for option in unhappy.options if option.count][:TOP_REASONS],
        teams=[row for row in figures if row.location_id is None],
        places=[row for row in figures if row.location_id is not None and _measured(row)],
    )


def _counts(scores: dict[str, LocationScore], location_id: str) -> ButtonCounts:
    score = scores.get(location_id)
    return ButtonCounts() if score is None else score.counts


def _touchpoints(
    tree: LocationTree,
    site: str,
    scores: tuple[dict[str, LocationScore], dict[str, LocationScore]],
    min_answers: int,
) -> list[TouchpointScore]:
    """The site's touchpoints with at least `min_answers`, best Happy Index first."""
    current, before = scores
    found = []
    for location_id in tree.depth_first(tree.subtree(site)):
        place = tree.places[location_id]
        now = score_summary(_counts(current, location_id))
        if place.kind != "touchpoint" or now.happy_index is None or now.responses < min_answers:
            continue
        then = score_summary(_counts(before, location_id)).happy_index
        change = None if then is None else round(now.happy_index - then, 1)
        found.append(
            TouchpointScore(location_id, place.name, now.responses, now.happy_index, change)
        )
    return sorted(found, key=lambda t: (-t.happy_index, t.location))


def _measured(row: TaskFigures) -> bool:
    return bool(row.recovered or row.not_recovered or row.too_few)


# Words and numbers as both the PDF and the e-mails write them.


def span_name(period: Period) -> str:
    """What the period is called against the one before: day, week, month or period."""
    days = round((period.until - period.since) / timedelta(days=1))
    if days == 1:
        return "day"
    if days == 7:
        return "week"
    return "month" if 28 <= days <= 31 else "period"


def local_span(period: Period, zone: str) -> str:
    """The local days the period covers: 'Mon 16 Nov 2026' or 'Mon 16 Nov to Sun 22 Nov 2026'."""
    first = period.since.astimezone(ZoneInfo(zone))
    last = (period.until - timedelta(microseconds=1)).astimezone(ZoneInfo(zone))
    if first.date() == last.date():
        return f"{first:%a %d %b %Y}"
    return f"{first:%a %d %b} to {last:%a %d %b %Y}"


def number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def signed(value: float | None) -> str:
    """'+2.4', '-0.9', '0.0' (never '-0.0')."""
    if value is None:
        return "no change to compare"
    rounded = round(value, 1) + 0.0
    return "0.0" if rounded == 0 else f"{rounded:+.1f}"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def interval(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f"95 % CI {ci[0]:.0%}-{ci[1]:.0%}"


def duration(minutes: float | None) -> str:
    """'12 min', '2 h 05 min', '3 d 4 h'; '-' when nothing was timed."""
    if minutes is None:
        return "-"
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    if whole < 24 * 60:
        return f"{whole // 60} h {whole % 60:02d} min"
    return f"{whole // (24 * 60)} d {whole % (24 * 60) // 60} h"


def index_line(summary: SiteSummary) -> str:
    """'Happy Index 72 (+3.1 against the week before, 69)'."""
    score, before = summary.score, summary.before
    if score.happy_index is None:
        return "Happy Index: no answers in this period"
    line = f"Happy Index {number(score.happy_index)}"
    if summary.change is not None:
        span = span_name(summary.period)
        line += f" ({signed(summary.change)} against the {span} before, "
        line += f"{number(before.happy_index)})"
    return line


def positive_line(summary: SiteSummary) -> str:
    score = summary.score
    if score.positive_share is None:
        return "Positive: -"
    ci = interval(score.positive_ci)
    return f"Positive {percent(score.positive_share)}" + (f" ({ci})" if ci else "")


def responses_line(summary: SiteSummary) -> str:
    """'Responses 4,430: 4,100 kiosk, 330 phone (4,200 the week before)'."""
    by_channel = ", ".join(
        f"{summary.channels.get(channel, 0):,} {name}" for channel, name in CHANNEL_NAMES.items()
    )
    span = span_name(summary.period)
    return (
        f"Responses {summary.score.responses:,}: {by_channel} "
        f"({summary.before.responses:,} the {span} before)"
    )


def touchpoints_text(touchpoints: Sequence[TouchpointScore]) -> str:
    return "; ".join(f"{t.name} {number(t.happy_index)}" for t in touchpoints)


def reason_label(option: OptionShare) -> str:
    return option.label or option.option


def reasons_text(summary: SiteSummary) -> str:
    if not summary.reasons:
        return "no reasons given"
    given = ", ".join(f"{reason_label(r)} {percent(r.share)}" for r in summary.reasons)
    return f"{given} (of {summary.unhappy_answered:,} answered)"


def team_text(team: TaskFigures) -> str:
    """'Cleaning T2: 2 tasks; acknowledged in 7 min (median), 100 % in time; resolved in
    28 min, 50 % in time; recovered 1 of 2 measured'."""
    parts = [f"{team.team_name}: {team.tasks} task{'' if team.tasks == 1 else 's'}"]
    if team.acknowledged:
        parts.append(f"acknowledged in {duration(team.ack_median_min)} (median)")
        if team.ack_in_time is not None:
            parts[-1] += f", {percent(team.ack_in_time)} in time"
    if team.resolved:
        parts.append(f"resolved in {duration(team.resolve_median_min)}")
        if team.resolve_in_time is not None:
            parts[-1] += f", {percent(team.resolve_in_time)} in time"
    if team.escalated:
        parts.append(f"{team.escalated} escalated")
    parts.append(recovery_text(team))
    return "; ".join(parts)


def recovery_text(figures: TaskFigures) -> str:
    told = figures.recovered + figures.not_recovered
    if not told and not figures.too_few:
        return "none measured yet"
    text = f"recovered {figures.recovered} of {told}" if told else "none told"
    if figures.too_few:
        text += f" ({figures.too_few} with too few answers to tell)"
    return text


def place_text(place: TaskFigures) -> str:
    return f"{place.location_name or place.location_id} ({place.team_name}): {recovery_text(place)}"


def summary_lines(summary: SiteSummary) -> list[tuple[str, str]]:
    """(label, text) rows: what the e-mail says of the site."""
    rows = [
        ("Score", index_line(summary)),
        ("", positive_line(summary)),
        ("Responses", responses_line(summary)[len("Responses ") :]),
        ("Best", touchpoints_text(summary.best) or _none_ranked(summary)),
        ("Worst", touchpoints_text(summary.worst) or _none_ranked(summary)),
        ("Unhappy because", reasons_text(summary)),
    ]
    teams = [team_text(team) for team in summary.teams] or ["no tasks opened"]
    rows += [("Tasks" if i == 0 else "", text) for i, text in enumerate(teams)]
    rows += [
        ("After the fix" if i == 0 else "", place_text(p)) for i, p in enumerate(summary.places)
    ]
    return rows


def _none_ranked(summary: SiteSummary) -> str:
    return f"no touchpoint had {summary.min_answers} answers"


def summary_text(summaries: Sequence[SiteSummary], *, intro: str) -> str:
    """The e-mail's plain text: the intro, then each site's lines."""
    blocks = [intro]
    for summary in summaries:
        title = f"{summary.name}, {local_span(summary.period, summary.time_zone)}"
        width = max(len(label) for label, _ in summary_lines(summary))
        lines = [f"{label:<{width}}  {text}" for label, text in summary_lines(summary)]
        blocks.append("\n".join([title, "=" * len(title), *lines]))
    return "\n\n".join(blocks) + "\n"


def summary_html(summaries: Sequence[SiteSummary], *, intro: str, title: str) -> str:
    """The e-mail's HTML: the same lines, a table per site (no script, no image, no link)."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title></head>",
        '<body style="font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#1a1a1a">',
        f"<p>{escape(intro)}</p>",
    ]
    for summary in summaries:
        span = local_span(summary.period, summary.time_zone)
        parts.append(f'<h2 style="font-size:18px">{escape(summary.name)}, {escape(span)}</h2>')
        parts.append('<table style="border-collapse:collapse">')
        for label, text in summary_lines(summary):
            parts.append(
                '<tr><th scope="row" style="text-align:left;vertical-align:top;'
                f'padding:2px 12px 2px 0;font-weight:bold">{escape(label)}</th>'
                f'<td style="padding:2px 0">{escape(text)}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
