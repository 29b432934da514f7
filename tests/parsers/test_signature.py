"""signature: exact hash for unchanged text, MinHash similarity for reposts."""
from __future__ import annotations

import hashlib

from govingest.parsers.signature import NUM_PERM, gram_hashes, minhash, minhash_from_values, shingles, sign
from tests.conftest import SEEDS


def _estimate(a: list[int], b: list[int]) -> float:
    return minhash_from_values(a).jaccard(minhash_from_values(b))


def test_stored_values_round_trip() -> None:
    m = minhash("检查企业29136家，排查隐患11040处。")
    assert minhash_from_values(sign("检查企业29136家，排查隐患11040处。").minhash).jaccard(m) == 1.0


def test_hash_is_sha256_of_the_text_and_minhash_is_ints() -> None:
    s = sign("检查企业29136家。")
    assert s.content_hash == hashlib.sha256("检查企业29136家。".encode()).hexdigest()
    assert len(s.minhash) == NUM_PERM and all(type(v) is int for v in s.minhash)


def test_deterministic_across_calls() -> None:
    assert sign("同一篇文章的正文").minhash == sign("同一篇文章的正文").minhash


def test_shingles_are_character_5grams_ignoring_whitespace() -> None:
    assert shingles("一二三四五六") == {"一二三四五", "二三四五六"}
    assert shingles("一二三 四五\n六") == shingles("一二三四五六")
    assert shingles("") == set()


def test_repost_is_near_and_other_text_is_far() -> None:
    seeds = sorted((SEEDS).glob("*.txt"))
    a = seeds[0].read_text(encoding="utf-8")
    b = seeds[4].read_text(encoding="utf-8")
    repost = "转载自某网站。\n" + a.replace("扫一扫在手机上查看当前页面", "") + "\n责任编辑：某某"
    sa, sr, sb = sign(a), sign(repost), sign(b)
    assert sa.content_hash != sr.content_hash
    assert _estimate(sa.minhash, sr.minhash) > 0.85
    assert _estimate(sa.minhash, sb.minhash) < 0.2


def test_gram_hashes_distinguish_the_grams() -> None:
    for path in sorted((SEEDS).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert len(set(gram_hashes(text).tolist())) == len(shingles(text)), path.name  # no collisions
    assert gram_hashes("一二 三\n四五").tolist() == gram_hashes("一二三四五").tolist()
    assert len(gram_hashes("短")) == 1 and len(gram_hashes("")) == 0
