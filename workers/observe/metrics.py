"""Prometheus metrics of the worker fleet, and the exporter each worker node starts.

Why multiprocess mode: process workers are prefork children (trafilatura is not safe in
threads), and a counter incremented in a child is invisible to an exporter in the
parent. With `PROMETHEUS_MULTIPROC_DIR` set, every child writes its samples to files
there and the node's exporter serves their sum; `govingest --workers N` runs set it for
each node. Without it (a thread-pool fetch node) the exporter serves the process's own
registry, which is the whole node.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900)

FETCH_LATENCY = Histogram(
    "govingest_fetch_seconds", "Wall time of one fetch task (request, store, links, outcome).",
    buckets=_LATENCY_BUCKETS)
RESPONSES = Counter(
    "govingest_responses_total", "Fetch outcomes by HTTP status ('error' when no response).", ["status"])
PARSE_DURATION = Histogram(
    "govingest_parse_seconds", "Wall time of one process task (load page, parse, write document).",
    buckets=_LATENCY_BUCKETS)
QUEUE_LAG = Histogram(
    "govingest_queue_lag_seconds", "Time a task message waited in Redis before a worker started it.",
    ["queue"], buckets=_LAG_BUCKETS)
DOCUMENTS = Counter(
    "govingest_documents_total", "Process outcomes: created, updated, unchanged, failed.", ["kind"])
STALE_MESSAGES = Counter(
    "govingest_stale_messages_total", "Task messages dropped because their lease or page was already settled.",
    ["queue"])


def start_exporter(port: int) -> int | None:
    """Serve /metrics on `port` for this worker node; 0 disables. Returns the port served."""
    if not port:
        return None
    registry: CollectorRegistry | None = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    try:
        if registry is None:
            start_http_server(port)
        else:
            start_http_server(port, registry=registry)
    except OSError as exc:
        log.warning("metrics exporter not started: port %s is unavailable (%s); set GOVINGEST_METRICS_PORT "
                    "to a free port or 0", port, exc, extra={"port": port})
        return None
    log.info("metrics exporter listening", extra={"port": port})
    return port


def child_exited(pid: int) -> None:
    """Tell the multiprocess collector a prefork child is gone, so its live gauges are dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
