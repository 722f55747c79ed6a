"""Who may read the metrics: a scraper that sends the configured bearer token."""

import hmac

from pydantic import SecretStr

CHALLENGE = 'Bearer realm="seed-hub metrics"'


def bearer_matches(authorization: str | None, token: SecretStr) -> bool:
    """True if an `Authorization` header carries `Bearer <token>` (compared in constant time)."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
