"""Typed data passed between the parse stages.

Every stage in `parsers/` takes and returns these dataclasses (or plain str/bytes),
so the in-process runner, the Celery tasks and the tests all speak the same types.
`ParsedDocument.to_json()` is the `govingest parse` contract of DESIGN.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date
from typing import Any, Literal

from govingest.states import ErrorKind

Script = Literal["hans", "hant"]
Qualifier = Literal["about", "at_least", "nearly", "at_most"]
DocumentKind = Literal["article", "attachment"]

# Bump when a change to any stage can change parse output: `govingest reparse`
# rewrites only documents whose stored parser_version or content differ.
PARSER_VERSION = "3"  # 3: the search vector (parsers/search.py), re-indexed by reparse


class ParseError(Exception):
    """A page that cannot become a document (binary, empty, no body).

    `reason` is one line meant for a person: what is wrong with the input; `kind` is
    the error kind recorded on the URL (`parse`, `script_filled`, `needs_ocr`,
    `attachment_corrupt` …), so `status` and `v_urls` readers tell them apart.
    """

    def __init__(self, reason: str, kind: ErrorKind = ErrorKind.PARSE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind

    @classmethod
    def from_crash(cls, exc: Exception) -> ParseError:
        """A parser bug met on one input, as that input's one-line reason: callers record
        it and go on to the next input instead of stopping."""
        return cls(f"parser error {type(exc).__name__}: {exc} "
                   "(a bug in govingest: please report it with this input)")


class ScriptFilledError(ParseError):
    """The page's body is filled in by script (parsers.scripted): never a document of its
    footer. `api_url` is the URL the script reads the body from, when the page names it."""

    def __init__(self, reason: str, api_url: str | None = None) -> None:
        super().__init__(reason, kind=ErrorKind.SCRIPT_FILLED)
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
    disclosure: Disclosure = field(default_factory=lambda: Disclosure())


@dataclass
class Disclosure:
    """The 政府信息公开 fields a page states (its disclosure table or label lines); None when absent."""

    index_number: str | None = None  # 索引号
    doc_number: str | None = None  # 文号, 发文字号: "国办发〔2024〕12号"
    issuer: str | None = None  # 发文机关, 发布机构
    written_at: str | None = None  # 成文日期, "YYYY-MM-DD"
    subject: str | None = None  # 主题分类
    validity: str | None = None  # 有效性: 有效 / 失效 / 废止 …
    title: str | None = None  # 标题 row of the table (used for the title, not output on its own)


@dataclass(frozen=True)
class Citation:
    """A document this one cites: 《title》 and/or a document number, with the title's kind (条例, 通知 …)."""

    title: str | None
    doc_number: str | None
    kind: str | None
    title_key: str | None = None  # the title as resolution matches it (parsers.citations.title_key)

    def to_json(self) -> dict[str, str | None]:
        return {"title": self.title, "doc_number": self.doc_number, "kind": self.kind}


@dataclass
class Extracted:
    """Body text as paragraphs, before cleaning and normalization."""

    paragraphs: list[str]
    method: str  # "container:<selector>", "blocks", "trafilatura", "text", "pdf", "docx" …
    truncated: bool = False  # an attachment cut at its page or size limit


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

    def to_json(self) -> dict[str, Any]:
        """The flags as a JSON object (`asdict`, without its deep copy: every field is a scalar)."""
        return dict(vars(self))


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
    if value is None or isinstance(value, str):  # most fields: returned before the costlier checks
        return value
    if hasattr(value, "to_json"):
        return value.to_json()
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
    kind: DocumentKind = field(default="article", metadata=COLUMN)
    # the 政府信息公开 fields (parsers/disclosure), null when the page states none
    index_number: str | None = field(default=None, metadata=COLUMN)
    doc_number: str | None = field(default=None, metadata=COLUMN)
    issuer: str | None = field(default=None, metadata=COLUMN)
    written_at: str | None = field(default=None, metadata=COLUMN)  # "YYYY-MM-DD"; a date column
    subject: str | None = field(default=None, metadata=COLUMN)
    validity: str | None = field(default=None, metadata=COLUMN)
    citations: list[Citation] = field(default_factory=list)  # rows of `citations`
    title_key: str | None = field(default=None, metadata=COLUMN)  # the title as citations match it
    rules_hit: dict[str, int] = field(default_factory=dict)  # site rules that matched (parsers.site_rules)

    @property
    def disclosure(self) -> Disclosure:
        return Disclosure(index_number=self.index_number, doc_number=self.doc_number, issuer=self.issuer,
                          written_at=self.written_at, subject=self.subject, validity=self.validity)

    def columns(self) -> dict[str, Any]:
        """`documents` columns of this parse (name → value); jsonb values as JSON-able data."""
        out = {name: _column_value(getattr(self, name)) for name in _COLUMN_FIELDS}
        out["published_date"] = published_date(self.published_at)
        out["written_at"] = published_date(self.written_at)
        out["content_hash"] = self.signature.content_hash
        out["minhash"] = list(self.signature.minhash)
        return out

    def hashed_values(self) -> list[Any]:
        """What a consumer sees of this parse besides its sections and facts, in field
        order: the input of the output hash (a change here means a rewrite)."""
        return [self.url, *(_column_value(getattr(self, name)) for name in _HASHED_FIELDS)]

    def to_json(self) -> dict[str, Any]:
        """The `govingest parse` object of DESIGN.md, nothing more."""
        return {
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "published_at": self.published_at,
            "source": self.source,
            "site_name": self.site_name,
            "index_number": self.index_number,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "written_at": self.written_at,
            "subject": self.subject,
            "validity": self.validity,
            "script": self.script,
            "text": self.text,
            "outline": [n.to_json() for n in self.outline],
            "facts": [f.to_json() for f in self.facts],
            "citations": [c.to_json() for c in self.citations],
            "flags": self.flags.to_json(),
            "removed": list(self.removed),
        }


# Which fields are columns, and which of those the output hash covers: read from the field
# metadata once, not on every document (`dataclasses.fields` builds its tuple each call).
_COLUMN_FIELDS = tuple(f.name for f in fields(ParsedDocument) if f.metadata.get("column"))
_HASHED_FIELDS = tuple(f.name for f in fields(ParsedDocument) if f.metadata.get("column") and f.metadata.get("hashed"))
