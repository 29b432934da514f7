"""Kombu's Redis transport, with one command client per channel instead of one per call.

Why: kombu 5.7's Redis channel builds a new `redis.Redis` for every `conn_or_acquire`,
which each publish, each received message (`QoS.append`) and each acknowledgement
(`QoS.ack`) go through. With redis-py 6+ a `Redis()` costs about 65 µs of CPU (it
copies some 200 response callbacks and runs two deprecation-argument checks), and it
was the largest single item py-spy found in the fetch worker's GIL-holding samples
(`Channel._create_client`, 9–12 %). The clients it threw away shared the channel's
connection pool anyway, so reusing one changes no connection and no command: a
`redis.Redis` is safe to share between threads (each command checks a connection out
of the pool; pipelines are separate objects).

The shared client follows the channel's pool: kombu drops and rebuilds the pool after a
fork and on close (`_disconnect_pools`), and a client bound to a dropped pool is
replaced on the next call.

Registered under kombu's `redis`, `rediss` and `redis+socket` schemes by `register()`,
which the fleet's app module calls at import, so every URL form the settings accept
(`Url(("redis", "rediss", "redis+socket"))`) gets it and logs keep the user's scheme.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

SCHEMES = ("redis", "rediss")  # `redis+socket://` resolves through the `redis` alias
# Kombu's acknowledgement emulation off: no "unacked" copy of each delivered message in
# Redis (two round trips per message); why the fleet does not need it: `workers/fleet/app.py`.
TRANSPORT_OPTIONS: dict[str, Any] = {"ack_emulation": False}


class Channel(kombu_redis.Channel):
    """A Redis channel whose synchronous commands share one client."""

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        yield self._command_client()

    def _command_client(self) -> Any:
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._shared_client = self._create_client()
        return shared


class Transport(kombu_redis.Transport):
    Channel = Channel


def register() -> None:
    """Point kombu's Redis schemes at this transport (idempotent)."""
    for scheme in SCHEMES:
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
