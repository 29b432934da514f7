"""Secrets out of anything printed or logged: URLs, PostgreSQL DSNs, free text.

Why at the root of the namespace: every layer prints connection targets (db's
"cannot connect" message, the fleet's broker status, every log line), so the one
function that hides their secrets must sit below all of them.

`redact` works on any text and knows the three shapes a secret takes in a target:
the password of a URL's user part (`postgresql://u:SECRET@h`, also when the password
itself contains `@`), a `password=` query parameter (`...?password=SECRET&...`), and a
libpq key=value pair (`password=SECRET` or `password='SE CRET'`). `redact_dsn` is for a
PostgreSQL DSN itself: after the textual pass it parses the result with psycopg's
conninfo parser, and when libpq would still find a password there it prints the
parameters without it.
"""
from __future__ import annotations

import re

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
# scheme://user:PASSWORD@ — greedy up to the last '@' before the path, so a password
# holding a raw '@' is hidden whole (libpq itself would split it at the first '@')
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^/\s]*@")
# password=... in a query string or a key=value DSN: quoted (with \' escapes) or bare
_PARAM_PASSWORD = re.compile(r"(\b(?:ssl|pg)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'][^\s&]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every URL password and `password=` value replaced by `***`."""
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    return _PARAM_PASSWORD.sub(rf"\g<1>{MASK}", text)


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
