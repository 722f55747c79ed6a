"""Broker addresses as technicians write them: mqtt://host:port or mqtts://host:port."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from protocol.errors import ConfigError


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(
            f"broker URL {url!r} is not of the form mqtt://host:port or mqtts://host:port"
        )
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ConfigError(f"broker URL {url!r} has an invalid port") from exc
    return BrokerAddress(host=parts.hostname, port=port, tls=tls)
