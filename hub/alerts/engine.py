"""The alert engine: one thread that runs every rule each `alert_interval_s` and, between
runs, sends what the delivery queue holds.

A rule opens an alert for a subject (a location, or a kiosk for health rules) when its
condition holds and no unresolved alert of that rule and subject exists; the alert is
resolved when the condition is seen to be over, so a lasting condition alerts once. Quiet
hours, in the location's own time zone, keep alerts from opening.
"""

import logging
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.cusum import Baseline, Cusum, CusumParams, HourCounts
from hub.alerts.delivery import Backoff, DeliveryQueue, Publisher, channels_from
from hub.alerts.health import DeviceHealth, device_verdict
from hub.alerts.records import list_rules, open_alert
from hub.alerts.rules import HEALTH_KINDS, WINDOW_KINDS, Rule, window_verdict, zone
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.hierarchy import LocationTree
from hub.models import Alert, CusumState, Device, Event, Location
from hub.periodic import PeriodicJob, always
from hub.reporting.reasons import reasons
from hub.reporting.scores import ButtonCounts
from hub.rollups.buckets import Period, hour_bucket
from hub.rollups.read import hourly_counts, localised, window_counts
from hub.tasks.records import open_for_alert
from protocol.messages import Button

log = logging.getLogger(__name__)

UNHAPPY = frozenset({Button.UNHAPPY.value, Button.VERY_UNHAPPY.value})
CUSUM_WARMUP = timedelta(hours=1)
BASELINE_GAP = timedelta(days=1)
"""The latest day is left out of the baseline, so a drop does not teach the chart it is normal."""
DELIVERY_POLL_S = 1.0


class AlertEngine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        publish: Publisher,
        *,
        clock: Clock = utc_now,
        cusum: CusumParams | None = None,
        may_run: Callable[[], bool] = always,
        on_opened: Callable[[], object] | None = None,
    ) -> None:
        """`on_opened` is called after a round that opened alerts has been committed (the
        task desk, to send their tasks' notices at once)."""
        self._sessions = sessions
        self._on_opened = on_opened
        self._interval_s = settings.alerts.interval_s
        self._clock = clock
        channels = channels_from(settings, publish)
        self.channels = tuple(channels)
        self.deliveries = DeliveryQueue(
            sessions,
            channels,
            Backoff(
                settings.alerts.retry_base_s,
                settings.alerts.retry_max_s,
                settings.alerts.max_attempts,
            ),
        )
        self._cusum = cusum or CusumParams()
        self._baselines: dict[str, tuple[datetime, Baseline]] = {}
        self._next_evaluation = 0.0
        self._job = PeriodicJob("alert-engine", self._tick, DELIVERY_POLL_S, may_run=may_run)

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()

    def _tick(self) -> None:
        """Evaluate the rules every `alert_interval_s`; deliver what is due every tick. A
        failed evaluation is tried again at the next interval and holds no delivery back."""
        if time.monotonic() >= self._next_evaluation:
            self._next_evaluation = time.monotonic() + self._interval_s
            try:
                if self.evaluate() and self._on_opened is not None:
                    self._on_opened()
            except Exception:
                log.exception("alert rules could not be evaluated; trying again later")
        self.deliveries.deliver_due(self._clock())

    def evaluate(self, now: datetime | None = None) -> list[int]:
        """Run every rule once; returns the ids of the alerts opened."""
        now = now or self._clock()
        with self._sessions.begin() as session:
            tree = LocationTree.load(session)
            run = _Round(session, tree, now, self.channels)
            for rule in list_rules(session):
                targets = tree.subtree(rule.location_id) if rule.location_id in tree else set()
                if rule.kind in WINDOW_KINDS:
                    self._window_rule(run, rule, targets)
                elif rule.kind in HEALTH_KINDS:
                    self._health_rule(run, rule, targets)
                else:
                    self._cusum_rule(run, rule, targets)
            return run.opened

    def _window_rule(self, run: "_Round", rule: Rule, targets: set[str]) -> None:
        since = run.now - timedelta(minutes=rule.window_min)
        counts = window_counts(run.session, locations=targets, since=since, until=run.now)
        for location_id in sorted(targets):
            verdict = window_verdict(rule, counts.get(location_id, ButtonCounts()))
            if verdict is not None:
                verdict += _top_reasons(run, location_id, Period(since, run.now))
            run.settle(rule, location_id, location_id, verdict)

    def _health_rule(self, run: "_Round", rule: Rule, targets: set[str]) -> None:
        devices = run.session.scalars(
            select(Device).where(Device.location_id.in_(targets), Device.revoked_at.is_(None))
        )
        for d in devices:
            assert d.location_id is not None
            health = DeviceHealth(
                d.device_id, d.location_id, d.last_seen_at, d.outbox_depth, d.clock_offset_s
            )
            run.settle(rule, d.device_id, d.location_id, device_verdict(rule, health, run.now))

    def _cusum_rule(self, run: "_Round", rule: Rule, targets: set[str]) -> None:
        params = CusumParams(
            odds_ratio=self._cusum.odds_ratio,
            threshold=rule.threshold,
            prior_strength=self._cusum.prior_strength,
            baseline_weeks=self._cusum.baseline_weeks,
        )
        for location_id in sorted(targets):
            verdict = self._cusum_location(run, rule, params, location_id)
            run.settle(rule, location_id, location_id, verdict)

    def _cusum_location(
        self, run: "_Round", rule: Rule, params: CusumParams, location_id: str
    ) -> str | None:
        state = run.session.get(CusumState, (rule.id, location_id))
        if state is None:
            state = CusumState(
                rule_id=rule.id,
                location_id=location_id,
                statistic=0.0,
                through=run.now - CUSUM_WARMUP,
            )
            run.session.add(state)
        chart = Cusum(params, state.statistic)
        baseline = self.baseline(run.session, location_id, run.now, params)
        tz = zone(run.tree.places[location_id].time_zone)
        fired = 0
        for occurred_at, button in scored_presses(
            run.session, location_id=location_id, after=state.through, until=run.now
        ):
            local = occurred_at.astimezone(tz)
            p0 = baseline.at(local.weekday() * 24 + local.hour)
            fired += chart.update(button in UNHAPPY, p0)
        state.statistic, state.through = chart.statistic, run.now
        if not fired:
            return None
        return f"the unhappy share has risen above this hour's usual (CUSUM h = {rule.threshold:g})"

    def baseline(
        self, session: Session, location_id: str, now: datetime, params: CusumParams
    ) -> Baseline:
        """The location's hour-of-week p0, recomputed once an hour."""
        hour = hour_bucket(now)
        cached = self._baselines.get(location_id)
        if cached is not None and cached[0] == hour:
            return cached[1]
        counts = hour_of_week_counts(
            session,
            location_id=location_id,
            time_zone=_time_zone(session, location_id),
            since=hour - timedelta(weeks=params.baseline_weeks),
            until=hour - BASELINE_GAP,
        )
        baseline = Baseline.from_history(counts, params.prior_strength)
        self._baselines[location_id] = (hour, baseline)
        return baseline


