"""Sites file validation: errors name the file, the site and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from govingest.crawler.config import ConfigError, load_sites, parse_site

GOOD = r"""
[[site]]
name = "xm"
start_urls = ["https://www.xm.gov.cn/zwgk/index.html"]
article_patterns = ['/t\d{8}_\d+\.htm']
list_patterns = ['/index(_\d+)?\.html$']
rate = 2.5
concurrency = 3
body_selector = "div.TRS_Editor"

[[site]]
name = "local-fixture"
start_urls = ["http://127.0.0.1:8000/index.html"]
local = true
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sites.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_file_loads_with_defaults(tmp_path: Path) -> None:
    xm, fixture = load_sites(write(tmp_path, GOOD))
    assert xm.allowed_hosts == ("www.xm.gov.cn",)  # defaults to the start URLs' hosts
    assert xm.rate == 2.5 and xm.concurrency == 3 and xm.body_selector == "div.TRS_Editor"
    assert xm.is_article("https://www.xm.gov.cn/zwgk/202401/t20240105_123.htm")
    assert xm.is_list("https://www.xm.gov.cn/zwgk/index_3.html")
    assert not xm.local
    assert fixture.allowed_hosts == ("127.0.0.1:8000",) and fixture.local


def test_round_trip_through_stored_json(tmp_path: Path) -> None:
    for site in load_sites(write(tmp_path, GOOD)):
        assert parse_site(site.as_json(), "stored") == site


@pytest.mark.parametrize("body, words", [
    ('name = "a"\nstart_urls = ["http://a.gov.cn/"]\nrate = -1', ["site 'a'", "'rate'", "from 0.0000116 (one request a day)"]),
    ('name = "a"\nstart_urls = ["http://a.gov.cn/"]\nrate = "fast"', ["site 'a'", "'rate'", "must be"]),
    ('name = "a"\nstart_urls = ["http://a.gov.cn/"]\nconcurrency = true', ["'concurrency'", "bool"]),
    ('name = "a"\nstart_urls = ["ftp://a.gov.cn/"]', ["'start_urls'", "ftp://a.gov.cn/"]),
    ('name = "a"\nstart_urls = []', ["'start_urls'", "at least one"]),
    ('name = "a"\nstart_urls = ["http://a.gov.cn/"]\narticle_patterns = ["(unclosed"]',
     ["'article_patterns'", "regular expression"]),
    ('name = "a"\nstart_urls = ["http://a.gov.cn/"]\nmax_pagez = 3', ["'max_pagez'", "unknown"]),
    ('start_urls = ["http://a.gov.cn/"]', ["'name'", "missing"]),
    ('name = "a b"\nstart_urls = ["http://a.gov.cn/"]', ["'name'"]),
])
def test_errors_name_site_and_key(tmp_path: Path, body: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        load_sites(write(tmp_path, "[[site]]\n" + body + "\n"))
    message = str(err.value)
    assert "sites.toml" in message
    for w in words:
        assert w in message, message


def test_duplicate_names_and_bad_toml_and_missing_file(tmp_path: Path) -> None:
    dup = '[[site]]\nname = "a"\nstart_urls = ["http://a.gov.cn/"]\n' * 2
    with pytest.raises(ConfigError, match="repeats"):
        load_sites(write(tmp_path, dup))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_sites(write(tmp_path, "[[site]\nname="))
    with pytest.raises(ConfigError, match="not found"):
        load_sites(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"no \[\[site\]\]"):
        load_sites(write(tmp_path, "x = 1\n"))


def test_shipped_example_sites_file_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    sites = load_sites(root / "deploy" / "sites.toml")
    assert sites and all(not s.local for s in sites)  # real sites never get the SSRF exemption


RULES = r"""
[[site]]
name = "gz"
start_urls = ["https://www.gz.gov.cn/zwgk/index.html"]
body_selectors = ["div.zw_con", "//div[@id='main-text']"]
boilerplate_lines = ["本网站由广州市人民政府办公厅主办"]
boilerplate_patterns = ['^责任编辑[:：]']
deny_patterns = ['/print/', '[?&]share=']
headers = { Referer = "https://www.gz.gov.cn/" }
encoding = "gb18030"
proxy = "http://10.0.0.8:3128"
"""


def test_site_rules_load_and_round_trip(tmp_path: Path) -> None:
    (gz,) = load_sites(write(tmp_path, RULES))
    assert gz.body_selectors == ("div.zw_con", "//div[@id='main-text']")
    assert gz.denied_by("https://www.gz.gov.cn/print/1.html") == "/print/"
    assert gz.denied_by("https://www.gz.gov.cn/a.html?id=1&share=wx") == "[?&]share="
    assert gz.denied_by("https://www.gz.gov.cn/a.html") is None
    assert gz.request_headers == {"Referer": "https://www.gz.gov.cn/"}
    assert gz.encoding == "gb18030" and gz.proxy == "http://10.0.0.8:3128"  # a private proxy is fine
    assert parse_site(gz.as_json(), "stored") == gz


@pytest.mark.parametrize("line, words", [
    ('body_selectors = ["div[[["]', ["'body_selectors'", "selector"]),
    ('body_selector = "//div[@"', ["'body_selector'", "selector"]),
    ('deny_patterns = ["(x"]', ["'deny_patterns'", "regular expression"]),
    ('boilerplate_patterns = ["[z"]', ["'boilerplate_patterns'", "regular expression"]),
    ('boilerplate_lines = [""]', ["'boilerplate_lines'", "non-empty"]),
    ('headers = { "User-Agent" = "x" }', ["'headers'", "User-Agent", "user_agent"]),
    ('headers = { "Bad Name" = "x" }', ["'headers'", "Bad Name"]),
    ('encoding = "klingon"', ["'encoding'", "klingon"]),
    ('proxy = "ftp://p:21"', ["'proxy'", "ftp://p:21"]),
    ('headers = ["Referer"]', ["'headers'", "must be dict"]),
])
def test_site_rule_errors_name_the_key(tmp_path: Path, line: str, words: list[str]) -> None:
    body = f'[[site]]\nname = "a"\nstart_urls = ["http://a.gov.cn/"]\n{line}\n'
    with pytest.raises(ConfigError) as err:
        load_sites(write(tmp_path, body))
    for w in words:
        assert w in str(err.value), (w, str(err.value))
