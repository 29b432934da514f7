"""robots.txt rules (protego): which paths a site lets us request, and how slowly.

Why keep the text rather than a parsed object: the frontier stores each host's
robots.txt in the `hosts` table so every worker of a fleet applies the same rules
without refetching; parsing a few kB with protego is cheap enough to redo per claim.

What a server sends is not trusted to be text: RFC 9309 asks a crawler to parse at
least the first 500 KiB, so a larger file is cut at ROBOTS_MAX_BYTES (at its last
whole line) rather than refused — refusing it left the host fully disallowed — and
NUL and other control bytes, which PostgreSQL text cannot hold and no rule contains,
are dropped: `User-agent: *<NUL>` still names every crawler, so a stray byte cannot
turn the rules under it off (read as U+FFFD, it did).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from protego import Protego

ROBOTS_TTL_SECONDS = 24 * 3600
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 2.5: at least 500 KiB must be parsed
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RobotsRules:
    text: str  # "" = no robots.txt (404 and friends): everything allowed

    def _parser(self) -> Protego:
        return _parse(self.text)

    def allowed(self, url: str, user_agent: str) -> bool:
        if not self.text.strip():
            return True
        return bool(self._parser().can_fetch(url, user_agent))

    def sitemaps(self) -> list[str]:
        """The `Sitemap:` URLs the file names (link sources for the crawl)."""
        if not self.text.strip():
            return []
        return [str(u) for u in self._parser().sitemaps]

    def crawl_delay(self, user_agent: str) -> float | None:
        if not self.text.strip():
            return None
        delay = self._parser().crawl_delay(user_agent)
        return float(delay) if delay is not None else None


@lru_cache(maxsize=64)  # entries may be ROBOTS_MAX_BYTES each
def _parse(text: str) -> Protego:
    return Protego.parse(text)


def robots_text(body: bytes, *, truncated: bool = False) -> str:
    """The file as text that PostgreSQL can store and protego can parse; a cut file
    loses its last, partial line."""
    if truncated and b"\n" in body:
        body = body[: body.rindex(b"\n") + 1]
    return _CONTROL.sub("", body.decode("utf-8", errors="replace"))


def rules_from_response(status: int | None, body: bytes, *, truncated: bool = False) -> RobotsRules:
    """Rules implied by the robots.txt response, per the usual crawler convention.

    2xx: the file's rules (`truncated`: the body is the file's first ROBOTS_MAX_BYTES).
    4xx (not there): everything allowed. Anything else (5xx, network error) is handled
    by the caller, which retries later rather than guess.
    """
    if status is not None and 200 <= status < 300:
        return RobotsRules(robots_text(body, truncated=truncated))
    return RobotsRules("")
