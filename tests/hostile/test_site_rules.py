"""Hostile values in the sites file are refused at load, naming file, site and key (issue 13).

Before: `(a+)+$` in article_patterns took seconds on a 24-character URL and doubled with
every character; `rate = inf`, `nan` or `1e-300`, `allowed_hosts = ["*"]`, CR/LF in the
user agent and an invalid CSS selector were all accepted.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from govingest.crawler.config import ConfigError, load_sites, parse_site

BASE = 'name = "a"\nstart_urls = ["http://www.a.gov.cn/"]\n'


def load(tmp_path: Path, extra: str):
    p = tmp_path / "sites.toml"
    p.write_text("[[site]]\n" + BASE + extra, encoding="utf-8")
    return load_sites(p)


@pytest.mark.parametrize("extra, key", [
    ("rate = inf", "rate"),
    ("rate = nan", "rate"),
    ("rate = 1e-300", "rate"),
    ("rate = 1e300", "rate"),
    ("recrawl_list_seconds = inf", "recrawl_list_seconds"),
    ("recrawl_article_seconds = nan", "recrawl_article_seconds"),
    ('allowed_hosts = ["*"]', "allowed_hosts"),
    ('allowed_hosts = ["*.gov.cn"]', "allowed_hosts"),
    ('allowed_hosts = ["www.a.gov.cn:99999"]', "allowed_hosts"),
    ('user_agent = "govingest\\r\\nX-Injected: 1"', "user_agent"),
    ('user_agent = "govingest\\n"', "user_agent"),
    ('body_selector = "div[[["', "body_selector"),
    ('body_selector = "//div[@class="', "body_selector"),
    ("max_pages = 1000000000000", "max_pages"),
    ("concurrency = 100000", "concurrency"),
    ("article_patterns = ['(?<=t)\\d+']", "article_patterns"),
])
def test_hostile_values_are_refused_with_file_site_and_key(tmp_path: Path, extra: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, extra)
    msg = str(err.value)
    assert str(tmp_path / "sites.toml") in msg and "site 'a'" in msg and f"'{key}'" in msg, msg


def test_catastrophic_pattern_is_matched_in_linear_time() -> None:
    """`(a+)+$` on 40 characters takes hours with backtracking: run it in a child process
    so the old behaviour fails by timeout instead of stalling the test session."""
    code = ("from govingest.crawler.config import parse_site\n"
            "s = parse_site({'name': 'a', 'start_urls': ['http://www.a.gov.cn/'],"
            " 'article_patterns': ['(a+)+$'], 'list_patterns': ['(x+x+)+y']}, 'probe')\n"
            "print(s.is_article('http://www.a.gov.cn/' + 'a' * 40 + '!'), s.is_list('x' * 5000))\n")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("a catastrophic pattern ran for more than 30 s on a 60-character URL")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_patterns_keep_their_meaning() -> None:
    s = parse_site({"name": "a", "start_urls": ["http://www.a.gov.cn/"],
                    "article_patterns": [r"/t\d{8}_\d+\.htm", r"/art/(?P<y>\d{4})/", "[\\u4e00-\\u9fff]"],
                    "list_patterns": [r"(?i)/INDEX(_\d+)?\.html$"]}, "t")
    assert s.is_article("http://www.a.gov.cn/zwgk/t20240105_123.htm")
    assert s.is_article("http://www.a.gov.cn/art/2024/1/art_1.html")
    assert s.is_article("http://www.a.gov.cn/通知.html")
    assert not s.is_article("http://www.a.gov.cn/zwgk/index.html")
    assert s.is_list("http://www.a.gov.cn/zwgk/index_3.html")
    assert parse_site(s.as_json(), "stored") == s
