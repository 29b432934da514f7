"""Cookies: none by default; for a site whose rule asks (`cookies = true`), its own small jar.

Why none by default: government pages do not need a session to be read, and a jar
shared by every request of a worker's lifetime lets any site grow the crawler's
requests without bound (a cookie flood made every request carry a 47 kB `Cookie:`
header) and follow the crawler across pages and sites. Some portals do answer only
once a session cookie is set (a WAF's first-visit cookie, a JSESSIONID); those sites
get a jar of their own, bounded in count and bytes, that no other site sees.
"""
from __future__ import annotations

import http.cookiejar
import threading

import httpx

MAX_COOKIES = 20  # per site
MAX_COOKIE_HEADER = 4096  # bytes of `name=value; ...` per site: what one browser cookie may hold


class RefuseAll(http.cookiejar.CookiePolicy):
    """The policy of the clients' own jar: nothing is stored, nothing is sent."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: object) -> bool:
        return False

    def path_return_ok(self, path: str, request: object) -> bool:
        return False


def no_cookies() -> http.cookiejar.CookieJar:
    """A jar for an httpx client that must keep nothing (a CookieJar, not httpx.Cookies,
    which httpx would copy into a jar of the default policy)."""
    return http.cookiejar.CookieJar(policy=RefuseAll())


def _size(cookie: http.cookiejar.Cookie) -> int:
    return len(cookie.name) + len(cookie.value or "") + 2  # "name=value; "


class SiteJar:
    """One site's cookies, at most MAX_COOKIES of them in MAX_COOKIE_HEADER bytes; cookies held
    keep their place, new ones are admitted while they fit."""

    def __init__(self) -> None:
        self._jar = httpx.Cookies()
        self._lock = threading.Lock()

    def header(self, request: httpx.Request) -> str | None:
        """The `Cookie:` value for `request`, or None."""
        with self._lock:
            probe = httpx.Request(request.method, request.url)
            self._jar.set_cookie_header(probe)
        value: str | None = probe.headers.get("cookie")
        return value

    def store(self, response: httpx.Response) -> None:
        """Keep the response's cookies while they fit; the rest are dropped, never sent."""
        with self._lock:
            before = {(c.domain, c.path, c.name) for c in self._jar.jar}
            self._jar.extract_cookies(response)
            # cookies held before first, then the new ones in the order they were set
            cookies = sorted(self._jar.jar, key=lambda c: (c.domain, c.path, c.name) not in before)
            count = used = 0
            for c in cookies:
                if count < MAX_COOKIES and used + _size(c) <= MAX_COOKIE_HEADER:
                    count, used = count + 1, used + _size(c)
                else:
                    self._jar.jar.clear(c.domain, c.path, c.name)

    def __len__(self) -> int:
        return len(self._jar.jar)


class SiteCookies:
    """The jars of the sites that want cookies, by site name (one per worker process)."""

    def __init__(self) -> None:
        self._jars: dict[str, SiteJar] = {}
        self._lock = threading.Lock()

    def jar(self, site: str) -> SiteJar:
        with self._lock:
            return self._jars.setdefault(site, SiteJar())
