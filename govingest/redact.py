"""Secrets out of anything printed or logged: URLs, PostgreSQL DSNs, free text.

Why at the root of the namespace: every layer prints connection targets (db's
"cannot connect" message, the fleet's broker status, every log line), so the one
function that hides their secrets must sit below all of them.

`redact` works on any text and knows the shapes a secret takes in a target:
  postgresql://u:SECRET@h              the password of a URL's user part, also when the
  postgresql://u:p@ss@h                password itself holds `@` (hidden up to the last `@`;
                                       libpq itself would split it at the first)
  ...?password=SECRET&...              a query parameter (password, sslpassword, token, ...)
  password=SECRET, password='SE CRET'  a libpq key=value pair, quoted with \\' escapes too
  redis://:SECRET@redis:6379/0         the same rules for any scheme
and every secret registered with `remember_secret` (settings register the passwords of
their secret URLs when they load), wherever it appears. Redacting twice changes nothing.
`redact_dsn` is for a PostgreSQL DSN itself: after the textual pass it parses the result
with psycopg's conninfo parser, and when libpq would still find a password there it
prints the parameters without it.
"""
from __future__ import annotations

import re
import threading
from urllib.parse import quote, unquote, urlsplit

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
# scheme://user:PASSWORD@ — greedy up to the last '@' before the path or query, so a
# password holding a raw '@' is hidden whole
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)[^/?#\s]*@")
# key=value in a query string or a DSN whose value is a secret: quoted (with \' escapes)
# or bare; a value already masked is left alone (the `:` after "at URL?password=***: reason"
# must survive a second pass)
_SECRET_KEYS = r"(?:ssl|pg)?password|passwd|pwd|secret|token|access_token|api_key|apikey"
_PARAM_PASSWORD = re.compile(
    rf"((?<![\w.\-])(?:{_SECRET_KEYS})\s*=\s*)(?!\*\*\*(?:[^\w%]|$))('(?:[^'\\]|\\.)*'|[^\s&'][^\s&]*)",
    re.IGNORECASE)

_known: set[str] = set()
_known_lock = threading.Lock()
_MIN_KNOWN = 8  # shorter values (`postgres`) would mask ordinary words and host names


def remember_secret(value: str | None) -> None:
    """Mask `value` (and its percent-encoded form) in every later `redact` call."""
    if value and len(value) >= _MIN_KNOWN:
        with _known_lock:
            _known.update({value, quote(value, safe="")})


def dsn_password(dsn: str) -> str | None:
    """The password libpq reads from `dsn` (URL or key=value), else a URL's own password."""
    try:
        value = conninfo_to_dict(dsn).get("password")
    except ProgrammingError:  # not a libpq DSN (a Redis URL): the URL's user part
        try:
            value = unquote(urlsplit(dsn).password or "") or None
        except ValueError:
            value = None
    return str(value) if value else None


def redact(text: str) -> str:
    """`text` with every URL password, secret parameter and remembered secret replaced by `***`."""
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    text = _PARAM_PASSWORD.sub(rf"\g<1>{MASK}", text)
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_dsn(dsn: str) -> str:
    """A PostgreSQL DSN (URL or key=value) fit to print: same form, no secret left."""
    shown = redact(dsn)
    try:
        params = conninfo_to_dict(shown)
    except ProgrammingError:
        return shown  # libpq could not parse it either; the textual pass is all there is
    if params.get("password", MASK) == MASK and params.get("sslpassword", MASK) == MASK:
        return shown
    # a shape the textual pass missed: print libpq's own reading, without the secrets
    return make_conninfo("", **{k: v for k, v in params.items() if k not in ("password", "sslpassword")})
