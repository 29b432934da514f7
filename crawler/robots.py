"""robots.txt rules (protego): which paths a site lets us request, and how slowly.

Why keep the text rather than a parsed object: the frontier stores each host's
robots.txt in the `hosts` table so every worker of a fleet applies the same rules
without refetching; parsing a few kB with protego is cheap enough to redo per claim.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from protego import Protego

ROBOTS_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RobotsRules:
    text: str  # "" = no robots.txt (404 and friends): everything allowed

    def _parser(self) -> Protego:
        return _parse(self.text)

    def allowed(self, url: str, user_agent: str) -> bool:
        if not self.text.strip():
            return True
        return bool(self._parser().can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if not self.text.strip():
            return None
        delay = self._parser().crawl_delay(user_agent)
        return float(delay) if delay is not None else None


@lru_cache(maxsize=256)
def _parse(text: str) -> Protego:
    return Protego.parse(text)


def rules_from_response(status: int | None, body: bytes) -> RobotsRules:
    """Rules implied by the robots.txt response, per the usual crawler convention.

    2xx: the file's rules. 4xx (not there): everything allowed. Anything else
    (5xx, network error) is handled by the caller, which retries later rather than
    guess.
    """
    if status is not None and 200 <= status < 300:
        return RobotsRules(body.decode("utf-8", errors="replace"))
    return RobotsRules("")
