"""Typed data passed between the parse stages.

Every stage in `parsers/` takes and returns these dataclasses (or plain str/bytes),
so the in-process runner, the Celery tasks and the tests all speak the same types.
`ParsedDocument.to_json()` is the `govingest parse` contract of DESIGN.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Script = Literal["hans", "hant"]
Qualifier = Literal["about", "at_least", "nearly", "at_most"]

# Bump when a change to any stage can change parse output: `govingest reparse`
# rewrites only documents whose stored parser_version or content differ.
PARSER_VERSION = "1"


class ParseError(Exception):
    """A page that cannot become a document (binary, empty, no body).

    `reason` is one line meant for a person: what is wrong with the input.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @classmethod
    def from_crash(cls, exc: Exception) -> ParseError:
        """A parser bug met on one input, as that input's one-line reason: callers record
        it and go on to the next input instead of stopping."""
        return cls(f"parser error {type(exc).__name__}: {exc} "
                   "(a bug in govingest: please report it with this input)")


@dataclass(frozen=True)
class Decoded:
    """Text of a page plus how it was decoded (kept with the raw page)."""

    text: str
    encoding: str
    is_html: bool


@dataclass
class Metadata:
    title: str | None = None
    published_at: str | None = None  # "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM"
    source: str | None = None
    site_name: str | None = None
    column: str | None = None
    index_no: str | None = None  # 索引号
    doc_no: str | None = None  # 文号


@dataclass
class Extracted:
    """Body text as paragraphs, before cleaning and normalization."""

    paragraphs: list[str]
    method: str  # "container:<selector>", "trafilatura", "text"


@dataclass
class Cleaned:
    paragraphs: list[str]
    removed: list[str]  # the lines taken out, for auditing
    rules_hit: dict[str, int] = field(default_factory=dict)  # rule name -> lines removed


@dataclass
class OutlineNode:
    marker: str | None
    heading: str | None
    children: list[OutlineNode] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    # paragraph index range [start, end) in the text this section covers (internal)
    start: int = 0
    end: int = 0
    number: str = ""  # dotted section path "1.2" used by facts

    def to_json(self) -> dict[str, Any]:
        return {
            "marker": self.marker,
            "heading": self.heading,
            "children": [c.to_json() for c in self.children],
            "items": list(self.items),
        }


@dataclass
class Fact:
    indicator: str
    value: float | int
    unit: str
    qualifier: Qualifier | None
    span: tuple[int, int]
    section: str | None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["span"] = list(self.span)
        return d


@dataclass
class Flags:
    truncated: bool = False
    hidden_chars: int | None = None
    placeholders: int = 0
    aggregator: bool = False


@dataclass
class Signature:
    content_hash: str  # sha256 hex of the normalized text
    minhash: list[int]  # datasketch MinHash hashvalues over character 5-grams


@dataclass
class ParsedDocument:
    url: str | None
    title: str | None
    published_at: str | None
    source: str | None
    site_name: str | None
    script: Script
    text: str
    outline: list[OutlineNode]
    facts: list[Fact]
    flags: Flags
    removed: list[str]
    signature: Signature
    encoding: str | None = None
    extract_method: str | None = None
    parser_version: str = PARSER_VERSION

    def to_json(self) -> dict[str, Any]:
        """The `govingest parse` object of DESIGN.md, nothing more."""
        return {
            "url": self.url,
            "title": self.title,
            "published_at": self.published_at,
            "source": self.source,
            "site_name": self.site_name,
            "script": self.script,
            "text": self.text,
            "outline": [n.to_json() for n in self.outline],
            "facts": [f.to_json() for f in self.facts],
            "flags": asdict(self.flags),
            "removed": list(self.removed),
        }
