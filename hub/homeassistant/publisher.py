"""Keeps Home Assistant's view of the fleet current, through the hub's own broker connection.

Every `publish_s` the process holding the lease reads the figures and publishes, retained,
what changed since it last did: each entity's config, each device's state, and "online" on
the hub's availability topic (whose "offline" is the connection's last will, and is
published when the hub stops). Everything is published again after each reconnect.

The connection subscribes to this fleet's config topics, so the broker replays every config
announced before, by this process or an earlier one: a config whose location is gone or whose
kiosk is revoked or removed is cleared with an empty retained payload (Home Assistant then
removes the entity), and so is its state.
"""

import json
import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.fleet.remote_config import RetainedPublisher
from hub.homeassistant.discovery import AVAILABLE, NOT_AVAILABLE, HaTopics, retained_messages
from hub.homeassistant.figures import kiosk_figures, place_figures
from hub.periodic import PeriodicJob, always
from protocol.mqtt import Message, Will

log = logging.getLogger(__name__)


class HomeAssistantPublisher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        publish: RetainedPublisher,
        *,
        clock: Clock = utc_now,
        may_run: Callable[[], bool] = always,
    ) -> None:
        self.topics = HaTopics.of(settings)
        self._sessions = sessions
        self._camera = settings.camera
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, bytes] = {}  # topic -> what this connection last published there
        self._held: dict[str, str | None] = {}  # config topic the broker holds -> its state topic
        self._online = False
        self._job = PeriodicJob(
            "homeassistant", self.publish_due, settings.homeassistant.publish_s, may_run=may_run
        )

    @property
    def will(self) -> Will:
        """For the hub's connection: the broker tells Home Assistant when the hub is gone."""
        return Will(self.topics.availability, NOT_AVAILABLE)

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """For the hub's connection: the configs this fleet has announced."""
        return (self.topics.announced,)

    def heard(self, message: Message) -> bool:
        """Note a config the broker holds (replayed, or our own come back); False when the
        message is none of this fleet's configs."""
        if not self.topics.is_announcement(message.topic):
            return False
        with self._lock:
            if message.payload:
                self._held[message.topic] = self._state_topic(message.payload)
            else:
                self._held.pop(message.topic, None)
        return True

    def forget(self) -> None:
        """After a (re)connect: publish everything again, now."""
        with self._lock:
            self._sent.clear()
        self._job.wake()

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()
        if self._online and self._publish(self.topics.availability, NOT_AVAILABLE):
            self._online = False

    def publish_due(self) -> int:
        """Publish what changed and clear what is gone; returns how many messages were sent."""
        now = self._clock()
        with self._sessions() as session:
            places = place_figures(session, now=now, camera=self._camera)
            locations = {place.location_id for place in places}
            kiosks = kiosk_figures(session, now=now, locations=locations)
        configs, states = retained_messages(self.topics, places, kiosks)
        if not self._publish(self.topics.availability, AVAILABLE):
            return 0  # not connected: everything again at the next round
        self._online = True
        sent = self._send_changed({**configs, **states})
        return sent + self._clear_gone(configs, states)

    def _send_changed(self, messages: dict[str, bytes]) -> int:
        sent = 0
        for topic, payload in messages.items():
            with self._lock:
                if self._sent.get(topic) == payload:
                    continue
            if not self._publish(topic, payload):
                break
            with self._lock:
                self._sent[topic] = payload
            sent += 1
        return sent

    def _clear_gone(self, configs: dict[str, bytes], states: dict[str, bytes]) -> int:
        with self._lock:
            gone = [(topic, state) for topic, state in self._held.items() if topic not in configs]
        cleared: list[str] = []
        for topic, state in gone:
            if not self._clear(topic):
                break
            log.info("removed from Home Assistant: %s", topic)
            cleared.append(topic)
            if state is None or state in states or state in cleared:
                continue  # still read, or cleared already
            if self._clear(state):
                cleared.append(state)
        return len(cleared)

    def _clear(self, topic: str) -> bool:
        if not self._publish(topic, b""):
            return False
        with self._lock:
            self._held.pop(topic, None)
            self._sent.pop(topic, None)
        return True

    def _state_topic(self, config: bytes) -> str | None:
        """The config's state topic, if it is one of ours (never clear another's topic)."""
        try:
            document = json.loads(config)
        except ValueError:
            return None
        topic = document.get("state_topic") if isinstance(document, dict) else None
        ours = isinstance(topic, str) and topic.startswith(f"{self.topics.state_prefix}/")
        return topic if ours and isinstance(topic, str) else None
