"""Canonical URLs, scope, link discovery (TRS pager), robots rules, backoff, SSRF guard."""
from __future__ import annotations

import random

import pytest

from govingest.crawler.config import parse_site
from govingest.crawler.links import discover_links
from govingest.crawler.listing import Page
from govingest.crawler.listing.trs import pager as trs_pager
from govingest.crawler.politeness import backoff_seconds, budget, slot_polls
from govingest.crawler.robots import RobotsRules, rules_from_response
from govingest.crawler.ssrf import BlockedAddress, check_url
from govingest.crawler.urls import canonicalize, classify, host_key, in_scope

SITE = parse_site({"name": "xm", "start_urls": ["http://www.xm.gov.cn/zwgk/index.html"],
                   "allowed_hosts": ["www.xm.gov.cn", "127.0.0.1:8000"],
                   "article_patterns": [r"/t\d{8}_\d+\.htm"], "list_patterns": [r"/index(_\d+)?\.html$"]}, "t")


@pytest.mark.parametrize("raw, base, want", [
    ("HTTP://WWW.XM.gov.cn:80/a/./b/../t1.html#top", None, "http://www.xm.gov.cn/a/t1.html"),
    ("../t20240105_1.htm", "http://www.xm.gov.cn/zwgk/tzgg/index.html", "http://www.xm.gov.cn/zwgk/t20240105_1.htm"),
    ("/a?b=2&a=1&utm_source=wx", "http://www.xm.gov.cn/", "http://www.xm.gov.cn/a?a=1&b=2"),
    ("https://www.xm.gov.cn:443", None, "https://www.xm.gov.cn/"),
    ("http://127.0.0.1:8000/x/index_1.html", None, "http://127.0.0.1:8000/x/index_1.html"),
])
def test_canonicalize(raw: str, base: str | None, want: str) -> None:
    assert canonicalize(raw, base) == want


@pytest.mark.parametrize("raw", ["javascript:void(0)", "mailto:a@b.cn", "#top", "ftp://x/y", "", "http://[::1"])
def test_canonicalize_rejects(raw: str) -> None:
    assert canonicalize(raw, "http://www.xm.gov.cn/") is None


def test_scope_and_kind() -> None:
    assert in_scope("http://www.xm.gov.cn/a.html", SITE)
    assert in_scope("http://127.0.0.1:8000/a.html", SITE)
    assert not in_scope("http://127.0.0.1:8001/a.html", SITE)  # another port is another host
    assert not in_scope("http://evil.example.com/www.xm.gov.cn", SITE)
    assert host_key("http://127.0.0.1:8000/a") == "127.0.0.1:8000" and host_key("https://a.cn:443/") == "a.cn"
    assert classify("http://www.xm.gov.cn/zwgk/t20240105_12.htm", SITE) == "article"
    assert classify("http://www.xm.gov.cn/zwgk/index_2.html", SITE) == "list"
    assert classify("http://www.xm.gov.cn/files/a.PDF", SITE) == "attachment"
    assert classify("http://www.xm.gov.cn/img/logo.png", SITE) is None
    assert classify("http://www.xm.gov.cn/about.html", SITE) is None


def test_trs_pager_and_links() -> None:
    html = """<html><head><base href="/zwgk/tzgg/"></head><body>
      <a href="./t20240105_1.htm">通知</a><a href="javascript:;">x</a>
      <a href="/files/a.pdf">附件</a>
      <script>createPageHTML(4, 0, "index", "html");</script></body></html>"""
    links = discover_links(html.encode(), "http://www.xm.gov.cn/zwgk/tzgg/index.html")
    assert "http://www.xm.gov.cn/zwgk/tzgg/t20240105_1.htm" in links
    assert "http://www.xm.gov.cn/files/a.pdf" in links
    pager = [u for u in links if "index" in u]  # every other page of the list; the next one first
    assert pager == [f"http://www.xm.gov.cn/zwgk/tzgg/index{s}.html" for s in ("_1", "_2", "_3")]
    page = Page("http://h/c/list_1.shtml", "<script>createPageHTML('2','1','list','shtml')</script>")
    assert trs_pager(page) == (2, 1, "list", "shtml")
    gbk = "<a href='t20240101_9.htm'>通知公告</a>".encode("gbk")
    assert discover_links(gbk, "http://h/c/", "text/html; charset=gbk") == ["http://h/c/t20240101_9.htm"]
    assert RobotsRules("Sitemap: http://h/sm.xml\nUser-agent: *\nDisallow:").sitemaps() == ["http://h/sm.xml"]
    assert discover_links(b"", "http://h/") == []


