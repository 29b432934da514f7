"""`govingest status` counts documents by kind and what could not become a document, by why."""
from __future__ import annotations

from govingest.workers.cli.commands.status import document_lines


def test_documents_by_kind_and_content_failures_by_kind() -> None:
    lines = document_lines({"article": 5, "attachment": 3},
                           [("siming", "needs_ocr", 1), ("real", "needs_ocr", 2), ("real", "timeout", 4),
                            ("gbk", "script_filled", 1)])
    assert lines == ["documents: 5 articles, 3 attachments", "not stored as documents: needs_ocr 3, script_filled 1",
                     "search index: up to date"]
    assert document_lines({}, [])[1] == "not stored as documents: none"
    assert document_lines({}, [], (12, 90.0))[2] == "search index: 12 documents waiting, oldest 1.5m"
