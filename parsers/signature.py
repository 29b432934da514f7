"""signature: content hash and MinHash over character 5-grams, for dedup and clustering.

The hash says "same text" (an unchanged refetch writes nothing); the MinHash says
"nearly the same text" (a repost with another header or footer), which the storage
side turns into near-duplicate clusters with datasketch's LSH. Character 5-grams,
because Chinese has no spaces to split words on and 5 characters are about two words.
"""
from __future__ import annotations

import hashlib

from datasketch import MinHash

from parsers.model import Signature

NUM_PERM = 128
SHINGLE = 5
SEED = 1  # fixed: signatures computed by different processes and versions must compare
SCHEME = "affine32"  # pinned: datasketch refuses to compare values across hashing schemes


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    """Character k-grams of the text without whitespace (layout must not change them)."""
    compact = "".join(text.split())
    if len(compact) <= k:
        return {compact.encode("utf-8")} if compact else set()
    return {compact[i:i + k].encode("utf-8") for i in range(len(compact) - k + 1)}


def minhash(text: str) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    grams = shingles(text)
    if grams:
        m.update_batch(list(grams))
    return m


def sign(text: str) -> Signature:
    """sha256 of the normalized text and the MinHash hash values as plain ints."""
    return Signature(
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        minhash=[int(v) for v in minhash(text).hashvalues],
    )


def minhash_from_values(hashvalues: list[int]) -> MinHash:
    """A stored `Signature.minhash` back as a MinHash (for LSH and Jaccard estimates)."""
    import numpy as np

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashvalues=np.array(hashvalues, dtype=np.uint64))
