"""Array parameters as PostgreSQL array literals, for the statements of the document write.

Why not psycopg's list adaptation: psycopg adapts a list element by element in Python
(finding the element type, then dumping each), ~3 µs a list even for one element; the
document write sends a dozen small lists per transaction, a tenth of a one-document
write's client time. A literal is one `join`, and the server's array input reads it: the
statement casts the parameter (`%(ids)s::bigint[]`), so the type is the statement's.
"""
from __future__ import annotations

from collections.abc import Iterable


def array_literal(values: Iterable[str]) -> str:
    """`{"a","b"}`: every element quoted, backslashes and quotes escaped, so any text reads
    back as it was; no NULL elements."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def int_array_literal(values: Iterable[int]) -> str:
    """`{1,-2}`: integers need no quoting, so the literal is one `join` in C (`map(str)`),
    not a Python step per element: a write sends about a hundred (its band hashes three
    times over, its lock keys, ids)."""
    return "{" + ",".join(map(str, values)) + "}"
