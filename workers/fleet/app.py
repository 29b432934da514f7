"""The Celery app of the worker fleet: `celery -A govingest.workers.fleet.app worker -Q fetch|process`.

Why this configuration (each line answers a failure the fleet must survive):

* Two queues routed separately: `fetch` is I/O bound (a thread pool with many slots),
  `process` is CPU bound and runs in prefork children (trafilatura is not safe in
  threads). Each scales on its own.
* Messages carry ids (URL id + lease token, page id), never bodies: Redis is transport,
  PostgreSQL holds everything durable, so losing Redis loses no data.
* `acks_late` + `task_reject_on_worker_lost` + prefetch 1: a message is acknowledged
  only when its task ends, and a worker killed mid-task gives it back; at most one
  message waits in a worker's hands.
* Soft and hard time limits; `worker_max_memory_per_child` replaces a child whose
  caches grew (trafilatura's do in long-lived processes).
* No acknowledgement emulation in Redis (`ack_emulation` off): kombu's default writes
  every delivered message to an "unacked" hash (a round trip on delivery, another on
  ack) so Redis can re-send it after a visibility timeout. Recovery is PostgreSQL's job
  here: a fetch whose worker vanished is redone when its lease expires (the reaper), a
  process message when its stamped page goes stale (the dispatcher's sweep), well
  before any Redis timeout, and the drills kill workers and Redis to prove it. Kombu
  then keeps the copies in the worker's memory: prefetch counts them, a rejected
  message (`task_reject_on_worker_lost`) and whatever a stopping worker still holds are
  put back on the queue, and Redis never hands a running task's message to a second
  worker.
* JSON only: no pickle from the network.
* Kombu's Redis transport with one command client per channel (`broker`): kombu builds
  a new client for every publish and acknowledgement otherwise.
"""
from __future__ import annotations

import contextvars
import logging
import os
import resource
import signal
import threading
import time
from typing import Any

from celery import Celery, signals
from kombu import Queue

from govingest.workers.fleet import broker
from govingest.workers.settings import Settings, settings_or_exit

FETCH_QUEUE = "fetch"
PROCESS_QUEUE = "process"
FETCH_TASK = "govingest.fetch"
PROCESS_TASK = "govingest.process"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"

settings = settings_or_exit("govingest worker")
broker.register()  # before any connection: kombu resolves the transport per URL scheme

# Task context for log lines: every record logged while a task runs carries its ids.
task_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("task_context")


def celery_config(s: Settings) -> dict[str, Any]:
    """The Celery settings derived from govingest's; a function so tests can inspect it."""
    return {
        "broker_url": s.redis_url or DEFAULT_BROKER,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # Redis restarts: keep reconnecting
        "broker_transport_options": dict(broker.TRANSPORT_OPTIONS),
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,  # results live in PostgreSQL
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,  # a timed-out task is settled in PostgreSQL, not redelivered
        "worker_prefetch_multiplier": 1,
        "task_queues": [Queue(FETCH_QUEUE), Queue(PROCESS_QUEUE)],
        "task_default_queue": FETCH_QUEUE,
        "task_routes": {FETCH_TASK: {"queue": FETCH_QUEUE}, PROCESS_TASK: {"queue": PROCESS_QUEUE}},
        "worker_max_memory_per_child": s.worker_max_memory_mb * 1024,  # KiB
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "worker_disable_rate_limits": True,  # govingest never sets a Celery rate limit: skip its bookkeeping
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_store_errors_even_if_ignored": False,
    }


def make_app(s: Settings, *, broker_url: str | None = None, include_tasks: bool = True) -> Celery:
    """A Celery app for these settings; `broker_url` overrides REDIS_URL (fleet runs, drills).

    Workers use the module-level `app`; a parent that only sends messages to a broker it
    started (`run_fleet`) makes its own with `include_tasks=False`.
    """
    a = Celery("govingest", include=["govingest.workers.fleet.tasks"] if include_tasks else [])
    a.conf.update(celery_config(s))
    if broker_url:
        a.conf.broker_url = broker_url
    return a


def send_fetch(a: Celery, url_id: int, lease: str) -> None:
    """Enqueue `fetch(url_id, lease)`; the send time rides along to measure queue lag."""
    a.send_task(FETCH_TASK, args=[url_id, lease, time.time()], queue=FETCH_QUEUE)


