"""The crawler's HTTP client: connection pools behind the SSRF guard, cookie jars per site.

Why one pool per address policy: a pool reuses a connection by host name alone, so a
connection a `local = true` fixture site opened to a private address must never serve
a public site whose name happens to match; public and local sites get separate pools.
Both pools connect through `crawler.transport.PinnedBackend` (checked addresses only,
the fetch's deadline on every socket operation) and keep no cookies of their own: a
site that needs cookies gets its jar from `cookies` (see `crawler/cookies.py`).
"""
from __future__ import annotations

import threading

import httpx

from govingest.crawler.cookies import SiteCookies, no_cookies
from govingest.crawler.transport import pinned_transport


class CrawlClient:
    """What `crawler.fetch.fetch` sends with; one per worker process (thread-safe)."""

    def __init__(self, *, connect: float = 5.0, read: float = 15.0, max_connections: int = 100) -> None:
        self.timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=read)
        self.max_connections = max_connections
        self.cookies = SiteCookies()
        self._pools: dict[bool | str, httpx.Client] = {}
        self._lock = threading.Lock()

    def http(self, *, allow_private: bool, proxy: str | None = None) -> httpx.Client:
        """The pool for public sites, or for local (fixture) sites, or for a site's proxy.

        A proxy pool connects to the proxy only (which may sit on a private address: an
        egress proxy); the fetch checks every target URL against the SSRF guard first.
        """
        with self._lock:
            if proxy is not None:
                return self._proxied(proxy)
            client = self._pools.get(allow_private)
            if client is None:
                client = httpx.Client(
                    transport=pinned_transport(max_connections=self.max_connections),
                    timeout=self.timeout,
                    follow_redirects=False,  # every hop is checked by fetch (scope, SSRF)
                    cookies=no_cookies(),
                    trust_env=False,  # proxies from the environment would bypass the SSRF guard
                )
                self._pools[allow_private] = client
            return client

    def _proxied(self, proxy: str) -> httpx.Client:
        client = self._pools.get(proxy)
        if client is None:
            client = httpx.Client(proxy=proxy, timeout=self.timeout, follow_redirects=False, cookies=no_cookies(),
                                  trust_env=False,
                                  limits=httpx.Limits(max_connections=self.max_connections,
                                                      max_keepalive_connections=self.max_connections))
            self._pools[proxy] = client
        return client

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for client in pools:
            client.close()

    def __enter__(self) -> CrawlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client(*, connect: float = 5.0, read: float = 15.0, max_connections: int = 100) -> CrawlClient:
    """The shared client: timeouts everywhere, no automatic redirects, decoding or cookies."""
    return CrawlClient(connect=connect, read=read, max_connections=max_connections)