class _Round:
    """One evaluation: the open alerts read once, and what this round opened."""

    def __init__(
        self, session: Session, tree: LocationTree, now: datetime, channels: Collection[str]
    ) -> None:
        self.session = session
        self.tree = tree
        self.now = now
        self.channels = channels
        self.opened: list[int] = []
        self._unresolved = {
            (a.rule_id, a.subject): a
            for a in session.scalars(select(Alert).where(Alert.resolved_at.is_(None)))
        }

    def settle(self, rule: Rule, subject: str, location_id: str, verdict: str | None) -> None:
        """Resolve the open alert when all is well; open one when not (outside quiet hours)."""
        current = self._unresolved.get((rule.id, subject))
        if verdict is None:
            if current is not None:
                current.resolved_at = self.now
                del self._unresolved[(rule.id, subject)]
            return
        if current is not None:
            return
        place = self.tree.places.get(location_id)
        time_zone = place.time_zone if place else "UTC"
        if rule.quiet is not None and rule.quiet.covers(self.now, time_zone):
            return
        alert = open_alert(
            self.session,
            rule=rule,
            subject=subject,
            location_id=location_id,
            message=verdict,
            now=self.now,
            channels=self.channels,
        )
        self._unresolved[(rule.id, subject)] = alert
        self.opened.append(alert.id)
        tasks = open_for_alert(self.session, alert=alert, rule=rule, tree=self.tree, now=self.now)
        log.info("alert %d at %s: %s (tasks %s)", alert.id, location_id, verdict, tasks or "none")


TOP_REASONS = 3


def _top_reasons(run: "_Round", location_id: str, period: Period) -> str:
    """ "; top reasons: Dirty 7, No paper or soap 3": what the window's unhappy travellers
    said, where they said anything."""
    negative = reasons(run.session, tree=run.tree, location_id=location_id, period=period).negative
    given = sorted((o for o in negative.options if o.count), key=lambda o: (-o.count, o.option))
    if not given:
        return ""
    named = ", ".join(f"{o.label or o.option} {o.count}" for o in given[:TOP_REASONS])
    return f"; top reasons: {named}"


def scored_presses(
    session: Session, *, location_id: str, after: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """(occurred_at, button) of the presses in (after, until], oldest first, misuse left out."""
    return [
        (occurred_at, button)
        for occurred_at, button in session.execute(
            select(Event.occurred_at, Event.button)
            .where(
                Event.location_id == location_id,
                Event.occurred_at > after,
                Event.occurred_at <= until,
                Event.misuse.is_(False),
            )
            .order_by(Event.occurred_at)
        )
    ]


def hour_of_week_counts(
    session: Session, *, location_id: str, time_zone: str, since: datetime, until: datetime
) -> dict[int, HourCounts]:
    """Unhappy and all scored presses per local hour of the week (Monday 00:00 is 0)."""
    hours = hourly_counts(session, locations=[location_id], period=Period(since, until))
    local = localised(hours, time_zone)
    return {
        weekday * 24 + hour: HourCounts(counts.unhappy + counts.very_unhappy, counts.total)
        for (weekday, hour), counts in local.week_hours.items()
    }


def _time_zone(session: Session, location_id: str) -> str:
    location = session.get(Location, location_id)
    return location.time_zone if location else "UTC"
