"""The socket layer under httpx: connect only to checked addresses, never past the deadline.

Two holes closed here, both below anything httpx lets a caller configure:

* **DNS rebinding.** The SSRF guard resolves a name and checks the answer; httpx would
  then resolve it again to connect, and a hostile DNS server answers "public" to the
  first question and "127.0.0.1" to the second. `PinnedBackend` is httpcore's network
  backend for the crawler's clients: it connects to the addresses the fetch pinned
  (`FetchScope.pins`, filled by `crawler.ssrf.resolve_allowed`), and a name nobody
  pinned is resolved and checked here, once, before the connect.
* **A total deadline that holds in every phase.** httpx's timeouts apply per socket
  operation, so a server sending its headers one byte at a time resets the read
  timeout with every byte and keeps a fetch alive for minutes. Every socket operation
  of a fetch goes through `DeadlineStream`, which clamps its timeout to what is left
  of the fetch's total; at the deadline the operation times out and httpcore closes
  the connection, whatever phase (connect, TLS, headers, body) it was in. Celery's
  thread pool ignores `time_limit`, so the fetch must enforce this itself.

The scope is a context variable set by `crawler.fetch.fetch` around its requests: in
the sync client every socket operation of a request runs in the calling thread, so a
pooled connection reused by another fetch obeys that fetch's deadline.
"""
from __future__ import annotations

import ssl
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpcore
import httpx

from govingest.crawler.ssrf import IPAddress, resolve_allowed


@dataclass
class FetchScope:
    """What one fetch allows at the socket level: until when, and which addresses."""

    deadline: float | None = None  # time.monotonic() value; None = no total limit
    allow_private: bool = False
    pins: dict[str, list[IPAddress]] = field(default_factory=dict)  # host -> checked addresses

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def clamp(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """`timeout` cut to the time left; raises `expired` once the deadline has passed."""
        left = self.left()
        if left is None:
            return timeout
        if left <= 0:
            raise expired("the fetch's total time limit was reached")
        return left if timeout is None else min(timeout, left)


_SCOPE: ContextVar[FetchScope | None] = ContextVar("govingest_fetch_scope", default=None)
_STRICT = FetchScope()  # a request outside any fetch: no deadline, public addresses only


@contextmanager
def fetch_scope(deadline: float | None, *, allow_private: bool) -> Iterator[FetchScope]:
    scope = FetchScope(deadline=deadline, allow_private=allow_private)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> FetchScope:
    return _SCOPE.get() or _STRICT


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, current_scope().clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, current_scope().clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        stream = self._inner.start_tls(ssl_context, server_hostname,
                                       current_scope().clamp(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(stream)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting to checked addresses only (see the module doc)."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        scope = current_scope()
        addresses = scope.pins.get(host)
        if addresses is None:
            try:
                addresses = resolve_allowed(host, port, allow_private=scope.allow_private,
                                            timeout=scope.clamp(timeout, httpcore.ConnectTimeout))
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(str(exc)) from exc
            except OSError as exc:  # BlockedAddress is no OSError: it reaches the caller as itself
                raise httpcore.ConnectError(str(exc)) from exc
        failure: Exception = httpcore.ConnectError(f"no address to connect to for {host}")
        for ip in addresses:  # in the resolver's order, each given what is left of the time
            try:
                stream = self._inner.connect_tcp(str(ip), port, scope.clamp(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return DeadlineStream(stream)
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the crawler does not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def pinned_transport(*, max_connections: int, keepalive_expiry: float = 5.0) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through PinnedBackend.

    httpx takes no network backend, so the transport's connection pool is replaced by
    one built with ours (tests/hostile/test_rebinding.py fails if an httpx upgrade
    stops this from taking effect).
    """
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=max_connections, max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_expiry, network_backend=PinnedBackend())
    return transport
