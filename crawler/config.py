"""The sites file: which sites to crawl and how politely, validated up front.

Why validate everything at load time: a typo in a rate or a pattern found an hour into
a crawl costs the hour; found at start it costs one line on stderr naming the site and
the key. The file is TOML (stdlib `tomllib`), one `[[site]]` table per site:

    [[site]]
    name = "xm"
    start_urls = ["https://www.xm.gov.cn/zwgk/tzgg/index.html"]
    allowed_hosts = ["www.xm.gov.cn"]          # default: hosts of start_urls
    article_patterns = ['/t\\d{8}_\\d+\\.htm']  # RE2 regexes searched in the URL (linear time)
    list_patterns = ['/index(_\\d+)?\\.html$']
    max_pages = 500     # URLs waiting to be fetched at once (history does not count)
    recrawl_list_seconds = 3600
    recrawl_article_seconds = 2592000
    min_list_interval = 300      # adaptive list schedule (crawler/schedule.py): bounds in seconds
    max_list_interval = 21600    #   (default both recrawl_list_seconds: a fixed schedule)
    list_requests_per_hour = 60  # the site's list budget, enforced when URLs are handed out
    rate = 1.0          # requests per second per host
    concurrency = 2     # requests in flight per host
    user_agent = "govingest/0.1 (+https://example.org/bot)"
    body_selector = "div.TRS_Editor"           # optional
    local = false       # allow loopback/private addresses (fixture sites only)
    cookies = false     # keep cookies for this site (its own jar, at most 20 cookies / 4 kB)
    max_query_variants = 200  # query variants of one page that its own pages may add (traps)

    # site rules (all optional; `govingest status` shows how often each matched; docs/sites.md)
    body_selectors = ["div.zw_con", "#main-text"]   # more body containers, tried in order
    boilerplate_lines = ["本网站由厦门市人民政府办公厅主办"]   # body lines removed as they are
    boilerplate_patterns = ['^责任编辑[:：]']       # body lines removed when the regex matches
    deny_patterns = ['/print/', '[?&]share=']       # URLs matching are never requested
    headers = { Referer = "https://www.xm.gov.cn/" } # sent with every request to the site
    encoding = "gb18030"                            # decode pages with this, whatever they declare
    proxy = "http://egress.internal:3128"           # send through this proxy (the SSRF guard
                                                    # checks the target, not the proxy)
"""
from __future__ import annotations

