"""Wiring: database, broker (embedded or external), MQTT subscription, ingest worker, web.

A hub process plays one role: `ingest` (the subscription, storing and acknowledging, and,
while it holds the lease, the periodic jobs), `web` (the dashboard and its API, no state of
its own), or `all` of it, as one small hub does.
"""

import logging
import threading
from datetime import timedelta
from enum import StrEnum

from hub.alerts.engine import AlertEngine
from hub.camera.observations import ObservationRetention
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.remote_config import ConfigPublisher
from hub.homeassistant.publisher import HomeAssistantPublisher
from hub.ingest.broker import EmbeddedBroker
from hub.ingest.dead_letters import DeadLetterRetention
from hub.ingest.pipeline import Ingestor, IngestPolicy, IngestWorker, Outbound
from hub.lease import Lease
from hub.metrics.database import DatabaseCollector
from hub.metrics.pool import forget_pool, watch_pool
from hub.metrics.registry import scrape_registry
from hub.metrics.server import configured_server
from hub.phone.comments import CommentRetention
from hub.reporting.schedule import ReportScheduler
from hub.tasks.desk import TaskDesk
from hub.web.app import create_app
from hub.web.server import WebServer
from protocol.broker_url import BrokerAddress, parse_broker_url
from protocol.mqtt import Message, MqttConnection, MqttLink, MqttLinkFactory, MqttOptions
from protocol.topics import Topics

log = logging.getLogger(__name__)


class HubRole(StrEnum):
    ALL = "all"
    INGEST = "ingest"
    WEB = "web"

    @property
    def ingests(self) -> bool:
        return self is not HubRole.WEB

    @property
    def serves_web(self) -> bool:
        return self is not HubRole.INGEST


