"""Every metric the hub's code records as it works, named by Prometheus' rules: `seed_hub_`
first, base units (seconds), counters ending in `_total`, labels from small fixed sets.

With several worker processes (PROMETHEUS_MULTIPROC_DIR set before this is imported) each
process writes its own figures to a file there, and a scrape adds them up.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# A `_created` series beside every counter and histogram says nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

TOPIC_KINDS = ("events", "status")
"""The topics a kiosk publishes to; anything else is received as `other`."""
STORED_KINDS = ("press", "followup")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

MESSAGES_RECEIVED = Counter(
    "seed_hub_messages_received",
    "Messages ingest took from the broker, by the kind of topic they came on.",
    ["kind"],
)
MESSAGES_STORED = Counter(
    "seed_hub_messages_stored",
    "Presses and follow-ups stored for the first time.",
    ["kind"],
)
MESSAGES_DUPLICATED = Counter(
    "seed_hub_messages_duplicated",
    "Deliveries of presses and follow-ups already stored (a kiosk's resend, a redelivery).",
    ["kind"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "seed_hub_messages_dead_lettered",
    "Messages refused and dead-lettered, by reason (seed-hub dead-letters).",
    ["reason"],
)
INGEST_BATCH_SECONDS = Histogram(
    "seed_hub_ingest_batch_duration_seconds",
    "Time to check and store one batch of messages in one transaction.",
)
INGEST_QUEUE = Gauge(
    "seed_hub_ingest_queue_messages",
    "Messages received and waiting for ingest.",
    multiprocess_mode="livesum",
)
HTTP_REQUEST_SECONDS = Histogram(
    "seed_hub_http_request_duration_seconds",
    "Time to answer a request to the dashboard or its API, by route template.",
    ["route", "method", "status_class"],
)
DB_POOL_CHECKED_OUT = Gauge(
    "seed_hub_db_pool_checked_out_connections",
    "Database connections in use now (checked out of the pool).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "seed_hub_db_pool_size_connections",
    "Connections the database pool keeps open (it may open more for a while).",
    multiprocess_mode="livesum",
)

for _kind in (*TOPIC_KINDS, "other"):
    MESSAGES_RECEIVED.labels(_kind)
for _kind in STORED_KINDS:
    MESSAGES_STORED.labels(_kind)
    MESSAGES_DUPLICATED.labels(_kind)


def topic_kind(topic: str) -> str:
    """`events` or `status` for a device topic, `other` for anything else (bounded)."""
    kind = topic.rpartition("/")[2]
    return kind if kind in TOPIC_KINDS else "other"


def method_label(method: str) -> str:
    """The request's method, or `other` for one a client made up."""
    return method if method in HTTP_METHODS else "other"
