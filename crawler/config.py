"""The sites file: which sites to crawl and how politely, validated up front.

Why validate everything at load time: a typo in a rate or a pattern found an hour into
a crawl costs the hour; found at start it costs one line on stderr naming the site and
the key. The file is TOML (stdlib `tomllib`), one `[[site]]` table per site:

    [[site]]
    name = "xm"
    start_urls = ["https://www.xm.gov.cn/zwgk/tzgg/index.html"]
    allowed_hosts = ["www.xm.gov.cn"]          # default: hosts of start_urls
    article_patterns = ['/t\\d{8}_\\d+\\.htm']  # regexes searched in the URL
    list_patterns = ['/index(_\\d+)?\\.html$']
    max_pages = 500
    recrawl_list_seconds = 3600
    recrawl_article_seconds = 2592000
    rate = 1.0          # requests per second per host
    concurrency = 2     # requests in flight per host
    user_agent = "govingest/0.1 (+https://example.org/bot)"
    body_selector = "div.TRS_Editor"           # optional
    local = false       # allow loopback/private addresses (fixture sites only)
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govingest.crawler.urls import host_key

DEFAULT_USER_AGENT = "govingest/0.1 (+https://github.com/govingest/govingest)"


class ConfigError(ValueError):
    """A sites file that cannot be used; the message names the file, site and key."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    article_patterns: tuple[str, ...] = ()
    list_patterns: tuple[str, ...] = ()
    max_pages: int = 1000
    recrawl_list_seconds: int = 3600
    recrawl_article_seconds: int = 30 * 86400
    rate: float = 1.0
    concurrency: int = 2
    user_agent: str = DEFAULT_USER_AGENT
    body_selector: str | None = None
    local: bool = False
    max_depth: int = 10
    _article_re: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _list_re: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_article_re", tuple(re.compile(p) for p in self.article_patterns))
        object.__setattr__(self, "_list_re", tuple(re.compile(p) for p in self.list_patterns))

    def is_article(self, url: str) -> bool:
        return any(r.search(url) for r in self._article_re)

    def is_list(self, url: str) -> bool:
        return any(r.search(url) for r in self._list_re)

    def as_json(self) -> dict[str, Any]:
        """What is stored in `sites.config`: the validated table, no compiled regexes."""
        out = {
            "name": self.name, "start_urls": list(self.start_urls), "allowed_hosts": list(self.allowed_hosts),
            "article_patterns": list(self.article_patterns), "list_patterns": list(self.list_patterns),
            "max_pages": self.max_pages, "recrawl_list_seconds": self.recrawl_list_seconds,
            "recrawl_article_seconds": self.recrawl_article_seconds, "rate": self.rate,
            "concurrency": self.concurrency, "user_agent": self.user_agent,
            "body_selector": self.body_selector, "local": self.local, "max_depth": self.max_depth,
        }
        # parse_site(as_json()) must round-trip: absent optional keys, not nulls
        return {k: v for k, v in out.items() if v is not None}


# key -> (python types accepted, required)
_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True),
    "start_urls": ((list,), True),
    "allowed_hosts": ((list,), False),
    "article_patterns": ((list,), False),
    "list_patterns": ((list,), False),
    "max_pages": ((int,), False),
    "recrawl_list_seconds": ((int, float), False),
    "recrawl_article_seconds": ((int, float), False),
    "rate": ((int, float), False),
    "concurrency": ((int,), False),
    "user_agent": ((str,), False),
    "body_selector": ((str,), False),
    "local": ((bool,), False),
    "max_depth": ((int,), False),
}


def parse_site(raw: dict[str, Any], where: str) -> SiteConfig:
    """Validate one `[[site]]` table; `where` says which (file and index) for messages."""
    name = raw.get("name")
    label = f"{where}, site {name!r}" if isinstance(name, str) else where

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{label}: key '{key}' {why}")

    for key in raw:
        if key not in _KEYS:
            raise fail(key, f"is unknown (known keys: {', '.join(sorted(_KEYS))})")
    for key, (types, required) in _KEYS.items():
        if key not in raw:
            if required:
                raise fail(key, "is missing")
            continue
        value = raw[key]
        # bool is an int subclass; do not let `rate = true` pass as a number
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise fail(key, f"must be {want}, got {type(value).__name__} {value!r}")
    name = str(raw["name"])  # checked above: present and a string
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise fail("name", "must be 1-64 letters, digits, '_', '-' or '.'")
    start_urls = raw["start_urls"]
    if not start_urls:
        raise fail("start_urls", "must list at least one URL")
    for u in start_urls:
        if not isinstance(u, str) or urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname:
            raise fail("start_urls", f"has {u!r}, not an http(s) URL with a host")
    hosts = raw.get("allowed_hosts") or sorted({host_key(u) for u in start_urls})
    for h in hosts:
        if not isinstance(h, str) or not h or "/" in h:
            raise fail("allowed_hosts", f"has {h!r}, expected a host name such as 'www.gov.cn' or 'host:port'")
    patterns: dict[str, list[str]] = {}
    for key in ("article_patterns", "list_patterns"):
        patterns[key] = list(raw.get(key, []))
        for p in patterns[key]:
            if not isinstance(p, str):
                raise fail(key, f"has {p!r}, expected a regular expression string")
            try:
                re.compile(p)
            except re.error as exc:
                raise fail(key, f"has {p!r}, not a valid regular expression ({exc})") from exc
    for key in ("max_pages", "concurrency", "rate", "recrawl_list_seconds", "recrawl_article_seconds"):
        if key in raw and raw[key] <= 0:
            raise fail(key, f"must be greater than 0, got {raw[key]!r}")
    if "max_depth" in raw and raw["max_depth"] < 0:
        raise fail("max_depth", f"must be 0 or more, got {raw['max_depth']!r}")
    return SiteConfig(
        name=name,
        start_urls=tuple(start_urls),
        allowed_hosts=tuple(h.lower() for h in hosts),
        article_patterns=tuple(patterns["article_patterns"]),
        list_patterns=tuple(patterns["list_patterns"]),
        max_pages=raw.get("max_pages", 1000),
        recrawl_list_seconds=int(raw.get("recrawl_list_seconds", 3600)),
        recrawl_article_seconds=int(raw.get("recrawl_article_seconds", 30 * 86400)),
        rate=float(raw.get("rate", 1.0)),
        concurrency=raw.get("concurrency", 2),
        user_agent=raw.get("user_agent", DEFAULT_USER_AGENT),
        body_selector=raw.get("body_selector"),
        local=raw.get("local", False),
        max_depth=raw.get("max_depth", 10),
    )


def parse_sites(data: dict[str, Any], where: str) -> list[SiteConfig]:
    tables = data.get("site")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{where}: no [[site]] tables; each site is a [[site]] table with name and start_urls")
    for key in data:
        if key != "site":
            raise ConfigError(f"{where}: top-level key '{key}' is unknown (only [[site]] tables are allowed)")
    sites: list[SiteConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(tables, 1):
        site = parse_site(raw, f"{where} [[site]] #{i}")
        if site.name in seen:
            raise ConfigError(f"{where} [[site]] #{i}, site {site.name!r}: key 'name' repeats an earlier site")
        seen.add(site.name)
        sites.append(site)
    return sites


def load_sites(path: str | Path) -> list[SiteConfig]:
    """Read and validate a sites file; raises ConfigError with a message for a person."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: sites file not found; pass --sites FILE or set GOVINGEST_SITES") from exc
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the sites file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: the sites file is not UTF-8 ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    return parse_sites(data, str(p))
