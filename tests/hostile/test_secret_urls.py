"""URLs with secrets in them are neither crawled nor shown verbatim (issue 13).

Before: `;jsessionid=…?token=…` URLs were stored and shown in `v_urls` as found.
"""
from __future__ import annotations

import psycopg
import pytest

from govingest.crawler.urls import canonicalize


@pytest.mark.parametrize("raw, want", [
    ("http://www.a.gov.cn/art/t1.html;jsessionid=0A1B2C3D4E5F", "http://www.a.gov.cn/art/t1.html"),
    ("http://www.a.gov.cn/art/t1.html;JSESSIONID=0A1B?token=s3cr3t&id=7", "http://www.a.gov.cn/art/t1.html?id=7"),
    ("http://www.a.gov.cn/list.php?PHPSESSID=abc&page=2", "http://www.a.gov.cn/list.php?page=2"),
    ("http://www.a.gov.cn/list.jsp?sid=99&channel=5", "http://www.a.gov.cn/list.jsp?channel=5"),
    ("http://www.a.gov.cn/d.do?access_token=x&auth_token=y&api_key=z&id=3", "http://www.a.gov.cn/d.do?id=3"),
    ("http://www.a.gov.cn/d.aspx?ASPSESSIONIDQQ=1&sessionid=2&session_id=3&id=3", "http://www.a.gov.cn/d.aspx?id=3"),
    ("http://www.a.gov.cn/d.cfm?CFID=1&CFTOKEN=2&ticket=ST-1&password=p&id=3", "http://www.a.gov.cn/d.cfm?id=3"),
    ("http://www.a.gov.cn/t.html;jsessionid=1?token=2", "http://www.a.gov.cn/t.html"),
])
def test_session_and_secret_parameters_are_dropped(raw: str, want: str) -> None:
    assert canonicalize(raw) == want


@pytest.mark.parametrize("keep, parts", [
    ("http://www.a.gov.cn/search.jsp?s=安全&page=2", ["s=%E5%AE%89%E5%85%A8", "page=2"]),  # `s`: a search
    ("http://www.a.gov.cn/view.jsp?id=12345&tokens=3", ["id=12345", "tokens=3"]),
    ("http://www.a.gov.cn/a;b/c.html", ["/a%3Bb/c.html"]),  # a path parameter that is not a session
])
def test_ordinary_parameters_are_kept(keep: str, parts: list[str]) -> None:
    canon = canonicalize(keep) or ""
    assert all(p in canon for p in parts), canon


def test_v_urls_redacts_secrets_already_stored(migrated_database_url: str) -> None:
    """URLs stored before canonicalization dropped secrets (or by `ingest --url-prefix`) are
    redacted in the consumer view; the table keeps the key the crawler needs."""
    secret = "http://www.a.gov.cn/t.html;jsessionid=ABCDEF0123?token=s3cr3t&id=7&sid=42"
    with psycopg.connect(migrated_database_url) as conn:
        conn.execute("INSERT INTO sites (name) VALUES ('a')")
        conn.execute("INSERT INTO urls (url, site, host, last_error) VALUES (%s, 'a', 'www.a.gov.cn', %s)",
                     (secret, f"HTTP 302: redirects to {secret}"))
        url, err = conn.execute("SELECT url, last_error FROM v_urls").fetchone()
    for shown in (url, err):
        assert "ABCDEF0123" not in shown and "s3cr3t" not in shown and "=42" not in shown, shown
        assert "id=7" in shown and "www.a.gov.cn/t.html" in shown
