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

The literal lists one `'lexeme':position` entry per occurrence and leaves grouping,
sorting and the per-lexeme position cap to PostgreSQL's tsvector input (C, on the server):
building the grouped literal in Python cost 2.8 ms of a 3.5k-character document, this
one 1.0 ms, and the stored vector is the same (tests compare the two casts).

rjieba rather than jieba: measured 2.4M chars/s against 0.19M chars/s (search mode,
bench figures in docs/consumers.md), the same dictionary.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{CJK}]+|[0-9A-Za-z]+")
_IS_CJK = re.compile(f"[{CJK}]")
_ALL_CJK = re.compile(f"[{CJK}]+")
MAX_POSITION = 16383  # PostgreSQL clamps tsvector positions here
MIN_WORD = 3  # shorter words are bigrams already


def _runs(text: str, start: int) -> Iterable[tuple[int, int, str, bool]]:
    """(position of the run's first character, its offset in `text`, run, is Chinese) in order.

    Positions advance by the run's length plus one, so bigrams of two runs are never
    adjacent (a phrase never crosses punctuation); an ASCII run takes two positions.
    """
    pos = start
    for m in _RUN.finditer(text):
        run = m.group(0)
        cjk = bool(_IS_CJK.match(run))
        yield pos, m.start(), run, cjk
        pos += len(run) + 1 if cjk else 2


Runs = tuple[list[int], list[int], list[int]]  # Chinese runs: offsets in the text, ends, positions


def _grams(text: str, start: int, weight: str, out: list[str]) -> tuple[int, Runs]:
    """Append the bigram part of `text` to `out` as literal entries, from position `start`.

    Returns the next free position and the Chinese runs long enough to hold a word
    (where `_words` places the segmenter's words).
    """
    offsets: list[int] = []
    ends: list[int] = []
    positions: list[int] = []
    end = start
    for pos, offset, run, cjk in _runs(text, start):
        n = len(run)
        end = pos + (n + 1 if cjk else 2)
        if not cjk:
            out.append(f"'{run.lower()}':{min(pos, MAX_POSITION)}{weight}")
        elif n == 1:
            out.append(f"'{run}':{min(pos, MAX_POSITION)}{weight}")
        elif pos + n <= MAX_POSITION:
            out.extend([f"'{run[i:i + 2]}':{pos + i}{weight}" for i in range(n - 1)])
        else:
            out.extend([f"'{run[i:i + 2]}':{min(pos + i, MAX_POSITION)}{weight}" for i in range(n - 1)])
        if cjk and n >= MIN_WORD:
            offsets.append(offset)
            ends.append(offset + n)
            positions.append(pos)
    return end, (offsets, ends, positions)


def _words(text: str, runs: Runs) -> Iterator[tuple[str, int]]:
    """(word, position of its first character): the segmenter's words of MIN_WORD+ Chinese
    characters that lie inside one Chinese run. One rjieba call for the whole text, not one
    per run: the calls' overhead was half of the words' cost."""
    offsets, ends, positions = runs
    if not offsets:
        return
    import rjieba

    for word, offset, stop in rjieba.tokenize(text, mode="search"):
        if stop - offset < MIN_WORD or not _ALL_CJK.fullmatch(word):
            continue
        k = bisect.bisect_right(offsets, offset) - 1
        if k >= 0 and stop <= ends[k]:
            yield word, min(positions[k] + offset - offsets[k], MAX_POSITION)


def query_words(query: str) -> list[str]:
    """The query's segmenter words (the rule `search_vector` indexes by): `govingest_search`'s `words`."""
    return list(dict.fromkeys(w for w, _ in _words(query, _grams(query, 1, "", [])[1])))


def _vector(title: str | None, body: str, doc_number: str | None, with_words: bool) -> str:
    out: list[str] = []
    head = " ".join(t for t in (title, doc_number) if t)
    start, runs = _grams(head, 1, "A", out)
    if with_words:
        out.extend([f"'{w}':{p}A" for w, p in _words(head, runs)])
    _, runs = _grams(body, start, "", out)
    if with_words:
        out.extend([f"'{w}':{p}" for w, p in _words(body, runs)])
    return " ".join(out)


def search_vector(title: str | None, body: str, doc_number: str | None = None) -> str:
    """The document's search vector (`search_index.tsv`), as a tsvector literal.

    Title and document number come first (weight A), the body after them (weight D).
    Lexemes hold only Chinese characters and [0-9a-z], so the literal needs no escaping.
    """
    return _vector(title, body, doc_number, with_words=True)


def grams_vector(title: str | None, body: str, doc_number: str | None = None) -> str:
    """`search_vector` without the segmenter's words: what `govingest_search_grams_vector`
    (SQL, whose runs the query side shares) computes; the tests keep the two equal."""
    return _vector(title, body, doc_number, with_words=False)