import codecs
import ipaddress
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govingest.crawler.patterns import Patterns, pattern_error
from govingest.crawler.traps import DEFAULT_MAX_QUERY_VARIANTS
from govingest.crawler.urls import host_key
from govingest.parsers.extract import selector_error

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
    max_pages: int = 1000  # URLs waiting to be fetched at once (the frontier's cap), not history
    recrawl_list_seconds: int = 3600
    recrawl_article_seconds: int = 30 * 86400
    # the list schedule (crawler/schedule.py): each list page's interval within these
    # bounds; equal bounds are a fixed schedule. None: recrawl_list_seconds.
    min_list_interval: float | None = None
    max_list_interval: float | None = None
    list_requests_per_hour: float | None = None  # None: no hard cap; what the fixed schedule spends
    rate: float = 1.0
    concurrency: int = 2
    user_agent: str = DEFAULT_USER_AGENT
    body_selector: str | None = None
    local: bool = False
    max_depth: int = 10
    cookies: bool = False  # keep a cookie jar for this site (bounded); off: no cookies at all
    max_query_variants: int = DEFAULT_MAX_QUERY_VARIANTS  # see crawler/traps.py
    # site rules (docs/sites.md)
    body_selectors: tuple[str, ...] = ()
    boilerplate_lines: tuple[str, ...] = ()
    boilerplate_patterns: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    encoding: str | None = None
    proxy: str | None = None
    _article_re: Patterns = field(default=Patterns(()), repr=False, compare=False)
    _list_re: Patterns = field(default=Patterns(()), repr=False, compare=False)
    _deny_re: tuple[Patterns, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_article_re", Patterns(self.article_patterns))
        object.__setattr__(self, "_list_re", Patterns(self.list_patterns))
        object.__setattr__(self, "_deny_re", tuple(Patterns((p,)) for p in self.deny_patterns))

    def denied_by(self, url: str) -> str | None:
        """The deny pattern `url` matches (never requested), else None."""
        for p in self._deny_re:
            if p.search(url):
                return p.patterns[0]
        return None

    @property
    def list_bounds(self) -> tuple[float, float]:
        """(min, max) seconds between fetches of one list page."""
        low = self.min_list_interval
        high = self.max_list_interval
        fixed = float(self.recrawl_list_seconds)
        low = low if low is not None else min(fixed, high if high is not None else fixed)
        high = high if high is not None else max(fixed, low)
        return low, high

    @property
    def request_headers(self) -> dict[str, str]:
        return dict(self.headers)

    def is_article(self, url: str) -> bool:
        return self._article_re.search(url)

    def is_list(self, url: str) -> bool:
        return self._list_re.search(url)

    def as_json(self) -> dict[str, Any]:
        """What is stored in `sites.config`: the validated table, no compiled regexes."""
        out = {
            "name": self.name, "start_urls": list(self.start_urls), "allowed_hosts": list(self.allowed_hosts),
            "article_patterns": list(self.article_patterns), "list_patterns": list(self.list_patterns),
            "max_pages": self.max_pages, "recrawl_list_seconds": self.recrawl_list_seconds,
            "recrawl_article_seconds": self.recrawl_article_seconds, "rate": self.rate,
            "min_list_interval": self.min_list_interval, "max_list_interval": self.max_list_interval,
            "list_requests_per_hour": self.list_requests_per_hour,
            "concurrency": self.concurrency, "user_agent": self.user_agent,
            "body_selector": self.body_selector, "local": self.local, "max_depth": self.max_depth,
            "cookies": self.cookies, "max_query_variants": self.max_query_variants,
            "body_selectors": list(self.body_selectors), "boilerplate_lines": list(self.boilerplate_lines),
            "boilerplate_patterns": list(self.boilerplate_patterns), "deny_patterns": list(self.deny_patterns),
            "headers": dict(self.headers), "encoding": self.encoding, "proxy": self.proxy,
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
    "min_list_interval": ((int, float), False),
    "max_list_interval": ((int, float), False),
    "list_requests_per_hour": ((int, float), False),
    "rate": ((int, float), False),
    "concurrency": ((int,), False),
    "user_agent": ((str,), False),
    "body_selector": ((str,), False),
    "local": ((bool,), False),
    "max_depth": ((int,), False),
    "cookies": ((bool,), False),
    "max_query_variants": ((int,), False),
    "body_selectors": ((list,), False),
    "boilerplate_lines": ((list,), False),
    "boilerplate_patterns": ((list,), False),
    "deny_patterns": ((list,), False),
    "headers": ((dict,), False),
    "encoding": ((str,), False),
    "proxy": ((str,), False),
}
# Request headers a site may not set: the crawler owns them (identity, decoding, framing, validators).
_RESERVED_HEADERS = frozenset({"user-agent", "accept-encoding", "host", "content-length", "transfer-encoding",
                               "connection", "if-none-match", "if-modified-since", "cookie"})
_TEN_YEARS = 10 * 365 * 86400
# key -> (smallest, largest, the range as a person reads it); numbers must also be finite
_RANGES: dict[str, tuple[float, float, str]] = {
    "max_pages": (1, 10_000_000, "from 1 to 10000000"),
    "recrawl_list_seconds": (1, _TEN_YEARS, f"from 1 to {_TEN_YEARS} (ten years)"),
    "recrawl_article_seconds": (1, _TEN_YEARS, f"from 1 to {_TEN_YEARS} (ten years)"),
    "min_list_interval": (1, _TEN_YEARS, f"from 1 to {_TEN_YEARS} seconds"),
    "max_list_interval": (1, _TEN_YEARS, f"from 1 to {_TEN_YEARS} seconds"),
    "list_requests_per_hour": (0.01, 3_600_000, "from 0.01 to 3600000"),
    "rate": (1 / 86400, 1000, "from 0.0000116 (one request a day) to 1000 requests per second"),
    "concurrency": (1, 64, "from 1 to 64"),
    "max_depth": (0, 1000, "from 0 to 1000"),
    "max_query_variants": (1, 1_000_000, "from 1 to 1000000"),
}
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class _Site:
    """Validation of one raw `[[site]]` table, one named step per concern."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        name = raw.get("name")
        self.label = f"{where}, site {name!r}" if isinstance(name, str) else where

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.label}: key '{key}' {why}")

    def check_keys_and_types(self) -> None:
        for key in self.raw:
            if key not in _KEYS:
                raise self.fail(key, f"is unknown (known keys: {', '.join(sorted(_KEYS))})")
        for key, (types, required) in _KEYS.items():
            if key not in self.raw:
                if required:
                    raise self.fail(key, "is missing")
                continue
            value = self.raw[key]
            # bool is an int subclass; do not let `rate = true` pass as a number
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                want = " or ".join(t.__name__ for t in types)
                raise self.fail(key, f"must be {want}, got {type(value).__name__} {value!r}")

    def name(self) -> str:
        name = self.raw["name"]
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise self.fail("name", "must be 1-64 letters, digits, '_', '-' or '.'")
        return str(name)

    def start_urls(self) -> tuple[str, ...]:
        urls = self.raw["start_urls"]
        if not urls:
            raise self.fail("start_urls", "must list at least one URL")
        for u in urls:
            if not isinstance(u, str) or urlsplit(u).scheme not in ("http", "https") or not _safe_host(u):
                raise self.fail("start_urls", f"has {u!r}, not an http(s) URL with a host")
        return tuple(urls)

    def allowed_hosts(self, start_urls: tuple[str, ...]) -> tuple[str, ...]:
        hosts = self.raw.get("allowed_hosts") or sorted({host_key(u) for u in start_urls})
        for h in hosts:
            if not isinstance(h, str) or not _valid_host(h.lower()):
                raise self.fail("allowed_hosts", f"has {h!r}, expected one host name such as 'www.gov.cn' or "
                                                 "'host:port' (no wildcards, no paths, a port from 1 to 65535)")
        return tuple(h.lower() for h in hosts)

    def patterns(self, key: str) -> tuple[str, ...]:
        patterns = list(self.raw.get(key, []))
        for p in patterns:
            if not isinstance(p, str):
                raise self.fail(key, f"has {p!r}, expected a regular expression string")
            why = pattern_error(p)
            if why:
                raise self.fail(key, f"has {p!r}, {why}")
        return tuple(patterns)

    def numbers(self) -> None:
        for key, (low, high, text) in _RANGES.items():
            if key not in self.raw:
                continue
            value = self.raw[key]
            if not math.isfinite(value):
                raise self.fail(key, f"must be a finite number ({text}), got {value!r}")
            if not low <= value <= high:
                raise self.fail(key, f"must be {text}, got {value!r}")

    def list_schedule(self) -> None:
        """The list bounds in order, and a list budget the host's rate can carry."""
        low, high = self.raw.get("min_list_interval"), self.raw.get("max_list_interval")
        if low is not None and high is not None and low > high:
            raise self.fail("min_list_interval", f"is {low!r}, above max_list_interval {high!r}")
        budget, rate = self.raw.get("list_requests_per_hour"), float(self.raw.get("rate", 1.0))
        if budget is not None and budget > rate * 3600:
            raise self.fail("list_requests_per_hour", f"is {budget!r}, more than the host's rate allows "
                                                      f"({rate * 3600:g} requests an hour at rate = {rate:g})")

    def user_agent(self) -> str:
        ua = self.raw.get("user_agent", DEFAULT_USER_AGENT)
        if not 1 <= len(ua) <= 256 or not all(" " <= ch <= "~" for ch in ua):
            raise self.fail("user_agent", f"has {ua!r}; it goes into a request header, so it must be 1-256 "
                                          "printable ASCII characters (no CR, LF or other control characters)")
        return str(ua)

    def body_selector(self) -> str | None:
        selector = self.raw.get("body_selector")
        if selector is not None:
            why = selector_error(selector)
            if why:
                raise self.fail("body_selector", f"has {selector!r}, {why}")
        return selector

    def strings(self, key: str) -> tuple[str, ...]:
        values = list(self.raw.get(key, []))
        for v in values:
            if not isinstance(v, str) or not v.strip():
                raise self.fail(key, f"has {v!r}, expected a non-empty string")
        return tuple(values)

    def body_selectors(self) -> tuple[str, ...]:
        selectors = self.strings("body_selectors")
        for sel in selectors:
            why = selector_error(sel)
            if why:
                raise self.fail("body_selectors", f"has {sel!r}, {why}")
        return selectors

    def headers(self) -> tuple[tuple[str, str], ...]:
        headers = self.raw.get("headers", {})
        for name, value in headers.items():
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name) or not all(
                    " " <= ch <= "~" or ord(ch) > 127 for ch in value):
                raise self.fail("headers", f"has {name!r} = {value!r}; expected header-name = \"text\" on one line")
            if name.lower() in _RESERVED_HEADERS:
                raise self.fail("headers", f"may not set {name!r}: the crawler sets it itself "
                                           "(use user_agent for User-Agent, cookies = true for cookies)")
        return tuple(sorted(headers.items()))

    def encoding(self) -> str | None:
        encoding = self.raw.get("encoding")
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError as exc:
                raise self.fail("encoding", f"{encoding!r} is not an encoding Python knows "
                                            "(try 'gb18030', 'utf-8')") from exc
        return encoding

    def proxy(self) -> str | None:
        proxy = self.raw.get("proxy")
        if proxy is not None:
            parts = urlsplit(proxy)
            if parts.scheme not in ("http", "https", "socks5") or not _safe_host(proxy):
                raise self.fail("proxy", f"{proxy!r} is not a proxy URL such as 'http://host:3128'")
        return proxy


