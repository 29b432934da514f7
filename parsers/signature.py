"""signature: content hash and MinHash over character 5-grams, for dedup and clustering."""
from __future__ import annotations

import hashlib

from parsers.model import Signature


def sign(text: str) -> Signature:
    """STUB (skeleton): hash only."""
    return Signature(content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), minhash=[])
