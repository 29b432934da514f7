"""Near-duplicate clusters from MinHash LSH, with the LSH state in PostgreSQL.

Why in Postgres and not datasketch's in-memory `MinHashLSH`: every worker process
must agree on the clusters, and an in-memory (or Redis) index would be a second
source of truth. We borrow datasketch's banding parameters (`_optimal_param`, the
(b, r) that minimise false positives + negatives at threshold 0.8) and keep the
bands in `doc_lsh_bands (band, hash)` with an index: a new document looks up every
document sharing a band, verifies the estimated Jaccard (share of equal MinHash values)
from `documents.minhash`, and joins the cluster of the closest match.

One representative per cluster: only the document a cluster started with (cluster_id =
its own id) keeps its bands; a document joining a cluster stores none. Why: members of a
cluster of reposts share most bands, so with every member's bands a new repost's lookup
read (and verified) the whole cluster — 3.4 ms into a lone document's cluster, 12 ms into a
1,000-member one (bench/scale.py). Against the representative the write costs the same at
any cluster size. The price: a near-copy of a member that is not also within the
threshold of the representative starts its own cluster (no chaining through members).

Concurrency: two near-duplicates written at the same time would not see each other's
uncommitted bands. Writers therefore take transaction-scoped advisory locks on their
band buckets, in ascending order (no deadlocks), before looking up candidates; the
second writer waits for the first to commit and then sees its bands.
"""
from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Sequence

from govingest.db.arrays import int_array_literal

THRESHOLD = 0.8
# Advisory lock space for band buckets. Bounded so a big batch takes at most this
# many locks (the shared lock table is finite); collisions only serialise writers.
LOCK_BUCKETS = 256
_LOCK_BASE = 0x6E44_0000  # keeps these keys apart from other advisory locks