class Hub:
    def __init__(
        self,
        settings: HubSettings,
        *,
        role: HubRole = HubRole.ALL,
        link: MqttLinkFactory = MqttConnection,
        clock: Clock = utc_now,
    ) -> None:
        """`link` makes the broker connection (tests pass an in-memory one); `clock` is the
        hub's "now", for ingest, the web app and the periodic jobs."""
        self.settings = settings
        self._link = link
        self.role = role
        self.topics = Topics(settings.mqtt.topic_prefix)
        self.engine = make_engine(settings.database_url)
        self.sessions = session_factory(self.engine)
        watch_pool(self.engine)
        self.ingestor = Ingestor(
            self.sessions,
            self.topics,
            IngestPolicy(
                max_payload_bytes=settings.ingest.max_payload_bytes,
                max_clock_ahead=timedelta(seconds=settings.ingest.max_clock_ahead_s),
                clock_skew_tolerance=timedelta(seconds=settings.ingest.clock_skew_tolerance_s),
                require_registration=settings.ingest.require_registration,
                min_press_interval=timedelta(seconds=settings.ingest.min_press_interval_s),
                max_event_age=timedelta(days=settings.ingest.max_event_age_days),
                dead_letter_quota=settings.dead_letters.quota,
            ),
            clock=clock,
        )
        self.worker = IngestWorker(
            self.ingestor,
            self._publish,
            max_batch=settings.ingest.batch_size,
            max_queue=settings.ingest.queue,
            max_payload_bytes=settings.ingest.max_payload_bytes,
            clock=clock,
        )
        self.lease = Lease(self.engine)  # one process of a deployment runs the periodic jobs
        self.configs = ConfigPublisher(
            self.sessions,
            self.topics,
            self._publish_retained,
            interval_s=settings.fleet.config_publish_s,
            may_run=self.lease.held,
        )
        self.web = (
            WebServer(
                create_app(settings, self.sessions, clock=clock),
                settings.web.host,
                settings.web.port,
                reuse_port=settings.web.reuse_port,
            )
            if role.serves_web
            else None
        )
        self.metrics = (
            configured_server(
                scrape_registry(DatabaseCollector(self.sessions, clock=clock)), settings.metrics
            )
            if settings.metrics.port is not None
            else None
        )
        self.desk = TaskDesk(
            self.sessions, settings, self._publish_alert, clock=clock, may_run=self.lease.held
        )
        self.alerts = AlertEngine(
            self.sessions,
            settings,
            self._publish_alert,
            clock=clock,
            may_run=self.lease.held,
            on_opened=self.desk.wake,
        )
        self.reports = (
            ReportScheduler(settings, self.sessions, clock=clock, may_run=self.lease.held)
            if settings.reports.schedule
            else None
        )
        self.retention = DeadLetterRetention(
            self.sessions, settings, clock=clock, may_run=self.lease.held
        )
        self.comment_retention = CommentRetention(
            self.sessions, settings, clock=clock, may_run=self.lease.held
        )
        self.observation_retention = ObservationRetention(
            self.sessions, settings, clock=clock, may_run=self.lease.held
        )
        self.homeassistant = (
            HomeAssistantPublisher(
                self.sessions,
                settings,
                self._publish_retained,
                clock=clock,
                may_run=self.lease.held,
            )
            if settings.homeassistant.enabled
            else None
        )
        self.embedded_broker: EmbeddedBroker | None = None
        self.connection: MqttLink | None = None
        self._stopped = threading.Event()

    def start(self) -> BrokerAddress | None:
        """Migrate, then start what the role asks; returns the broker's address if it ingests."""
        migrate(self.engine)
        address = self._start_ingest() if self.role.ingests else None
        if self.web is not None:
            self.web.start()
        if self.metrics is not None:
            self.metrics.start()
        return address

    def _start_ingest(self) -> BrokerAddress:
        address = self._init_broker()
        self.worker.start()
        self.connection = self._link(
            self._mqtt_options(address),
            on_message=self._on_message,
            on_connected=self._on_connected,
        )
        self.connection.start()
        self.configs.start()
        if self.homeassistant is not None:
            self.homeassistant.start()
        self.alerts.start()
        self.desk.start()
        self.retention.start()
        self.comment_retention.start()
        self.observation_retention.start()
        if self.reports is not None:
            self.reports.start()
        log.info(
            "hub ingesting from %s into %s",
            address.url,
            self.engine.url.render_as_string(hide_password=True),
        )
        return address

    def _init_broker(self) -> BrokerAddress:
        mqtt = self.settings.mqtt
        if mqtt.broker:
            return parse_broker_url(mqtt.broker)
        self.embedded_broker = EmbeddedBroker(mqtt.embedded_host, mqtt.embedded_port)
        return self.embedded_broker.start()

    def _mqtt_options(self, address: BrokerAddress) -> MqttOptions:
        mqtt = self.settings.mqtt
        share = f"$share/{mqtt.share_group}/" if mqtt.share_group else ""
        return MqttOptions(
            address=address,
            client_id=mqtt.client_id,
            username=mqtt.username,
            password=mqtt.password.get_secret_value() if mqtt.password else None,
            ca_file=mqtt.ca_file,
            # A lone hub keeps its session so the broker holds events while it restarts; a
            # worker of a shared group leaves them to the others (kiosks resend the rest).
            clean_session=mqtt.share_group is not None,
            max_in_flight=1000,
            subscriptions=(
                share + self.topics.every_device("events"),
                share + self.topics.every_device("status"),
                *(self.homeassistant.subscriptions if self.homeassistant else ()),
            ),
            will=self.homeassistant.will if self.homeassistant else None,
        )

    def _on_message(self, message: Message) -> None:
        if self.homeassistant is None or not self.homeassistant.heard(message):
            self.worker.submit(message)

    def _on_connected(self) -> None:
        self.configs.forget()
        if self.homeassistant is not None:
            self.homeassistant.forget()

    def _publish(self, message: Outbound) -> None:
        if self.connection is not None:
            self.connection.publish(message.topic, message.payload, qos=1)

    def _publish_retained(self, topic: str, payload: bytes) -> bool:
        connection = self.connection
        return connection is not None and connection.publish_and_wait(topic, payload, retain=True)

    def _publish_alert(self, topic: str, payload: bytes) -> bool:
        connection = self.connection
        return connection is not None and connection.publish_and_wait(topic, payload)

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connection is not None and self.connection.wait_connected(timeout_s)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.web is not None:
            self.web.stop()
        if self.role.ingests:
            self._stop_ingest()
        if self.metrics is not None:
            self.metrics.stop()
        self.lease.release()
        log.info("hub stopped: %s", self.ingestor.stats.as_dict())
        forget_pool(self.engine)
        self.engine.dispose()

    def _stop_ingest(self) -> None:
        self.alerts.stop()
        self.desk.stop()
        self.retention.stop()
        self.comment_retention.stop()
        self.observation_retention.stop()
        if self.reports is not None:
            self.reports.stop()
        self.configs.stop()
        if self.homeassistant is not None:
            self.homeassistant.stop()  # says "offline" while still connected
        self.worker.stop()  # drains what has arrived and acknowledges it while still connected
        if self.connection is not None:
            self.connection.stop()
        if self.embedded_broker is not None:
            self.embedded_broker.stop()
