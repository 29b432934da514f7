"""The fleet's Redis transport (`workers/fleet/broker.py`) against a real Redis: the same
messages and acknowledgements as kombu's own, with one client per channel."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Consumer, Producer, Queue

from govingest.workers.fleet import broker

MESSAGES = 40


@pytest.fixture
def channel(redis_url: str) -> Iterator[tuple[Connection, Any, list[int]]]:
    """A channel of the fleet's transport, counting the Redis clients it builds."""
    broker.register()
    with Connection(redis_url) as conn:
        ch = conn.channel()
        built: list[int] = []
        build = ch._create_client

        def counting(*args: Any, **kwargs: Any) -> Any:
            built.append(1)
            return build(*args, **kwargs)

        ch._create_client = counting
        yield conn, ch, built
        ch.close()


def _round_trip(conn: Connection, ch: Any, queue: Queue) -> tuple[list[int], list[str]]:
    producer = Producer(ch)
    for i in range(MESSAGES):
        producer.publish({"i": i}, routing_key=queue.name, declare=[queue], serializer="json")
    received: list[int] = []
    tags: list[str] = []

    def on_message(body: dict[str, int], message: Any) -> None:
        received.append(body["i"])
        tags.append(message.delivery_tag)
        message.ack()

    with Consumer(ch, [queue], callbacks=[on_message], accept=["json"]):
        while len(received) < MESSAGES:
            conn.drain_events(timeout=5)
    return received, tags


def test_every_scheme_the_settings_accept_resolves_to_the_fleet_transport(redis_url: str) -> None:
    broker.register()
    for url in (redis_url, "redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "redis+socket:///tmp/none.sock"):
        assert issubclass(Connection(url).get_transport_cls(), broker.Transport), url


def test_publishes_and_acks_share_one_client_and_lose_nothing(channel: tuple[Connection, Any, list[int]]) -> None:
    conn, ch, built = channel
    queue = Queue(f"govingest-test-{uuid.uuid4().hex[:8]}", auto_delete=True)
    received, tags = _round_trip(conn, ch, queue)
    assert sorted(received) == list(range(MESSAGES))
    # kombu's own channel builds one client per publish, per delivery and per ack (120 here)
    assert len(built) <= 2, f"{len(built)} clients built for {MESSAGES} messages"
    client = ch._command_client()
    assert not any(client.hexists(ch.unacked_key, tag) for tag in tags), "an acknowledged message is still unacked"
    assert client.llen(queue.name) == 0


def test_the_shared_client_follows_the_pool_after_a_fork(channel: tuple[Connection, Any, list[int]]) -> None:
    conn, ch, _ = channel
    before = ch._command_client()
    ch._disconnect_pools()  # what kombu does in a forked child and on close
    after = ch._command_client()
    assert after is not before
    assert after.connection_pool is ch.pool
    queue = Queue(f"govingest-test-{uuid.uuid4().hex[:8]}", auto_delete=True)
    received, _ = _round_trip(conn, ch, queue)
    assert sorted(received) == list(range(MESSAGES))