def send_process(a: Celery, page_id: int) -> None:
    a.send_task(PROCESS_TASK, args=[page_id, time.time()], queue=PROCESS_QUEUE)


def send_process_batch(a: Celery, page_ids: list[int]) -> None:
    """One `process` message for several pages; its time limits grow with the batch (each
    page keeps its own parse deadline inside, `parsers.timeout`)."""
    if len(page_ids) == 1:
        send_process(a, page_ids[0])
        return
    n = len(page_ids)
    a.send_task(PROCESS_TASK, args=[page_ids[0], time.time()], kwargs={"batch": page_ids[1:]},
                queue=PROCESS_QUEUE, time_limit=settings.process_time_limit * n,
                soft_time_limit=max(1.0, settings.process_time_limit * 0.8) * n)


app = make_app(settings)


class _TaskContextFilter(logging.Filter):
    """Adds the running task's ids (task_id, url_id, page_id) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in task_context.get({}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    """Workers log JSON lines like every govingest process (Celery's own format is off)."""
    from govingest.workers.observe.log import setup_logging

    setup_logging(settings.log_level, settings.log_json)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_TaskContextFilter())


@signals.worker_init.connect
def _warm_parser(**_: Any) -> None:
    """Parse one small page in the worker's main process before the pool forks: the stages
    compile their rules on first use, and children then inherit them instead of paying it
    on their first real page."""
    try:
        from govingest.parsers.pipeline import parse

        parse("<html><body><div id=\"zoom\"><p>一、总体情况</p><p>全年检查企业29136家。</p></div></body></html>"
              .encode(), url="http://warm-up.invalid/")
    except Exception:  # warming is an optimisation; a parser error surfaces on real pages
        pass


def queue_depths(redis_url: str, queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue (Celery's Redis transport keeps a queue as a list)."""
    import redis

    url = redis_url.replace("redis+socket://", "unix://", 1)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return {q: int(client.llen(q)) for q in queues}
    finally:
        client.close()


_last_received = [time.monotonic()]


@signals.task_received.connect
def _on_task_received(**_: Any) -> None:
    _last_received[0] = time.monotonic()


def stall_seconds(s: Settings) -> float:
    return s.worker_stall_seconds or float(max(s.fetch_time_limit, s.process_time_limit) + 30)


def _watch_for_stall(queues: list[str], limit: float) -> None:
    """Exit the worker when its consumer has stopped: messages wait, none arrive.

    Why: after a Redis restart Celery's consumer sometimes reconnects but never consumes
    again (celery/celery#8030, #8091, #10205). A running task never looks like a stall:
    `limit` is longer than any task may run. Exiting lets the supervisor (Kubernetes,
    `run_fleet`) start a fresh worker; PostgreSQL still holds every lease and page.
    """
    log = logging.getLogger("govingest.workers.fleet.app")
    while True:
        time.sleep(max(1.0, min(5.0, limit / 4)))
        try:
            depth = sum(queue_depths(app.conf.broker_url, queues).values())
        except Exception:  # broker down: nothing to judge until it is back
            continue
        idle = time.monotonic() - _last_received[0]
        if depth > 0 and idle > limit:
            log.error("worker consumer stalled: messages are waiting but none arrived for %.0f s; exiting "
                      "so the supervisor starts a fresh worker", idle, extra={"queues": queues, "waiting": depth})
            os.kill(os.getpid(), signal.SIGQUIT)  # cold shutdown: the pool goes too
            time.sleep(15)
            os._exit(3)


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **_: Any) -> None:
    from govingest.workers.observe.metrics import start_exporter

    start_exporter(settings.metrics_port)
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    if queues:
        _last_received[0] = time.monotonic()
        threading.Thread(target=_watch_for_stall, args=(queues, stall_seconds(settings)),
                         name="stall-watchdog", daemon=True).start()


@signals.worker_process_init.connect
def _limit_child_memory(**_: Any) -> None:
    """Cap a prefork child's address space: a page that blows memory raises MemoryError
    in its own task instead of pushing the machine into the OOM killer."""
    limit = settings.worker_memory_limit_mb
    if limit > 0:
        nbytes = limit * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            nbytes = min(nbytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, hard))


@signals.worker_process_shutdown.connect
def _child_gone(pid: int | None = None, **_: Any) -> None:
    from govingest.workers.observe.metrics import child_exited

    child_exited(pid or os.getpid())
