"""The embedded MQTT broker (amqtt) for a one-box install: loopback only, anonymous.

Production uses Mosquitto (see firmware_config/mosquitto/); this exists so that a laptop or
a demo needs nothing else installed.
"""

import asyncio
import logging
import socket
import threading
from typing import Any

from protocol.broker_url import BrokerAddress
from protocol.errors import SeedError

log = logging.getLogger(__name__)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the broker's own listener does, so a restart is not put off by TIME_WAIT
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", preferred_port: int = 1883) -> None:
        if preferred_port and port_is_free(host, preferred_port):
            port = preferred_port
        else:
            port = free_port(host)
            if preferred_port:
                log.warning(
                    "port %d is taken (another broker?); the embedded broker uses %d",
                    preferred_port,
                    port,
                )
        self.address = BrokerAddress(host=host, port=port, tls=False)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._broker: Any = None
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)

    def start(self) -> BrokerAddress:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None or not self._ready.is_set():
            raise SeedError(
                f"embedded broker failed to start on {self.address.url}: {self._failure}"
            )
        log.info("embedded MQTT broker listening on %s", self.address.url)
        return self.address

    def stop(self) -> None:
        if self._broker is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from amqtt.broker import Broker  # noqa: PLC0415 (heavy; only the embedded case needs it)

        asyncio.set_event_loop(self._loop)
        config = {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{self.address.host}:{self.address.port}"}
            },
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

        async def start() -> None:
            self._broker = Broker(config)
            await self._broker.start()

        try:
            self._loop.run_until_complete(start())
        except Exception as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()
