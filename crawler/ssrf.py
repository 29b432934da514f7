"""SSRF guard: a crawl must not be steered into the operator's own network.

Why resolve and check every hop: a public page can link, or redirect, to
`http://169.254.169.254/` or `http://10.0.0.5/admin`; a crawler running inside a
cluster would happily fetch them. Only sites marked `local = true` (fixture sites
for tests and the demo) may reach loopback or private addresses.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class BlockedAddress(Exception):
    """The URL resolves to an address the site may not reach; `str()` says which."""


def _is_internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise BlockedAddress when `url`'s host is (or resolves to) an internal address."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise OSError(f"cannot resolve host {host!r}: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for ip in addresses:
        if _is_internal(ip):
            raise BlockedAddress(
                f"{host} resolves to {ip}, a private/loopback/link-local address; refused "
                "(mark the site local = true only for test fixtures)")
