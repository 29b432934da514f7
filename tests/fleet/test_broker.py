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


def _publish(ch: Any, queue: Queue, n: int) -> None:
    producer = Producer(ch)
    for i in range(n):
        producer.publish({"i": i}, routing_key=queue.name, declare=[queue], serializer="json")


def _round_trip(conn: Connection, ch: Any, queue: Queue) -> tuple[list[int], list[str]]:
    _publish(ch, queue, MESSAGES)
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


@pytest.fixture
def fleet_channel(redis_url: str) -> Iterator[tuple[Connection, Any]]:
    """A channel configured as the fleet's workers have it (`broker.TRANSPORT_OPTIONS`)."""
    broker.register()
    with Connection(redis_url, transport_options=broker.TRANSPORT_OPTIONS) as conn:
        ch = conn.channel()
        yield conn, ch
        ch.close()


def _hold(conn: Connection, ch: Any, queue: Queue, n: int, prefetch: int) -> list[Any]:
    """Receive `n` messages of `queue` without acknowledging them."""
    held: list[Any] = []
    with Consumer(ch, [queue], callbacks=[lambda _body, m: held.append(m)], accept=["json"],
                  prefetch_count=prefetch):
        while len(held) < n:
            conn.drain_events(timeout=5)
    return held


def test_fleet_options_keep_held_messages_out_of_redis(fleet_channel: tuple[Connection, Any]) -> None:
    conn, ch = fleet_channel
    queue = Queue(f"govingest-test-{uuid.uuid4().hex[:8]}", auto_delete=True)
    _publish(ch, queue, 3)
    held = _hold(conn, ch, queue, 3, prefetch=3)
    client = ch._command_client()
    assert client.hlen(ch.unacked_key) == 0 and client.zcard(ch.unacked_index_key) == 0
    assert len(ch.qos._delivered) == 3, "held messages are not counted: prefetch limits would not hold"
    assert not ch.qos.can_consume(), "a channel holding its prefetch count must not take more"
    for m in held:
        m.ack()
    assert ch.qos.can_consume()
    assert client.llen(queue.name) == 0


def test_fleet_options_put_a_rejected_message_back(fleet_channel: tuple[Connection, Any]) -> None:
    """What `task_reject_on_worker_lost` does when a process child dies mid-task."""
    conn, ch = fleet_channel
    queue = Queue(f"govingest-test-{uuid.uuid4().hex[:8]}", auto_delete=True)
    _publish(ch, queue, 1)
    [first] = _hold(conn, ch, queue, 1, prefetch=1)
    first.reject(requeue=True)
    [again] = _hold(conn, ch, queue, 1, prefetch=1)
    assert again.decode() == {"i": 0}
    again.ack()
    assert ch._command_client().llen(queue.name) == 0


def test_fleet_options_give_back_what_a_closing_channel_held(redis_url: str) -> None:
    """A worker stopping with prefetched messages puts them back on the queue."""
    broker.register()
    queue = Queue(f"govingest-test-{uuid.uuid4().hex[:8]}")
    with Connection(redis_url, transport_options=broker.TRANSPORT_OPTIONS) as conn:
        ch = conn.channel()
        _publish(ch, queue, 3)
        _hold(conn, ch, queue, 2, prefetch=2)
        ch.close()
    with Connection(redis_url, transport_options=broker.TRANSPORT_OPTIONS) as conn:
        ch = conn.channel()
        got = sorted(m.decode()["i"] for m in _hold(conn, ch, queue, 3, prefetch=3))
        assert got == [0, 1, 2]
        queue(ch).delete()
        ch.close()