def _safe_host(url: str) -> str | None:
    """The URL's host when it has one and a valid port (urlsplit raises on a bad port)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        return parts.hostname
    except ValueError:
        return None


def _valid_host(host: str) -> bool:
    """`host[:port]`: a DNS name (IDN allowed) or an IP literal, and a port in 1-65535."""
    name, port = host, None
    if host.startswith("["):  # [v6]:port
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else (None if not rest else "bad")
    elif host.count(":") == 1:
        name, port = host.split(":")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_name.rstrip(".").split(".")
    return len(ascii_name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def parse_site(raw: dict[str, Any], where: str) -> SiteConfig:
    """Validate one `[[site]]` table; `where` says which (file and index) for messages."""
    site = _Site(raw, where)
    site.check_keys_and_types()
    name = site.name()
    start_urls = site.start_urls()
    allowed_hosts = site.allowed_hosts(start_urls)
    article_patterns, list_patterns = site.patterns("article_patterns"), site.patterns("list_patterns")
    site.numbers()
    site.list_schedule()
    return SiteConfig(
        name=name,
        start_urls=start_urls,
        allowed_hosts=allowed_hosts,
        article_patterns=article_patterns,
        list_patterns=list_patterns,
        max_pages=raw.get("max_pages", 1000),
        recrawl_list_seconds=int(raw.get("recrawl_list_seconds", 3600)),
        recrawl_article_seconds=int(raw.get("recrawl_article_seconds", 30 * 86400)),
        min_list_interval=_float_or_none(raw.get("min_list_interval")),
        max_list_interval=_float_or_none(raw.get("max_list_interval")),
        list_requests_per_hour=_float_or_none(raw.get("list_requests_per_hour")),
        rate=float(raw.get("rate", 1.0)),
        concurrency=raw.get("concurrency", 2),
        user_agent=site.user_agent(),
        body_selector=site.body_selector(),
        local=raw.get("local", False),
        max_depth=raw.get("max_depth", 10),
        cookies=raw.get("cookies", False),
        max_query_variants=raw.get("max_query_variants", DEFAULT_MAX_QUERY_VARIANTS),
        body_selectors=site.body_selectors(),
        boilerplate_lines=site.strings("boilerplate_lines"),
        boilerplate_patterns=site.patterns("boilerplate_patterns"),
        deny_patterns=site.patterns("deny_patterns"),
        headers=site.headers(),
        encoding=site.encoding(),
        proxy=site.proxy(),
    )


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


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
