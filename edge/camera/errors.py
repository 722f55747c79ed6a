"""The camera's error: a model or manifest that cannot be used. Part of the one hierarchy."""

from protocol.errors import SeedError


class ModelError(SeedError):
    """A model or its manifest is missing, corrupt or breaks its contract; the message says why."""
