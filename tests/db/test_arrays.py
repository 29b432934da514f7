"""Array literals read back by PostgreSQL as the values they were built from."""
from __future__ import annotations

import psycopg

from govingest.db import neardup
from govingest.db.arrays import array_literal, int_array_literal

TEXTS = ['say "hi"', "back\\slash", "{braces}", "a,b", "NULL", "", " padded ", "中文，全角", "😀"]
INTS = [0, 1, -1, 2**63 - 1, -(2**63), 123456789012]


def test_literals_read_back_as_the_values(pg_server_url: str) -> None:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        texts, ints, empty = conn.execute(
            "SELECT %s::text[], %s::bigint[], %s::bigint[]",
            (array_literal(TEXTS), int_array_literal(INTS), int_array_literal([]))).fetchone()  # type: ignore[misc]
    assert texts == TEXTS
    assert ints == INTS
    assert empty == []


def test_int_literal_takes_any_iterable() -> None:
    assert int_array_literal(x * 2 for x in range(3)) == "{0,2,4}"


def test_bands_of_a_minhash_read_back_signed_are_the_same() -> None:
    """A MinHash stored in a bigint[] can come back with negative values (their low 64
    bits are the hash): its bands, and so its near-duplicates, must not change."""
    minhash = [(i * 0x9E3779B97F4A7C15) % 2**64 for i in range(1, 129)]
    signed = [v - 2**64 if v >= 2**63 else v for v in minhash]
    assert any(v < 0 for v in signed)
    assert neardup.band_hashes(signed) == neardup.band_hashes(minhash)
    assert neardup.band_hashes(minhash) != neardup.band_hashes(minhash[1:] + minhash[:1])
