"""normalize: script detection, Traditional → Simplified, width, punctuation, whitespace.

Canonical form (one form, so hashes, dedup and string search agree across sites that
type the same document differently):

* **Script**: Simplified. Traditional input is converted with OpenCC `t2s`, but only
  when the text holds Traditional-only characters: detection is a C-speed regex
  scan for a precomputed character class (built once from OpenCC's own t2s table),
  so an all-Simplified page pays one regex pass.
* **Width**: fullwidth ASCII letters, digits and `％＋－．／＝` become ASCII (the
  number parser and search want `29136`, not `２９１３６`); digits keep their values.
* **Punctuation**: Chinese (fullwidth) punctuation between CJK text, as the GB/T 15834
  standard writes it: an ASCII `, ; : ? !` inside Chinese text — CJK (or a closing
  mark, or `%`) before it and CJK, an opening mark or a digit after it, or a digit
  before and CJK after — becomes `，；：？！`;
  an ASCII `( )` pair that wraps or touches CJK becomes `（ ）`. Punctuation inside
  Latin/number runs (`1,000`, `10:30`, `http://`) stays ASCII. NFKC folds these back,
  so a consumer comparing after NFKC sees the same text either way.
* **Whitespace**: zero-width characters and BOMs removed; runs of spaces (ASCII,
  U+3000 ideographic, NBSP and the other Unicode spaces) collapse to one ASCII space;
  paragraphs are stripped (which drops the U+3000 indents of Chinese typesetting) and
  one paragraph is one line: embedded newlines split, empty paragraphs go.

`normalize_text` is idempotent: normalizing its output changes nothing.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from opencc import OpenCC

from govingest.parsers.model import Script

# Traditional pages are written in Traditional throughout; a Simplified page may hold
# a couple of characters that are also Traditional-only in OpenCC's table (乾隆, 於).
_HANT_MIN_CHARS = 3
_HANT_MIN_SHARE = 0.01

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CLOSE = "”’）》」』】〕"
_OPEN = "“‘（《「『【〔"

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_PUNCT_BETWEEN_CJK = re.compile(
    f"(?<=[{_CJK}{_CLOSE}%])[,;:?!](?=[{_CJK}{_OPEN}0-9])|(?<=[0-9])[,;:?!](?=[{_CJK}{_OPEN}])"
)
_ASCII_PAREN_PAIR = re.compile(r"\(([^()\n]{0,200})\)")
_HAS_CJK = re.compile(f"[{_CJK}]")
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
_TO_FULLWIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "?": "？", "!": "！"})

# Fullwidth forms that become ASCII: digits, Latin letters and the signs numbers use.
_HALFWIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
    | {"％": "%", "＋": "+", "－": "-", "．": ".", "／": "/", "＝": "=", "＜": "<", "＞": ">", "＆": "&",
       "＠": "@", "＃": "#", "＿": "_"}
)


def opencc_binding() -> Literal["official", "reimplementation"]:
    """Which package provides `opencc`: the official one ships a compiled extension.

    The two differ on government terms (the official converts 批覆→批复, the
    reimplementation leaves it), so tests assert what each one must do.
    """
    import opencc

    return "official" if hasattr(opencc, "clib") or hasattr(opencc, "opencc_clib") else "reimplementation"


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    """The converter; config names differ between the official binding and the reimplementation."""
    last: Exception | None = None
    for config in ("t2s", "t2s.json"):
        try:
            return OpenCC(config)
        except Exception as exc:  # each binding raises its own error type for a bad name
            last = exc
    raise RuntimeError(f"OpenCC has no t2s configuration: {last}")


@lru_cache(maxsize=1)
def traditional_chars() -> frozenset[str]:
    """Characters OpenCC's t2s changes on their own: the evidence of Traditional text.

    Built once per process by converting every CJK code point separated by newlines
    (so phrase rules cannot shift positions); ~3 ms with the official binding.
    """
    chars = [chr(c) for r in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for c in range(*r)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a converter that merged lines: compare one by one
        converted = [_t2s().convert(c) for c in chars]
    return frozenset(c for c, s in zip(chars, converted, strict=False) if c != s)


@lru_cache(maxsize=1)
def _traditional_re() -> re.Pattern[str]:
    """One character class of all Traditional-only characters: a C-speed scan, ~10x
    faster than intersecting `set(text)` (measured on the seeds)."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(traditional_chars())) + "]")


def count_traditional(text: str) -> int:
    """How many characters of `text` are Traditional-only."""
    return len(_traditional_re().findall(text))


def detect_script(text: str) -> Script:
    """'hant' when the text is written in Traditional characters, else 'hans'."""
    hits = count_traditional(text)
    if hits < _HANT_MIN_CHARS:
        return "hans"
    cjk = len(_HAS_CJK.findall(text))
    return "hant" if hits >= _HANT_MIN_SHARE * cjk else "hans"


def to_simplified(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s); text without Traditional characters is returned as is."""
    if _traditional_re().search(text) is None:
        return text
    return str(_t2s().convert(text))


def fold_width(text: str) -> str:
    """Fullwidth digits, Latin letters and number signs → ASCII (1:1, positions kept)."""
    if _FULLWIDTH.search(text) is None:  # the common case; str.translate with a dict is slow
        return text
    return text.translate(_HALFWIDTH)


def _paren_pair(m: re.Match[str]) -> str:
    inner = m.group(1)
    s, e = m.span()
    text = m.string
    touches = (s > 0 and _HAS_CJK.match(text, s - 1) is not None) or (
        e < len(text) and _HAS_CJK.match(text, e) is not None
    )
    if touches or _HAS_CJK.search(inner):
        return f"（{inner}）"
    return m.group(0)


def _punctuation(text: str) -> str:
    for _ in range(4):  # nested pairs convert innermost first
        new = _ASCII_PAREN_PAIR.sub(_paren_pair, text)
        if new == text:
            break
        text = new
    return _PUNCT_BETWEEN_CJK.sub(lambda m: m.group(0).translate(_TO_FULLWIDTH), text)


def _canonical_lines(text: str) -> list[str]:
    """Width, punctuation and whitespace over a whole text at once, then one stripped
    non-empty line per paragraph. No rule looks across a newline, so this equals
    normalizing line by line, at a few regex calls per page instead of per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _punctuation(fold_width(text))
    return [line for line in (raw.strip() for raw in text.split("\n")) if line]


def normalize_text(line: str) -> str:
    """One line into the canonical form (Simplified is not applied here; see normalize_paragraphs)."""
    return " ".join(_canonical_lines(line))


def normalize_paragraphs(paragraphs: list[str], script: Script) -> list[str]:
    """Canonical paragraphs, one per line; converts to Simplified when script == 'hant'.

    Conversion runs once over the joined text (one call into OpenCC, phrase rules see
    whole sentences) and only for Traditional input.
    """
    text = "\n".join(paragraphs)
    if script == "hant":
        text = to_simplified(text)
    return _canonical_lines(text)