@functools.lru_cache(maxsize=16)
def band_params(num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for `num_perm` hash values at THRESHOLD."""
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(THRESHOLD, num_perm, 0.5, 0.5)
    return int(b), int(r)


def band_hashes(minhash: Sequence[int]) -> list[tuple[int, int]]:
    """[(band, signed 64-bit hash)] of a MinHash; empty when there is no MinHash."""
    if not minhash:
        return []
    b, r = band_params(len(minhash))
    # packed once and sliced per band (the same bytes as packing each band's values);
    # values outside 0..2^64 (a signed copy read back from a bigint[]) as their low 64 bits
    fmt = f"<{len(minhash)}Q"
    try:
        packed = struct.pack(fmt, *minhash)
    except struct.error:
        packed = struct.pack(fmt, *(int(v) & 0xFFFF_FFFF_FFFF_FFFF for v in minhash))
    out = []
    for band in range(b):
        digest = hashlib.blake2b(packed[band * r * 8:(band + 1) * r * 8],
                                 digest_size=8, person=band.to_bytes(4, "little") + b"lsh").digest()
        out.append((band, struct.unpack("<q", digest)[0]))
    return out


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two MinHashes (datasketch's MinHash.jaccard)."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=False) if x == y) / len(a)


def lock_keys(bands: Sequence[tuple[int, int]]) -> list[int]:
    """The advisory lock keys of these bands' buckets, in the order they must be taken."""
    return sorted({_LOCK_BASE + (h % LOCK_BUCKETS) for _, h in bands})


# Takes the keys in ascending order (ORDER BY inside), so writers never deadlock.
LOCK_SQL = "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s"


# One row per (written URL, existing cluster): the member sharing the most bands with
# the new MinHash stands for the cluster. Why: a cluster of N reposts would otherwise
# send N × bands rows with their MinHashes for every new repost, and verify each in
# Python. Keyed by URL id (not document id) so it can be sent in the same round trip
# as the statement that draws the new documents' ids.
CANDIDATES_SQL = """
WITH q AS (SELECT * FROM unnest(%(c_urls)s::bigint[], %(c_bands)s::int[], %(c_hashes)s::bigint[])
                  AS q(url_id, band, hash)),
     shared AS (SELECT q.url_id, b.document_id AS other, count(*) AS n
                FROM q JOIN doc_lsh_bands b ON b.band = q.band AND b.hash = q.hash
                GROUP BY q.url_id, b.document_id)
SELECT DISTINCT ON (s.url_id, coalesce(d.cluster_id, d.id))
       s.url_id, d.url_id, d.minhash, coalesce(d.cluster_id, d.id)
FROM shared s JOIN documents d ON d.id = s.other
WHERE d.url_id <> s.url_id  -- a URL's own stored version: never its near-duplicate
ORDER BY s.url_id, coalesce(d.cluster_id, d.id), s.n DESC, d.id"""


Bands = Sequence[tuple[int, int]]  # band_hashes() of one MinHash, computed once per write


def candidate_params(docs: Sequence[tuple[int, Bands]]) -> dict[str, str]:
    """Parameters of CANDIDATES_SQL for (url_id, bands) pairs (array literals, see
    db/arrays.py)."""
    return {"c_urls": int_array_literal(u for u, bands in docs for _ in bands),
            "c_bands": int_array_literal(band for _, bands in docs for band, _ in bands),
            "c_hashes": int_array_literal(h for _, bands in docs for _, h in bands)}


def not_rewritten(rows: Sequence[tuple[int, int, Sequence[int], int]], rewritten: set[int]
                  ) -> list[tuple[int, Sequence[int], int]]:
    """CANDIDATES_SQL rows as `assign_clusters` takes them, without the stored documents of
    URLs this batch rewrites: those are stale, and their new versions match among
    themselves in `assign_clusters`. Why after the query and not in it: which URLs of a
    batch are rewritten is known only once their stored rows are read, and an unchanged
    document of the batch is a stored document like any other (excluding the whole
    batch made a near-copy written beside its unchanged original miss its cluster)."""
    return [(url_id, minhash, cluster) for url_id, other_url, minhash, cluster in rows
            if other_url not in rewritten]


def assign_clusters(
    docs: Sequence[tuple[int, int, Sequence[int], Bands]], candidates: Sequence[tuple[int, Sequence[int], int]]
) -> dict[int, int]:
    """The cluster id of each (url_id, document_id, minhash, bands) written: the closest stored
    near-duplicate's cluster (estimated Jaccard ≥ THRESHOLD), else the document's own id.

    `candidates` are CANDIDATES_SQL rows, read inside the writing transaction after the
    band locks for the same MinHashes were taken (see module docstring). Documents
    earlier in `docs` count as stored for later ones, so a batch of near-duplicates
    forms one cluster. The caller stores `band_rows(...)`.
    """
    stored: dict[int, list[tuple[list[int], int]]] = {}  # url id -> [(minhash, cluster)]
    for url_id, mh, cluster in candidates:
        stored.setdefault(url_id, []).append((list(mh or []), cluster))
    result: dict[int, int] = {}
    in_batch: dict[tuple[int, int], list[int]] = {}  # band key -> earlier documents of this batch
    minhash_of: dict[int, Sequence[int]] = {}
    for url_id, did, mh, bands in docs:
        options = list(stored.get(url_id, []))
        earlier = {o for key in bands for o in in_batch.get(key, ())}
        options += [(list(minhash_of[o]), result[o]) for o in sorted(earlier)]
        best: tuple[float, int] | None = None
        for other_mh, cluster in options:
            score = jaccard(mh, other_mh)
            if score >= THRESHOLD and (best is None or (score, -cluster) > (best[0], -best[1])):
                best = (score, cluster)
        result[did] = best[1] if best else did
        minhash_of[did] = mh
        for key in bands:
            in_batch.setdefault(key, []).append(did)
    return result


def representative_bands(docs: Sequence[tuple[int, Bands]], clusters: dict[int, int]) -> list[tuple[int, Bands]]:
    """The (document_id, bands) of `docs` whose bands are stored: cluster representatives
    (cluster id = own id) only; see the module docstring."""
    return [(did, bands) for did, bands in docs if clusters.get(did, did) == did]


def band_rows(docs: Sequence[tuple[int, Bands]]) -> list[tuple[int, int, int]]:
    """`doc_lsh_bands` rows (document_id, band, hash) of these documents."""
    return [(did, band, h) for did, bands in docs for band, h in bands]
