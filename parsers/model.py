"""Typed data passed between the parse stages.

Every stage in `parsers/` takes and returns these dataclasses (or plain str/bytes),
so the in-process runner, the Celery tasks and the tests all speak the same types.
`ParsedDocument.to_json()` is the `govingest parse` contract of DESIGN.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date
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

    kind = "parse"  # the error kind recorded on the URL

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @classmethod
    def from_crash(cls, exc: Exception) -> ParseError:
        """A parser bug met on one input, as that input's one-line reason: callers record
        it and go on to the next input instead of stopping."""
        return cls(f"parser error {type(exc).__name__}: {exc} "
                   "(a bug in govingest: please report it with this input)")


class ScriptFilledError(ParseError):
    """The page's body is filled in by script (parsers.scripted): never a document of its
    footer. `api_url` is the URL the script reads the body from, when the page names it."""

    kind = "script_filled"

    def __init__(self, reason: str, api_url: str | None = None) -> None:
        super().__init__(reason)
        self.api_url = api_url


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


# Field metadata: the field is a column of `documents` (same name; a migration adds it).
# `hashed=False` leaves it out of the output hash that decides whether a reparse
# rewrites the document (the outline is hashed through its `sections` rows instead).
COLUMN: dict[str, Any] = {"column": True, "hashed": True}
COLUMN_NOT_HASHED: dict[str, Any] = {"column": True, "hashed": False}


def _column_value(value: Any) -> Any:
    """A field's value as the database stores it: dataclasses and nodes as JSON-able data."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list):
        return [v.to_json() if hasattr(v, "to_json") else v for v in value]
    return value


def published_date(value: str | None) -> date | None:
    """The date part of a `published_at` ("YYYY-MM-DD[THH:MM]"), None when there is none."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass
class ParsedDocument:
    """One parse. Fields marked COLUMN are stored in `documents` as they are: adding one
    here plus a migration adding the column is all it takes to store a new field."""

    url: str | None
    title: str | None = field(metadata=COLUMN)
    published_at: str | None = field(metadata=COLUMN)
    source: str | None = field(metadata=COLUMN)
    site_name: str | None = field(metadata=COLUMN)
    script: Script = field(metadata=COLUMN)
    text: str = field(metadata=COLUMN)
    outline: list[OutlineNode] = field(metadata=COLUMN_NOT_HASHED)
    facts: list[Fact]  # rows of `facts`
    flags: Flags = field(metadata=COLUMN)
    removed: list[str] = field(metadata=COLUMN)
    signature: Signature  # stored as content_hash and minhash (see `columns`)
    encoding: str | None = field(default=None, metadata=COLUMN)
    extract_method: str | None = field(default=None, metadata=COLUMN)
    parser_version: str = field(default=PARSER_VERSION, metadata=COLUMN_NOT_HASHED)
    rules_hit: dict[str, int] = field(default_factory=dict)  # site rules that matched (parsers.site_rules)

    def columns(self) -> dict[str, Any]:
        """`documents` columns of this parse (name → value); jsonb values as JSON-able data."""
        out = {f.name: _column_value(getattr(self, f.name)) for f in fields(self) if f.metadata.get("column")}
        out["published_date"] = published_date(self.published_at)
        out["content_hash"] = self.signature.content_hash
        out["minhash"] = list(self.signature.minhash)
        return out

    def hashed_values(self) -> list[Any]:
        """What a consumer sees of this parse besides its sections and facts, in field
        order: the input of the output hash (a change here means a rewrite)."""
        return [self.url, *(_column_value(getattr(self, f.name)) for f in fields(self)
                            if f.metadata.get("column") and f.metadata.get("hashed"))]

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
