"""Prometheus metrics, the same names in every service and worker.

Every process keeps its own counters in the default registry; Prometheus
scrapes each one and its target labels (job, pod) tell them apart. A service
answers ``GET /metrics`` on its HTTP port; a worker has no HTTP port of its
own, so it serves them on ``OJIME_WORKER_METRICS_PORT`` when that is set.

Labels carry route templates, status codes, event types and reasons, never a
path as sent, an organization or a person: a label's values must stay few, and
metrics leave the system unsealed.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

import structlog
from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = structlog.get_logger(__name__)

METRICS_PATH = "/metrics"
# A path that matched no route is counted under this one label value, so that
# a scan of random URLs cannot grow the metrics without bound.
UNMATCHED_ROUTE = "unmatched"

HTTP_REQUESTS = Counter(
    "ojime_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ojime_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer.",
    ["method", "route"],
)
EVENTS_HANDLED = Counter(
    "ojime_events_handled", "Events consumed without error.", ["event_type"]
)
EVENTS_FAILED = Counter(
    "ojime_events_failed",
    "Attempts at consuming an event that failed; each is retried or dropped.",
    ["event_type"],
)
OUTBOX_LAG = Gauge(
    "ojime_outbox_lag_seconds",
    "Age of the oldest outbox row not yet published; 0 when none waits.",
)
QUEUE_DEPTH = Gauge(
    "ojime_queue_depth",
    "Jobs on this service's arq queue, those deferred for a retry included.",
)
SENDS_REFUSED = Counter(
    "ojime_sends_refused",
    "Messages the send path refused to send, by reason.",
    ["reason"],
)
PURGE_ROWS_REMAINING = Gauge(
    "ojime_purge_rows_remaining",
    "Rows the running purges still have to delete, all organizations together.",
)

router = APIRouter(include_in_schema=False)


@router.get(METRICS_PATH)
async def metrics() -> Response:
    """Every metric of this process, in Prometheus' text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def record_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    template = route or UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(method, template, str(status)).inc()
    HTTP_LATENCY.labels(method, template).observe(seconds)


class WorkerMetricsSettings(BaseSettings):
    """Where a worker serves its metrics; port 0, the default, serves none.

    Off by default because ``ojime run`` starts four workers on one machine,
    where one fixed port would clash; in a container each worker has the
    port to itself.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    port: int = Field(0, ge=0, le=65535, validation_alias="OJIME_WORKER_METRICS_PORT")
    host: str = Field("0.0.0.0", validation_alias="OJIME_WORKER_METRICS_HOST")


def serve_worker_metrics(settings: WorkerMetricsSettings) -> WSGIServer | None:
    """Start the worker's metrics listener in a thread, if a port is set."""
    if not settings.port:
        return None
    server, _ = start_http_server(settings.port, settings.host)
    log.info("metrics.listening", port=settings.port)
    return server