def test_robots_rules() -> None:
    rules = rules_from_response(200, b"User-agent: *\nDisallow: /admin/\nCrawl-delay: 2\n")
    assert not rules.allowed("http://h/admin/x.html", "govingest/0.1")
    assert rules.allowed("http://h/zwgk/index.html", "govingest/0.1")
    assert rules.crawl_delay("govingest/0.1") == 2.0
    assert rules_from_response(404, b"Disallow: /").allowed("http://h/x", "ua")  # no robots.txt: all allowed
    assert RobotsRules("").crawl_delay("ua") is None


def test_budget_and_backoff() -> None:
    assert budget(5.0, 3, None).interval == pytest.approx(0.2)
    slowed = budget(5.0, 3, 2.0)
    assert slowed.interval == 2.0 and slowed.rate == 0.5
    rng = random.Random(7)
    waits = [backoff_seconds(n, rng=rng) for n in range(1, 8)]
    for n, w in enumerate(waits, 1):
        ceiling = min(3600.0, 2.0 * 2 ** (n - 1))
        assert ceiling / 2 <= w <= ceiling
    assert len({round(backoff_seconds(3), 6) for _ in range(20)}) > 1  # jittered


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest",
                                 "http://[::1]:8080/", "http://192.168.0.1/", "http://localhost:9/"])
def test_ssrf_guard_refuses_internal(url: str) -> None:
    with pytest.raises(BlockedAddress, match="refused"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)  # local fixture sites may


def test_ssrf_guard_allows_public_literal() -> None:
    check_url("http://8.8.8.8/", allow_private=False)


def test_links_of_a_page_with_an_xml_encoding_prolog_are_found() -> None:
    """lxml refuses a str that declares its encoding; such XHTML pages still have links."""
    from govingest.crawler.links import discover_links

    body = ('<?xml version="1.0" encoding="utf-8"?>\n<html><body>'
            '<a href="/a/1.html">通知</a></body></html>').encode()
    assert discover_links(body, "http://x.gov.cn/list/") == ["http://x.gov.cn/a/1.html"]


@pytest.mark.parametrize("start", ["https://www.gov.cn:443/zhengce/index.htm", "http://www.gov.cn:80/zhengce/",
                                   "https://WWW.gov.cn/zhengce/"])
def test_a_start_url_with_its_default_port_is_in_its_own_sites_scope(start: str) -> None:
    """One host key: the site's allowed hosts, the URL's scope check and its frontier host
    all say `www.gov.cn` (three functions used to differ, and ':443' put a site's own start
    URL out of its scope)."""
    site = parse_site({"name": "gov", "start_urls": [start]}, "test")
    assert site.allowed_hosts == ("www.gov.cn",)
    assert in_scope(start, site)
    assert in_scope("https://www.gov.cn/zhengce/content/a.htm", site)
    canon = canonicalize(start)
    assert canon is not None and host_key(canon) == host_key(start) == "www.gov.cn"


def test_host_key_keeps_other_ports_and_brackets_ipv6() -> None:
    assert host_key("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert host_key("http://[::1]:8080/a") == "[::1]:8080"
    assert host_key("https://[::1]:443/a") == "[::1]"
    assert host_key("file:///tmp/a.html") == "localfile"
    site = parse_site({"name": "v6", "start_urls": ["http://[::1]:8080/"]}, "test")
    assert in_scope("http://[::1]:8080/a.htm", site)


def test_a_worker_waiting_on_a_busy_host_asks_less_and_less_often() -> None:
    """A 20 ms poll asked the database 50 times for each second a server takes to answer,
    per waiting worker; doubling pauses, capped at half the host's interval, ask ~8 times
    for a 1 s answer at rate 1 and never notice the answer later than half an interval."""
    from itertools import islice

    assert list(islice(slot_polls(1.0), 8)) == [0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5, 0.5]
    assert list(islice(slot_polls(0.1), 4)) == [0.02, 0.04, 0.05, 0.05]  # rate 10: half of 0.1 s
    assert set(islice(slot_polls(1 / 400), 5)) == {0.02}  # a fast host: as before

    def asks_while_out(seconds: float, interval: float) -> int:
        waited, n = 0.0, 0
        for pause in slot_polls(interval):
            if waited >= seconds:
                return n
            waited, n = waited + pause, n + 1
        return n

    assert asks_while_out(1.0, 1.0) <= 8 and asks_while_out(10.0, 1.0) <= 26  # 50 and 500 at 20 ms
