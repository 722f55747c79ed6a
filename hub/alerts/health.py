"""Device health verdicts: a kiosk offline too long, its outbox filling, its clock off."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.alerts.rules import Rule, RuleKind


@dataclass(frozen=True)
class DeviceHealth:
    device_id: str
    location_id: str
    last_seen_at: datetime | None
    outbox_depth: int | None
    clock_offset_s: float | None


def device_verdict(rule: Rule, device: DeviceHealth, now: datetime) -> str | None:
    """What is wrong with this kiosk by this rule, or None."""
    if rule.kind is RuleKind.DEVICE_OFFLINE:
        seen = device.last_seen_at
        if seen is not None and now - seen > timedelta(minutes=rule.threshold):
            minutes = (now - seen).total_seconds() / 60
            return f"kiosk {device.device_id} unseen for {minutes:.0f} min"
        return None
    if rule.kind is RuleKind.OUTBOX:
        depth = device.outbox_depth
        if depth is not None and depth >= rule.threshold:
            return f"kiosk {device.device_id} holds {depth} unsent events"
        return None
    offset = device.clock_offset_s
    if offset is not None and abs(offset) > rule.threshold:
        return f"kiosk {device.device_id}'s clock is {offset:+.0f} s off"
    return None
