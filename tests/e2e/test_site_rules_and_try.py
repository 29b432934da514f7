"""Site rules from the sites file, applied by a real crawl and counted in `status`;
`govingest try` on the fixture sites; a site's proxy (the SSRF guard checks the target)."""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.fetch import fetch
from govingest.workers.cli import main
from govingest.workers.fixture_site.server import DIALECT_SITES, FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import write_sites_toml

RULES = {
    "govcn": {"deny_patterns": ["content_3400010"], "headers": {"Referer": "http://www.gov.cn/zhengce/"},
              "boilerplate_patterns": ["^本期共统计"], "body_selectors": ["div.pages_content"]},
    "gbk": {"encoding": "gb18030"},
}


@pytest.fixture(scope="module")
def fixture() -> Iterator[FixtureSite]:
    with FixtureSite(sites=["govcn", "gbk", *DIALECT_SITES], crawl_delay=0.05) as fx:
        yield fx


def test_site_rules_apply_and_status_counts_them(fixture: FixtureSite, migrated_database_url: str,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.toml"
    write_sites_toml(sites, fixture, sites=["govcn", "gbk"], rate=20.0, overrides=RULES)
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    start = len(read_access_log(fixture.access_log))
    assert main(["crawl", "--sites", str(sites), "--linger", "1"]) == 0
    log = read_access_log(fixture.access_log)[start:]
    govcn = fixture.site("govcn")
    denied = [u for u in govcn.article_urls if "content_3400010" in u]
    assert denied and not [r for r in log if r["site"] == "govcn" and "content_3400010" in r["path"]]
    assert all(r.get("headers", {}).get("Referer") == "http://www.gov.cn/zhengce/" for r in log if r["site"] == "govcn")
    assert not any("Referer" in r.get("headers", {}) for r in log if r["site"] == "gbk")
    with psycopg.connect(migrated_database_url) as conn:
        texts = [t for (t,) in conn.execute("SELECT text FROM documents WHERE site = 'govcn'").fetchall()]
        methods = {m for (m,) in conn.execute("SELECT extract_method FROM documents WHERE site = 'govcn'")}
        hits = dict(conn.execute("SELECT rule, hits FROM site_rule_hits WHERE site = 'govcn'").fetchall())
        gbk_hits = dict(conn.execute("SELECT rule, hits FROM site_rule_hits WHERE site = 'gbk'").fetchall())
    assert texts and not any(line.startswith("本期共统计") for t in texts for line in t.splitlines())
    assert "selector:div.pages_content" in methods
    assert hits["deny:content_3400010"] >= 1 and hits["header:Referer"] >= 10
    assert hits["boilerplate_pattern:^本期共统计"] >= 8 and hits["body_selector:div.pages_content"] >= 8
    assert gbk_hits["encoding:gb18030"] >= 5
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "site rules matched" in out and "deny:content_3400010" in out and "encoding:gb18030" in out
    assert re.search(r"govcn: .*govcn=\d+", out), out  # articles by the dialect that found them


def test_try_shows_dialect_links_extraction_and_rules(fixture: FixtureSite, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.toml"
    write_sites_toml(sites, fixture, rate=20.0, overrides=RULES)
    for info in fixture.sites:
        if info.dialect is None or info.name == "feeds":
            continue
        capsys.readouterr()
        assert main(["try", info.start_urls[0], "--sites", str(sites), "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["dialect"] == info.dialect, info.name
        assert report["next_page"] or report["links"]["article"], info.name
    govcn = fixture.site("govcn")
    start = len(read_access_log(fixture.access_log))
    assert main(["try", govcn.article_urls[0], "--sites", str(sites)]) == 1  # a denied URL is not fetched
    assert "deny pattern" in capsys.readouterr().err
    assert main(["try", govcn.article_urls[1], "--sites", str(sites)]) == 0
    out = capsys.readouterr().out
    assert "selector:div.pages_content" in out and "header:Referer" in out and "boilerplate_pattern" in out
    assert "title=" in out and "published_at=" in out
    asked = [r["path"] for r in read_access_log(fixture.access_log)[start:]]
    assert asked[0] == "/robots.txt" and len(asked) == 2
    assert main(["try", govcn.fault_urls["script_filled"], "--sites", str(sites)]) == 0
    assert "script_filled" in capsys.readouterr().out
    assert main(["try", govcn.disallowed_urls[0], "--sites", str(sites)]) == 1
    assert "disallows" in capsys.readouterr().err
    assert not any(r["path"].startswith("/admin/") for r in read_access_log(fixture.access_log))


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers for every target (the government site "abroad")."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[str]] = []

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        _Proxy.seen.append(self.path)  # absolute-form: the target URL
        body = "<html><body><p>经代理取得的页面</p></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_proxy_may_be_private_the_target_may_not() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        with make_client(read=5) as client:
            ok = fetch(client, "http://www.example.gov.cn/zwgk/t20240101_1.html", user_agent="t", proxy=proxy)
            assert ok.ok and "代理".encode() in ok.body
            assert _Proxy.seen == ["http://www.example.gov.cn/zwgk/t20240101_1.html"]
            blocked = fetch(client, "http://10.0.0.1/admin/", user_agent="t", proxy=proxy)
            assert blocked.error_kind == "blocked_address" and "10.0.0.1" in (blocked.message or "")
            assert len(_Proxy.seen) == 1  # never sent, not even to the proxy
    finally:
        srv.shutdown()
        srv.server_close()
