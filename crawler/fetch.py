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
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from govingest.crawler.ssrf import BlockedAddress, check_url
from govingest.crawler.urls import canonicalize

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml")


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


def make_client(*, connect: float = 5.0, read: float = 15.0, max_connections: int = 100) -> httpx.Client:
    """The shared client: timeouts everywhere, no automatic redirects or decoding."""
    return httpx.Client(
        timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=read),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        trust_env=False,  # proxies from the environment would bypass the SSRF guard
    )


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


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """Body decoded per Content-Encoding, never more than `max_bytes` in memory."""
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
            raise _TooLarge()
    return bytes(out)


def fetch(
    client: httpx.Client,
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
) -> FetchResult:
    """GET `url` following at most `max_redirects` in-scope redirects.

    With `follow_redirects=False` a redirect ends the fetch as error kind "redirect"
    with `redirect_to` set (already checked for scope and private addresses): the
    crawler puts the target in the frontier, so every hop waits for its own
    politeness slot instead of hitting the host twice in one.

    `read_body(content_type)` decides after the headers whether the body is wanted;
    attachments are recorded from their headers without downloading them.
    """
    start = time.monotonic()
    deadline = start + total_timeout
    result = FetchResult(url=url, final_url=url, status=None)
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate",
               "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    seen = {url}

    def end(kind: str | None, message: str | None) -> FetchResult:
        result.error_kind, result.message = kind, message
        result.elapsed = time.monotonic() - start
        return result

    for hop in range(max_redirects + 1):
        try:
            check_url(current, allow_private=allow_private)
        except BlockedAddress as exc:
            return end("blocked_address", f"not fetched: {exc}")
        except OSError as exc:
            return end("dns_error", f"{exc}; will retry later")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return end("timeout", f"gave up after {total_timeout:.0f}s in total (redirects included)")
        timeout = httpx.Timeout(connect=min(client.timeout.connect or remaining, remaining),
                                read=min(client.timeout.read or remaining, remaining),
                                write=min(client.timeout.write or remaining, remaining),
                                pool=min(client.timeout.pool or remaining, remaining))
        try:
            request = client.build_request("GET", current, headers=headers, timeout=timeout)
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            return end("timeout", f"no answer from {current} in time ({type(exc).__name__}); will retry later")
        except httpx.HTTPError as exc:
            return end("connect_error", f"cannot connect to {current}: {exc or type(exc).__name__}; will retry later")
        try:
            result.status = response.status_code
            result.final_url = current
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            result.content_type = response.headers.get("content-type")
            declared = response.headers.get("content-length")
            result.content_length = int(declared) if declared and declared.isdigit() else None
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    return end("bad_redirect", f"HTTP {status} without a Location header")
                target = canonicalize(urljoin(current, location))
                if target is None:
                    return end("bad_redirect", f"HTTP {status} to {location!r}, not an http(s) URL")
                if target in seen:
                    return end("redirect_loop", f"redirect loop: {current} leads back to {target}")
                blocked = _blocked_literal(target, allow_private)
                if blocked:
                    return end("blocked_address", f"redirected to {target}: {blocked}")
                if not in_scope(target):
                    return end("out_of_scope", f"redirected to {target}, outside the site's allowed hosts; not followed")
                if not follow_redirects:
                    result.redirect_to = target
                    return end("redirect", f"HTTP {status}: redirects to {target}")
                if hop == max_redirects:
                    return end("too_many_redirects", f"more than {max_redirects} redirects, last to {target}")
                seen.add(target)
                current = target
                result.redirects = hop + 1
                headers.pop("If-None-Match", None)
                headers.pop("If-Modified-Since", None)
                continue
            if status == 304:
                return end(None, None)
            if status >= 400:
                result.retry_after = parse_retry_after(response.headers.get("retry-after"))
                return end(*_http_error(status, result.retry_after))
            if result.content_length is not None and result.content_length > max_bytes:
                return end("too_large", f"body of {result.content_length} bytes declared, over the "
                           f"{max_bytes}-byte cap; not downloaded")
            if not read_body(result.content_type):
                return end(None, None)
            try:
                result.body = _read_capped(response, max_bytes, deadline)
            except _TooLarge:
                return end("too_large", f"body over the {max_bytes}-byte cap (after decompression); "
                           "cut and not stored")
            except TimeoutError:
                return end("timeout", f"body not complete after {total_timeout:.0f}s; will retry later")
            except httpx.TimeoutException:
                return end("timeout", f"server stopped sending the body of {current}; will retry later")
            except (zlib.error, ValueError) as exc:
                return end("bad_encoding", f"cannot decode the body ({exc})")
            except httpx.HTTPError as exc:
                return end("connect_error", f"connection broke while reading {current}: {exc}; will retry later")
            result.content_length = len(result.body)
            return end(None, None)
        finally:
            response.close()
    return end("too_many_redirects", f"more than {max_redirects} redirects")  # pragma: no cover


def _blocked_literal(url: str, allow_private: bool) -> str | None:
    """Why a redirect target written as an IP literal is refused (no DNS lookup), else None.

    Out-of-scope targets are refused anyway; this only makes the recorded reason say
    that the server tried to send us into a private network.
    """
    import ipaddress
    from urllib.parse import urlsplit

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
