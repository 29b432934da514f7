"""Chinese full-text search terms: what a document is indexed under, and what a query asks for.

Why this shape (stock PostgreSQL + contrib only; no zhparser, no pg_bigm): the server's
text-search parser does not split Chinese, so nothing here goes through it. A document's
`search_tsv` is a tsvector literal built in Python:

* every character bigram of each run of Chinese characters, at its character position
  (a single-character run is indexed as that character), and every run of ASCII letters
  or digits, lower-cased: exact substring recall, whatever a segmenter would have done;
* the words of rjieba's search mode (`tokenize(mode="search")`: 管理条例 and also 管理,
  条例) of three or more characters, at their first character's position: ranking
  weight for whole words (two-character words are already bigrams).

Title and document number are weighted A, the body D. The query side (`govingest_search`
in migration 0073) turns each run of the query into a phrase of its bigrams
(`'安全' <-> '全生' <-> '生产'`), so a query matches where its characters are adjacent;
the words of the same segmenter, passed by the CLI and the app, add matches where the
query's words appear apart. Migration 0073 computes the bigram part in SQL
(`govingest_search_grams`) for documents stored before it; tests keep the two equal.

rjieba rather than jieba: measured 2.4M chars/s against 0.19M chars/s (search mode,
bench figures in docs/consumers.md), the same dictionary.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{CJK}]+|[0-9A-Za-z]+")
_IS_CJK = re.compile(f"[{CJK}]")
MAX_POSITION = 16383  # PostgreSQL clamps tsvector positions here
MAX_POSITIONS_PER_LEXEME = 255  # and keeps at most this many per lexeme
MIN_WORD = 3  # shorter words are bigrams already


def _runs(text: str, start: int) -> Iterable[tuple[int, str, bool]]:
    """(position of the run's first character, run, is Chinese) in order, from `start`.

    Positions advance by the run's length plus one, so bigrams of two runs are never
    adjacent (a phrase never crosses punctuation); an ASCII run takes two positions.
    """
    pos = start
    for m in _RUN.finditer(text):
        run = m.group(0)
        cjk = bool(_IS_CJK.match(run))
        yield pos, run, cjk
        pos += len(run) + 1 if cjk else 2


def _next_start(text: str, start: int) -> int:
    end = start
    for pos, run, cjk in _runs(text, start):
        end = pos + (len(run) + 1 if cjk else 2)
    return end


def grams(text: str, start: int = 1) -> list[tuple[str, int]]:
    """(lexeme, position) of the bigram part: what migration 0073 computes in SQL too."""
    out: list[tuple[str, int]] = []
    for pos, run, cjk in _runs(text, start):
        if not cjk:
            out.append((run.lower(), pos))
        elif len(run) == 1:
            out.append((run, pos))
        else:
            out.extend((run[i:i + 2], pos + i) for i in range(len(run) - 1))
    return out


def words(text: str, start: int = 1) -> list[tuple[str, int]]:
    """(word, position) of the segmenter's words of MIN_WORD characters or more."""
    import rjieba

    out: list[tuple[str, int]] = []
    for pos, run, cjk in _runs(text, start):
        if cjk and len(run) >= MIN_WORD:
            out.extend((w, pos + s) for w, s, _ in rjieba.tokenize(run, mode="search") if len(w) >= MIN_WORD)
    return out


def query_words(query: str) -> list[str]:
    """The query's segmenter words (same rule as `words`): `govingest_search`'s `words`."""
    seen: dict[str, None] = {}
    for w, _ in words(query):
        seen.setdefault(w, None)
    return list(seen)


def _literal(head: dict[str, list[int]], body: dict[str, list[int]]) -> str:
    """The tsvector literal: lexemes sorted, each with its sorted distinct positions (at
    most MAX_POSITIONS_PER_LEXEME), head positions weighted A. Lists, not a dict per
    lexeme: this runs on every document write, and the per-position dicts were 60% of it."""
    parts = []
    for lexeme in sorted(head.keys() | body.keys()):
        plain = body.get(lexeme, ())
        if lexeme not in head:
            if len(plain) == 1:  # most lexemes: one position
                parts.append(f"'{lexeme}':{plain[0]}")
            else:
                parts.append(f"'{lexeme}':" + ",".join(map(str, sorted(set(plain))[:MAX_POSITIONS_PER_LEXEME])))
            continue
        strong = set(head[lexeme])
        positions = sorted(strong.union(plain))[:MAX_POSITIONS_PER_LEXEME]
        parts.append(f"'{lexeme}':" + ",".join(f"{p}A" if p in strong else str(p) for p in positions))
    return " ".join(parts)


def _positions(pairs: Iterable[tuple[str, int]], into: dict[str, list[int]]) -> None:
    for lexeme, pos in pairs:
        into[lexeme].append(pos if pos < MAX_POSITION else MAX_POSITION)


def search_vector(title: str | None, body: str, doc_number: str | None = None) -> str:
    """The `documents.search_tsv` value of a document, as a tsvector literal.

    Title and document number come first (weight A), the body after them (weight D).
    Lexemes hold only Chinese characters and [0-9a-z], so the literal needs no escaping.
    """
    strong: dict[str, list[int]] = defaultdict(list)
    plain: dict[str, list[int]] = defaultdict(list)
    head = " ".join(t for t in (title, doc_number) if t)
    _positions(grams(head), strong)
    _positions(words(head), strong)
    start = _next_start(head, 1)
    _positions(grams(body, start), plain)
    _positions(words(body, start), plain)
    return _literal(strong, plain)


def grams_vector(title: str | None, body: str, doc_number: str | None = None) -> str:
    """`search_vector` without the segmenter's words: what the SQL backfill produces."""
    strong: dict[str, list[int]] = defaultdict(list)
    plain: dict[str, list[int]] = defaultdict(list)
    head = " ".join(t for t in (title, doc_number) if t)
    _positions(grams(head), strong)
    _positions(grams(body, _next_start(head, 1)), plain)
    return _literal(strong, plain)
