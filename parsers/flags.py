"""flags: truncated/hidden_chars, template placeholders, aggregator (document-sharing) pages.

Consumers filter on these: a truncated page must not be counted as the full document,
a template with `*家` blanks carries no real figures, and aggregator copies
(小编为大家整理…) are reposts to cluster with the original, not new documents.
The wrappers that prove truncation and aggregation are removed by `clean`, so the
raw (pre-clean) paragraphs are read here; Traditional wrappers are matched after t2s.
"""
from __future__ import annotations

import re

from govingest.parsers.model import Flags
from govingest.parsers.normalize import to_simplified

_HIDDEN = re.compile(r"此处隐藏\s*[:：]?\s*(\d+)\s*字")
_TRUNCATED = re.compile(r"此处隐藏|下载后查看|余下全文|剩余\s*\d+\s*字|(?:下载|登录)后(?:阅读|查看)全文")
_AGGREGATOR = re.compile(
    r"小编为大家(?:精心)?(?:整理|收集|搜集|准备|带来|分享)|网友投稿|网友上传|推荐访问\s*[:：]|供大家参考|相关热词搜索"
)
# A blank: asterisks, × or XX standing where a number belongs, right before a unit,
# 万/亿, a date part or a percent sign (*家, *万元, *月*日, *%).
_PLACEHOLDER = re.compile(
    r"(?:\*+|×+|X{2,}|x{2,}|＊+)(?=[万亿千百]?(?:[家个处起人次份栋座条名件项所辆场篇月日年号%％]|元|公里|吨))"
)


def detect_flags(raw_paragraphs: list[str], kept_paragraphs: list[str]) -> Flags:
    """raw = before clean (sees 此处隐藏N字 wrappers), kept = after (counts blanks in the body)."""
    raw = to_simplified("\n".join(raw_paragraphs))
    hidden = _HIDDEN.search(raw)
    return Flags(
        truncated=bool(_TRUNCATED.search(raw)),
        hidden_chars=int(hidden.group(1)) if hidden else None,
        placeholders=len(_PLACEHOLDER.findall("\n".join(kept_paragraphs))),
        aggregator=bool(_AGGREGATOR.search(raw)),
    )
