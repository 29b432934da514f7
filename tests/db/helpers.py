"""Builders shared by the db tests: real ParsedDocuments and registered URLs."""
from __future__ import annotations

import hashlib

import psycopg
from datasketch import MinHash

from govingest.crawler.urls import host_key
from govingest.db.documents import DocumentWrite, WriteResult, write_documents
from govingest.db.frontier import ensure_site, register_url
from govingest.parsers.citations import title_key
from govingest.parsers.model import Citation, Fact, Flags, OutlineNode, ParsedDocument, Signature
from govingest.workers.stages.store import document_write


def minhash_of(text: str, num_perm: int = 128) -> list[int]:
    m = MinHash(num_perm=num_perm)
    for i in range(max(1, len(text) - 4)):
        m.update(text[i:i + 5].encode("utf-8"))
    return [int(v) for v in m.hashvalues]


def make_doc(text: str, *, title: str = "标题", facts: int = 2, with_minhash: bool = False,
             doc_number: str | None = None, cites: tuple[Citation, ...] = ()) -> ParsedDocument:
    """A document shaped like the parser's output: a two-level outline with facts in sections."""
    outline = [
        OutlineNode(marker="一、", heading="总体情况", start=0, end=2, number="1",
                    children=[OutlineNode(marker="(一)", heading="细项", start=1, end=2, number="1.1",
                                          items=["一是检查", "二是整改"])]),
        OutlineNode(marker="二、", heading="下一步", start=2, end=3, number="2"),
    ]
    fs = [Fact(indicator=f"检查企业{i}", value=29136 + i, unit="家", qualifier="about" if i % 2 else None,
               span=(i, i + 5), section="1.1") for i in range(facts)]
    return ParsedDocument(
        url=None, title=title, published_at="2024-03-05", source="市场监管局", site_name="某市政府",
        script="hans", text=text, outline=outline, facts=fs, flags=Flags(), removed=["扫一扫在手机上查看当前页面"],
        signature=Signature(hashlib.sha256(text.encode()).hexdigest(), minhash_of(text) if with_minhash else []),
        encoding="utf-8", extract_method="text",
        doc_number=doc_number, issuer="市场监管局", citations=list(cites),
        title_key=title_key(title),
    )


def add_url(conn: psycopg.Connection, url: str, site: str = "t") -> int:
    with conn.transaction():
        ensure_site(conn, site)
        return register_url(conn, url=url, site=site, host=host_key(url))


def count(conn: psycopg.Connection, sql: str, *params: object) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def writes(url_ids: list[int], docs: list[ParsedDocument], site: str = "t") -> list[DocumentWrite]:
    """What the process stage hands `write_documents` for these parses (its own converter)."""
    return [document_write(u, site, None, d) for u, d in zip(url_ids, docs, strict=True)]


def write_one(conn: psycopg.Connection, url_id: int, doc: ParsedDocument, site: str = "t") -> WriteResult:
    """Store one parse the way the process stage does: a batch of one."""
    return write_documents(conn, writes([url_id], [doc], site))[0]
