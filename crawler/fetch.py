"""One HTTP fetch with every guard a crawler of other people's servers needs.

Why redirects are followed by hand: httpx's `follow_redirects` would re-check neither
the site's scope nor the SSRF guard at each hop; a public page redirecting to
`http://10.0.0.1/` would be fetched. Why bodies are decompressed by hand: httpx
inflates a whole chunk at once, so a 10 kB gzip bomb becomes gigabytes before any
size check runs; `zlib.decompressobj(...).decompress(data, max_length)` stops at the cap.

`fetch()` never raises for anything the server or network does: every ending is a
`FetchResult` with an `error_kind` and a message a person understands.
"""
from __future__ import annotations

import email.utils
import ipaddress
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from govingest.crawler.client import CrawlClient
from govingest.crawler.cookies import SiteJar
from govingest.crawler.politeness import SlotDeferred
from govingest.crawler.ssrf import BlockedAddress, check_url, resolve_allowed
from govingest.crawler.transport import FetchScope, fetch_scope
from govingest.crawler.urls import canonicalize

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies that may be a page to read: HTML, text, XML (sitemaps, feeds, Hanweb datastores)
# and JSON (list APIs, the article APIs a script-filled page names).
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml",
              "application/rss+xml", "application/atom+xml", "application/json", "text/json")
# Request headers a site's own `headers` rule may not set: the crawler owns them.
_OWN_HEADERS = frozenset({"user-agent", "accept-encoding", "host", "content-length", "transfer-encoding",
                          "connection", "if-none-match", "if-modified-since", "cookie"})


@dataclass
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None  # HTTP status of the last response; None when no response
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str | None = None
    content_length: int | None = None  # bytes of the (decoded) body, or the declared size
    error_kind: str | None = None  # None = a usable response (2xx or 304)
    message: str | None = None
    retry_after: float | None = None  # seconds, from Retry-After
    redirects: int = 0
    redirect_to: str | None = None  # with follow_redirects=False: the checked, canonical target
    elapsed: float = 0.0
    truncated: bool = False  # with fetch(truncate=True): the body was cut at max_bytes

    @property
    def ok(self) -> bool:
        return self.error_kind is None


def is_html_type(content_type: str | None) -> bool:
    """Whether the body may be a page to parse: HTML, XHTML, plain text, or no type at all.

    Office formats carry "xml" in their types (…wordprocessingml.document) but are
    attachments, so only the exact page types count.
    """
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    return not ct or ct in HTML_TYPES


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - now_dt).total_seconds())


class _TooLarge(Exception):
    pass


