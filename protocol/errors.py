"""The one exception hierarchy of the project."""


class SeedError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(SeedError):
    """A configuration file or setting is invalid; the message says what to fix."""


class ProtocolError(SeedError):
    """A message does not follow the wire protocol.

    `reason` is a short stable code (it becomes the dead-letter reason on the hub),
    the message a human explanation.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StoreError(SeedError):
    """A database could not be opened, migrated or written."""
