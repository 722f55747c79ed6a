"""Signed, expiring values (the phone survey's tickets and cookie, staff task links), stamped
with the hub's clock so that tests can move it."""

import secrets
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from hub.clock import Clock
from hub.config import HubSettings
from protocol.files import write_private


class _ClockSigner(TimestampSigner):
    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def timed_serializer(secret: str, salt: str, clock: Clock) -> URLSafeTimedSerializer:
    """One serializer per purpose (`salt`): a value signed for one is refused by the others."""
    return URLSafeTimedSerializer(
        secret, salt=salt, signer=_ClockSigner, signer_kwargs={"clock": clock}
    )


def session_secret(settings: HubSettings) -> str:
    """The key that signs cookies and staff links: from the settings, else a file that
    every web process shares."""
    if settings.web.secret:
        return settings.web.secret.get_secret_value()
    path = settings.web_secret_file
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()