class _Stop(Exception):
    """Ends the fetch: raised by any step with the error kind (None = usable) and message."""

    def __init__(self, kind: str | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class _Options:
    """One fetch's settings, as `fetch()` was called."""

    user_agent: str
    allow_private: bool
    in_scope: Callable[[str], bool]
    etag: str | None
    last_modified: str | None
    max_bytes: int
    total_timeout: float
    deadline: float  # time.monotonic() value
    max_redirects: int
    read_body: Callable[[str | None], bool]
    follow_redirects: bool
    truncate: bool
    cookies: SiteJar | None
    method: str = "GET"
    extra_headers: Mapping[str, str] | None = None
    before_send: Callable[[str], None] | None = None
    after_response: Callable[[str], None] | None = None
    proxy: str | None = None

    def left(self) -> float:
        return self.deadline - time.monotonic()


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float, *, truncate: bool) -> tuple[bytes, bool]:
    """(body decoded per Content-Encoding, cut) with never more than `max_bytes` in memory.

    Over the cap: raises _TooLarge, or with `truncate` returns the first `max_bytes`.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        # 47 = auto-detect gzip or zlib header; raw deflate (-15) is tried on error
        inflater = zlib.decompressobj(47)
    elif encoding in ("", "identity"):
        inflater = None
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    out = bytearray()
    for chunk in response.iter_raw():
        if time.monotonic() > deadline:
            raise TimeoutError("total time limit reached while reading the body")
        if inflater is None:
            out += chunk
        else:
            data = chunk
            while data:
                room = max_bytes + 1 - len(out)
                out += inflater.decompress(data, room)
                data = inflater.unconsumed_tail
                if len(out) > max_bytes:
                    break
        if len(out) > max_bytes:
            if truncate:
                return bytes(out[:max_bytes]), True
            raise _TooLarge()
    return bytes(out), False


def fetch(
    client: CrawlClient,
    url: str,
    *,
    user_agent: str,
    allow_private: bool = False,
    in_scope: Callable[[str], bool] = lambda u: True,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    total_timeout: float = 60.0,
    max_redirects: int = MAX_REDIRECTS,
    read_body: Callable[[str | None], bool] = lambda content_type: True,
    follow_redirects: bool = True,
    truncate: bool = False,
    cookies: SiteJar | None = None,
    method: str = "GET",
    extra_headers: Mapping[str, str] | None = None,
    before_send: Callable[[str], None] | None = None,
    after_response: Callable[[str], None] | None = None,
    proxy: str | None = None,
) -> FetchResult:
    """GET `url` following at most `max_redirects` in-scope redirects.

    With `follow_redirects=False` a redirect ends the fetch as error kind "redirect"
    with `redirect_to` set (already checked for scope and private addresses): the
    crawler puts the target in the frontier, so every hop waits for its own
    politeness slot instead of hitting the host twice in one.

    `read_body(content_type)` decides after the headers whether the body is wanted;
    attachments are recorded from their headers without downloading them. With
    `truncate`, a body over `max_bytes` is cut there (`result.truncated`) instead of
    refused: robots.txt is read that way. `cookies` is the site's jar when its rule
    asks for cookies; otherwise none are sent or kept.

    `total_timeout` is a hard limit on the whole fetch, every hop and phase included
    (name lookup, connect, TLS, headers, body): see crawler/transport.py.

    `method="POST"` sends the URL's query as a form body to the URL without its query
    (how Hanweb's jpage asks dataproxy.jsp; redirects are followed with GET).
    `extra_headers` are a site's own request headers (sites file). `before_send(url)`
    runs immediately before every request goes out (each redirect hop too): the crawler
    takes the host's politeness slot there, and may raise SlotDeferred to give the
    request up (error kind "deferred", nothing sent). `after_response(url)` runs as soon
    as the response headers, or a network error, came back. `proxy`: the site's proxy;
    every target is still checked by the SSRF guard (the proxy itself may be private),
    and a target the local resolver cannot resolve is left to the proxy.
    """
    start = time.monotonic()
    opts = _Options(user_agent=user_agent, allow_private=allow_private, in_scope=in_scope, etag=etag,
                    last_modified=last_modified, max_bytes=max_bytes, total_timeout=total_timeout,
                    deadline=start + total_timeout, max_redirects=max_redirects, read_body=read_body,
                    follow_redirects=follow_redirects, truncate=truncate, cookies=cookies, method=method,
                    extra_headers=extra_headers, before_send=before_send, after_response=after_response,
                    proxy=proxy)
    result = FetchResult(url=url, final_url=url, status=None)
    try:
        with fetch_scope(opts.deadline, allow_private=allow_private) as scope:
            _follow(client.http(allow_private=allow_private, proxy=proxy), scope, result, opts)
    except _Stop as stop:
        result.error_kind, result.message = stop.kind, stop.message
    result.elapsed = time.monotonic() - start
    return result


def _follow(http: httpx.Client, scope: FetchScope, result: FetchResult, opts: _Options) -> None:
    """The hops: pin the address, send, then either read the answer or follow its redirect."""
    headers = _request_headers(opts)
    current, seen = result.url, {result.url}
    for hop in range(opts.max_redirects + 1):
        _pin_address(scope, current, opts)
        if opts.before_send is not None:
            try:
                opts.before_send(current)
            except SlotDeferred as exc:
                result.retry_after = exc.wait
                raise _Stop("deferred", f"not sent: {exc}; back to due") from exc
        with _send(http, current, headers, opts, post=opts.method == "POST" and hop == 0) as response:
            _take_headers(result, current, response)
            target = _redirect_target(response, current, seen, opts)
            if target is None:
                _take_body(result, current, response, opts)
                return
            if not opts.follow_redirects:
                result.redirect_to = target
                raise _Stop("redirect", f"HTTP {response.status_code}: redirects to {target}")
            if hop == opts.max_redirects:
                raise _Stop("too_many_redirects", f"more than {opts.max_redirects} redirects, last to {target}")
        seen.add(target)
        current = target
        result.redirects = hop + 1
        headers.pop("If-None-Match", None)
        headers.pop("If-Modified-Since", None)
    raise _Stop("too_many_redirects", f"more than {opts.max_redirects} redirects")  # pragma: no cover


def _request_headers(opts: _Options) -> dict[str, str]:
    headers = {"User-Agent": opts.user_agent, "Accept-Encoding": "gzip, deflate",
               "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for name, value in (opts.extra_headers or {}).items():  # a site's own request headers (sites file)
        if name.lower() not in _OWN_HEADERS:
            headers[name] = value
    if opts.etag and opts.method != "POST":  # a POST is never conditional
        headers["If-None-Match"] = opts.etag
    if opts.last_modified and opts.method != "POST":
        headers["If-Modified-Since"] = opts.last_modified
    return headers


def _pin_address(scope: FetchScope, url: str, opts: _Options) -> None:
    """Resolve and check the hop's host once; the connection goes to exactly these addresses."""
    left = opts.left()
    if left <= 0:
        raise _Stop("timeout", f"gave up after {opts.total_timeout:.0f}s in total (redirects included)")
    try:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")  # the name httpcore connects to (IDNA-encoded)
        port = target.port or (443 if target.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise _Stop("bad_url", f"not a URL httpx can request ({exc})") from exc
    try:
        scope.pins[host] = resolve_allowed(host, port, allow_private=opts.allow_private, timeout=left)
    except BlockedAddress as exc:
        raise _Stop("blocked_address", f"not fetched: {exc}") from exc
    except TimeoutError as exc:
        raise _Stop("timeout", f"{exc}, past the {opts.total_timeout:.0f}s total; will retry later") from exc
    except OSError as exc:
        if opts.proxy is None:  # through a proxy, the proxy resolves the name
            raise _Stop("dns_error", f"{exc}; will retry later") from exc


@contextmanager
def _send(http: httpx.Client, url: str, headers: dict[str, str], opts: _Options, *,
          post: bool = False) -> Iterator[httpx.Response]:
    """The response with its headers read (the body still streaming); closed on the way out.
    `opts.after_response` runs as soon as the headers (or a network error) came back."""
    left = max(opts.left(), 0.001)
    t = http.timeout
    timeout = httpx.Timeout(connect=min(t.connect or left, left), read=min(t.read or left, left),
                            write=min(t.write or left, left), pool=min(t.pool or left, left))
    try:
        request = _build(http, url, headers, timeout, post=post)
        if opts.cookies is not None and (cookie := opts.cookies.header(request)):
            request.headers["Cookie"] = cookie
        try:
            response = http.send(request, stream=True)
        finally:
            if opts.after_response is not None:
                opts.after_response(url)
    except httpx.TimeoutException as exc:
        if opts.left() <= 0:
            raise _Stop("timeout", f"gave up on {url} after {opts.total_timeout:.0f}s in total "
                                   f"({type(exc).__name__}); will retry later") from exc
        raise _Stop("timeout", f"no answer from {url} in time ({type(exc).__name__}); will retry later") from exc
    except BlockedAddress as exc:  # the transport's own check (an address nobody pinned)
        raise _Stop("blocked_address", f"not fetched: {exc}") from exc
    except httpx.HTTPError as exc:
        raise _Stop("connect_error", f"cannot connect to {url}: {exc or type(exc).__name__}; will retry later") from exc
    try:
        if opts.cookies is not None:
            opts.cookies.store(response)
        yield response
    finally:
        response.close()


def _build(http: httpx.Client, url: str, headers: dict[str, str], timeout: httpx.Timeout, *,
           post: bool) -> httpx.Request:
    """GET `url`, or POST its query as a form body to the URL without its query."""
    if not post:
        return http.build_request("GET", url, headers=headers, timeout=timeout)
    parts = urlsplit(url)
    form_headers = {**headers, "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                    "X-Requested-With": "XMLHttpRequest"}
    return http.build_request("POST", parts._replace(query="").geturl(), headers=form_headers,
                              content=parts.query.encode("ascii"), timeout=timeout)


def _take_headers(result: FetchResult, url: str, response: httpx.Response) -> None:
    result.status = response.status_code
    result.final_url = url
    result.headers = {k.lower(): v for k, v in response.headers.items()}
    result.content_type = response.headers.get("content-type")
    declared = response.headers.get("content-length")
    result.content_length = int(declared) if declared and declared.isdigit() else None


def _redirect_target(response: httpx.Response, url: str, seen: set[str], opts: _Options) -> str | None:
    """The checked, canonical target of a redirect; None when the response is no redirect."""
    status = response.status_code
    if status not in REDIRECT_STATUSES:
        return None
    location = response.headers.get("location")
    if not location:
        raise _Stop("bad_redirect", f"HTTP {status} without a Location header")
    target = canonicalize(urljoin(url, location))
    if target is None:
        raise _Stop("bad_redirect", f"HTTP {status} to {location!r}, not an http(s) URL")
    if target in seen:
        raise _Stop("redirect_loop", f"redirect loop: {url} leads back to {target}")
    blocked = _blocked_literal(target, opts.allow_private)
    if blocked:
        raise _Stop("blocked_address", f"redirected to {target}: {blocked}")
    if not opts.in_scope(target):
        raise _Stop("out_of_scope", f"redirected to {target}, outside the site's allowed hosts; not followed")
    return target


def _take_body(result: FetchResult, url: str, response: httpx.Response, opts: _Options) -> None:
    """A final (non-redirect) answer: its error, or its body within the size cap."""
    status = response.status_code
    if status == 304:
        return
    if status >= 400:
        result.retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise _Stop(*_http_error(status, result.retry_after))
    if result.content_length is not None and result.content_length > opts.max_bytes and not opts.truncate:
        raise _Stop("too_large", f"body of {result.content_length} bytes declared, over the "
                                 f"{opts.max_bytes}-byte cap; not downloaded")
    if not opts.read_body(result.content_type):
        return
    try:
        result.body, result.truncated = _read_capped(response, opts.max_bytes, opts.deadline, truncate=opts.truncate)
    except _TooLarge:
        raise _Stop("too_large", f"body over the {opts.max_bytes}-byte cap (after decompression); "
                                 "cut and not stored") from None
    except TimeoutError:
        raise _Stop("timeout", f"body not complete after {opts.total_timeout:.0f}s; will retry later") from None
    except httpx.TimeoutException:
        if opts.left() <= 0:
            raise _Stop("timeout", f"body not complete after {opts.total_timeout:.0f}s; will retry later") from None
        raise _Stop("timeout", f"server stopped sending the body of {url}; will retry later") from None
    except (zlib.error, ValueError) as exc:
        raise _Stop("bad_encoding", f"cannot decode the body ({exc})") from exc
    except httpx.HTTPError as exc:
        raise _Stop("connect_error", f"connection broke while reading {url}: {exc}; will retry later") from exc
    result.content_length = len(result.body)


def _blocked_literal(url: str, allow_private: bool) -> str | None:
    """Why a redirect target written as an IP literal is refused (no DNS lookup), else None.

    Out-of-scope targets are refused anyway; this only makes the recorded reason say
    that the server tried to send us into a private network.
    """
    try:
        ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return None
    try:
        check_url(url, allow_private=allow_private)
    except BlockedAddress as exc:
        return f"not followed: {exc}"
    return None


def _http_error(status: int, retry_after: float | None) -> tuple[str, str]:
    if status in (404, 410):
        return "not_found", f"HTTP {status}: the page does not exist (anymore)"
    if status == 429:
        wait = f"; retrying after {retry_after:.0f}s as asked" if retry_after is not None else "; will retry later"
        return "rate_limited", f"HTTP 429: the server asks us to slow down{wait}"
    if status >= 500:
        wait = f"; retrying after {retry_after:.0f}s as asked" if retry_after is not None else "; will retry with backoff"
        return "server_error", f"HTTP {status}: server error{wait}"
    if status in (401, 403):
        return "forbidden", f"HTTP {status}: access refused by the server"
    return "http_error", f"HTTP {status}: request refused"
