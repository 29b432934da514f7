"""DNS rebinding and addresses that are not globally routable (issue 13, "The network boundary").

The rebinding resolver is simulated in-process: `socket.getaddrinfo` answers a public
address the first time and 127.0.0.1 after, and `socket.create_connection` refuses any
non-loopback address, so no packet leaves loopback whatever the code under test does.
Before: the SSRF guard resolved the name, then httpx resolved it again and connected to
127.0.0.1 — the loopback "admin page" was reached.
"""
from __future__ import annotations

import ipaddress
import socket

import pytest

from govingest.crawler.client import make_client
from govingest.crawler.fetch import fetch
from govingest.crawler.ssrf import BlockedAddress, check_url, is_public
from tests.hostile.servers import raw_server

PUBLIC = "93.184.215.14"
ADMIN = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<p>admin console</p>"


class Rebinding:
    """A resolver whose first answer for `name` is public and every later one 127.0.0.1."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> None:
        self.name, self.answers, self.asked, self.connects = name, answers, 0, []
        self.real_gai, self.real_connect = socket.getaddrinfo, socket.create_connection
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)

    def getaddrinfo(self, host, port, *a, **kw):
        if host != self.name:
            return self.real_gai(host, port, *a, **kw)
        ip = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 80))]

    def create_connection(self, address, *a, **kw):
        host = address[0]
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:  # a name: resolve it the way the kernel would be asked to
            literal = ipaddress.ip_address(self.getaddrinfo(host, address[1])[0][4][0])
        self.connects.append(str(literal))
        if not literal.is_loopback:  # keep every packet on loopback
            raise ConnectionRefusedError(f"test: no traffic to {literal} leaves loopback")
        return self.real_connect((str(literal), address[1]), *a, **kw)


def test_rebinding_resolver_cannot_reach_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(lambda conn, head: conn.sendall(ADMIN)) as admin:
        dns = Rebinding(monkeypatch, "rebind.example.cn", [PUBLIC, "127.0.0.1"])
        client = make_client(read=2)
        r = fetch(client, f"http://rebind.example.cn:{admin.port}/admin", user_agent="t", total_timeout=5)
        client.close()
    assert admin.requests == [], "the loopback admin page was reached through a rebinding name"
    assert b"admin" not in r.body
    assert dns.connects == [PUBLIC], dns.connects  # connected to the address that was checked, only
    assert r.error_kind == "connect_error", (r.error_kind, r.message)


def test_name_resolving_to_loopback_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(lambda conn, head: conn.sendall(ADMIN)) as admin:
        dns = Rebinding(monkeypatch, "inside.example.cn", ["127.0.0.1"])
        client = make_client(read=2)
        r = fetch(client, f"http://inside.example.cn:{admin.port}/admin", user_agent="t", total_timeout=5)
        client.close()
    assert admin.requests == [] and dns.connects == []
    assert r.error_kind == "blocked_address" and "127.0.0.1" in (r.message or "")


def test_local_sites_still_reach_loopback() -> None:
    with raw_server(lambda conn, head: conn.sendall(ADMIN)) as srv:
        client = make_client(read=2)
        r = fetch(client, srv.base + "/page.html", user_agent="t", allow_private=True, total_timeout=5)
        refused = fetch(client, srv.base + "/page.html", user_agent="t", allow_private=False, total_timeout=5)
        client.close()
    assert r.ok and r.body == b"<p>admin console</p>"
    assert refused.error_kind == "blocked_address" and len(srv.requests) == 1


@pytest.mark.parametrize("address", [
    "100.64.0.1",            # shared address space (carrier-grade NAT), RFC 6598
    "2002:7f00:1::1",        # 6to4 of 127.0.0.1
    "2002:a00:1::1",         # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1",       # NAT64 (well-known prefix) of 127.0.0.1
    "64:ff9b::a9fe:a9fe",    # NAT64 of 169.254.169.254, the cloud metadata service
    "64:ff9b:1::808:808",    # local-use NAT64 prefix, RFC 8215
    "::127.0.0.1",           # IPv4-compatible IPv6
    "::ffff:10.0.0.1",       # IPv4-mapped IPv6
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "224.0.0.1", "239.255.255.250", "ff02::1",  # multicast
    "192.0.2.1", "198.18.0.1", "0.0.0.0", "255.255.255.255", "fc00::1", "fe80::1",
])
def test_not_globally_routable_addresses_are_blocked(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedAddress):
        check_url(f"http://{host}/", allow_private=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2002:808:808::1", "64:ff9b::808:808", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
