"""The parse model's column values: what `documents` stores and the output hash covers."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from govingest.parsers.model import Flags, ParsedDocument
from govingest.parsers.pipeline import parse

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def _seed() -> ParsedDocument:
    doc = parse(sorted(SEEDS.glob("*.txt"))[0].read_bytes(), content_type="text/plain")
    doc.flags = Flags(truncated=True, hidden_chars=3, placeholders=2)
    return doc


def test_columns_are_the_fields_marked_as_columns() -> None:
    doc = _seed()
    marked = [f.name for f in dataclasses.fields(ParsedDocument) if f.metadata.get("column")]
    columns = doc.columns()
    assert [n for n in columns if n in marked] == marked
    assert columns["flags"] == dataclasses.asdict(doc.flags) == {
        "truncated": True, "hidden_chars": 3, "placeholders": 2, "aggregator": False}
    assert columns["outline"] == [n.to_json() for n in doc.outline]


def test_the_output_hash_covers_the_hashed_columns_in_field_order() -> None:
    doc = _seed()
    hashed = [f.name for f in dataclasses.fields(ParsedDocument)
              if f.metadata.get("column") and f.metadata.get("hashed")]
    assert "outline" not in hashed and "parser_version" not in hashed
    values = doc.hashed_values()
    assert values[0] == doc.url
    assert values[1:] == [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
                          for v in (getattr(doc, n) for n in hashed)]
