"""SSRF guard: a crawl must not be steered into the operator's own network.

Why resolve and check every hop: a public page can link, or redirect, to
`http://169.254.169.254/` or `http://10.0.0.5/admin`; a crawler running inside a
cluster would happily fetch them. Only sites marked `local = true` (fixture sites
for tests and the demo) may reach loopback or private addresses.

Why "globally routable" rather than a list of private ranges: the ranges an attacker
can use keep growing (100.64.0.0/10 carrier-grade NAT, benchmark and documentation
nets, multicast) and IPv6 can carry any IPv4 address inside it (6to4 `2002:7f00:1::`,
NAT64 `64:ff9b::7f00:1`, Teredo, IPv4-mapped and -compatible forms). `is_public` asks
`ipaddress.is_global` and then checks every IPv4 address embedded in an IPv6 one.

The check is only half of it: the connection must go to the address that was
checked, or a DNS server answering "public" to the check and "127.0.0.1" to the
connect (rebinding) walks straight in. `resolve_allowed` is the one place that
resolves a name for a fetch; `crawler/transport.py` connects to its answer only.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: carries any IPv4 address
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a private translator
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_resolvers: tuple[int, ThreadPoolExecutor] | None = None
_resolvers_lock = threading.Lock()


def _resolver_pool() -> ThreadPoolExecutor:
    """Threads for name lookups, so a hanging resolver cannot hold a fetch past its deadline
    (getaddrinfo takes no timeout); a lookup given up on finishes in the background and its
    answer is dropped. One pool per process: a forked child gets its own, since the
    parent's threads do not survive the fork."""
    global _resolvers
    with _resolvers_lock:
        if _resolvers is None or _resolvers[0] != os.getpid():
            _resolvers = (os.getpid(), ThreadPoolExecutor(max_workers=16, thread_name_prefix="resolve"))
        return _resolvers[1]


class BlockedAddress(Exception):
    """The URL resolves to an address the site may not reach; `str()` says which."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo client, NAT64, compatible."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.append(ip.teredo[1])
    if ip in _NAT64_WELL_KNOWN or ip in _NAT64_LOCAL_USE or ip in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public(ip: IPAddress) -> bool:
    """Whether a crawl may connect to `ip`: globally routable, unicast, and no internal
    IPv4 address hidden inside an IPv6 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE or ip in _IPV4_COMPATIBLE:
            return False
        if not all(is_public(v4) for v4 in _embedded_ipv4(ip)):
            return False
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int, *, timeout: float | None = None) -> list[IPAddress]:
    """Addresses of `host` (a literal is its own answer); OSError when it cannot be resolved
    in `timeout` seconds."""
    literal = _literal(host)
    if literal is not None:
        return [literal]

    def lookup() -> list[IPAddress]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%", 1)[0]) for i in infos))

    try:
        return _resolver_pool().submit(lookup).result(timeout=timeout)
    except FutureTimeout:
        raise TimeoutError(f"resolving host {host!r} took longer than {timeout:.1f}s") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"cannot resolve host {host!r}: {exc}") from exc


def resolve_allowed(host: str, port: int, *, allow_private: bool, timeout: float | None = None) -> list[IPAddress]:
    """The addresses a fetch may connect to for `host`: all of them must be public unless
    the site is local. Raises BlockedAddress, or OSError when the name does not resolve."""
    addresses = resolve(host, port, timeout=timeout)
    if not allow_private:
        for ip in addresses:
            if not is_public(ip):
                raise BlockedAddress(
                    f"{host} resolves to {ip}, which is not a globally routable address (private, loopback, "
                    "link-local, shared, multicast or reserved); refused (mark the site local = true only "
                    "for test fixtures)")
    return addresses


def check_url(url: str, *, allow_private: bool, timeout: float | None = None) -> None:
    """Raise BlockedAddress when `url`'s host is (or resolves to) an address it may not reach."""
    if allow_private:
        return
    parts = urlsplit(url)
    resolve_allowed(parts.hostname or "", parts.port or 80, allow_private=False, timeout=timeout)
