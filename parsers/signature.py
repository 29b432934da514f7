"""signature: content hash and MinHash over character 5-grams, for dedup and clustering.

The hash says "same text" (an unchanged refetch writes nothing); the MinHash says
"nearly the same text" (a repost with another header or footer), which the storage
side turns into near-duplicate clusters with datasketch's LSH. Character 5-grams,
because Chinese has no spaces to split words on and 5 characters are about two words.

The 5-grams are hashed with a numpy rolling hash over the code points instead of
datasketch's default per-gram SHA-1: the same sketch quality at a fraction of the
cost (SHA-1 in a Python loop was ~20% of a whole page parse).
"""
from __future__ import annotations

import hashlib

import numpy as np
from datasketch import MinHash

from govingest.parsers.model import Signature

NUM_PERM = 128
SHINGLE = 5
SEED = 1  # fixed: signatures computed by different processes and versions must compare
SCHEME = "affine32"  # pinned: datasketch refuses to compare values across hashing schemes
_BASE = np.uint64(0x100000001B3)  # FNV prime: odd, spreads code points over 64 bits
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _identity(value: int) -> int:
    """Gram hashes are computed in bulk by `gram_hashes`; datasketch only mixes them."""
    return value


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Character k-grams of the text without whitespace (layout must not change them)."""
    compact = "".join(text.split())
    if len(compact) <= k:
        return {compact} if compact else set()
    return {compact[i:i + k] for i in range(len(compact) - k + 1)}


def gram_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """32-bit hashes of every character k-gram of the text (whitespace ignored).

    Repeated grams repeat their hash; not deduplicating is deliberate, as a MinHash
    takes minima and is unchanged by repeats (and np.unique costs more than the rest).
    """
    compact = "".join(text.split())
    if not compact:
        return np.empty(0, dtype=np.uint64)
    cps = np.frombuffer(compact.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(k, len(cps))
    n = len(cps) - width + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(width):
            h = h * _BASE + cps[i:i + n]
        h = (h ^ (h >> np.uint64(31))) * _MIX
    return h >> np.uint64(32)


def minhash(text: str) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_identity)
    hashes = gram_hashes(text)
    if len(hashes):
        m.update_batch(hashes.tolist())
    return m


def sign(text: str) -> Signature:
    """sha256 of the normalized text and the MinHash hash values as plain ints."""
    return Signature(
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        minhash=[int(v) for v in minhash(text).hashvalues],
    )


def minhash_from_values(hashvalues: list[int]) -> MinHash:
    """A stored `Signature.minhash` back as a MinHash (for LSH and Jaccard estimates)."""
    return MinHash(
        num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_identity,
        hashvalues=np.array(hashvalues, dtype=np.uint64),
    )
