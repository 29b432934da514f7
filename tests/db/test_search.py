"""Chinese full-text search: writes queue, the index stage indexes, SQL and Python agree,
govingest_search ranks and filters."""
from __future__ import annotations

import psycopg
import pytest

from govingest.db import search_index
from govingest.db.reader import SearchFilters, act_as_reader, search
from govingest.parsers.search import grams_vector, query_words, search_vector
from govingest.stats import Stats
from govingest.workers.stages.index import index_all, index_queued
from tests.conftest import SEEDS
from tests.db.helpers import add_url, count, make_doc, write_one

CASES = [
    ("福建省安全生产条例", "一、总体情况\n检查企业29136家，ABC公司 2024年。市 县", "闽政〔2024〕3号"),
    (None, "", None),
    ("x", "单", None),
    ("标题", "第" * 20000, None),  # positions past 16383 are clamped, as PostgreSQL does
]


def test_sql_backfill_computes_the_same_bigrams_as_python(migrated_database_url: str) -> None:
    texts = [*CASES, *[(None, p.read_text(encoding="utf-8"), None) for p in sorted(SEEDS.glob("*.txt"))]]
    with psycopg.connect(migrated_database_url) as conn:
        for title, body, number in texts:
            python = conn.execute("SELECT %s::tsvector::text", (grams_vector(title, body, number),)).fetchone()
            sql = conn.execute("SELECT govingest_search_grams_vector(%s, %s, %s)::text", (title, body, number)).fetchone()
            assert python == sql, (title, body[:40])


def test_vector_has_words_bigrams_and_title_weight() -> None:
    v = search_vector("安全生产监督管理条例", "正文提到管理条例。", None).split()
    assert "'安全':1A" in v and "'管理条例':7A" in v and "'管理条例':16" in v  # words at their first character
    assert query_words("安全生产监督管理条例") == ["管理条例"]  # words of 3+ characters only


def _store(conn: psycopg.Connection, url: str, title: str, text: str, site: str = "t",
           doc_number: str | None = None) -> int:
    return write_one(conn, add_url(conn, url, site), make_doc(text, title=title, doc_number=doc_number), site).document_id


@pytest.fixture
def corpus(migrated_database_url: str) -> str:
    with psycopg.connect(migrated_database_url, autocommit=True) as conn:
        _store(conn, "https://a.gov.cn/1.html", "关于印发安全生产工作要点的通知", "全市检查企业29136家，落实管理条例。<script>x</script>")
        _store(conn, "https://a.gov.cn/2.html", "天气预报", "明日多云。安全生产月活动启动。")
        _store(conn, "https://b.gov.cn/3.html", "生产安全事故应急预案", "生产安全事故的应急处置。", site="b",
               doc_number="厦府〔2024〕7号")
        assert index_all(conn) == 3
    return migrated_database_url


def test_search_ranks_title_matches_first_and_needs_adjacent_characters(corpus: str) -> None:
    with psycopg.connect(corpus, autocommit=True) as conn:
        assert act_as_reader(conn)
        hits = search(conn, "安全生产", words=query_words("安全生产"))
        assert [h.url for h in hits] == ["https://a.gov.cn/1.html", "https://a.gov.cn/2.html"]  # title first
        assert hits[0].rank > hits[1].rank
        assert "<mark>安全生产</mark>" in hits[1].snippet
        # 生产安全 is not 安全生产: the bigram phrase needs the characters adjacent and in order
        assert [h.url for h in search(conn, "生产安全")] == ["https://b.gov.cn/3.html"]
        # the snippet is HTML: the document's own markup is escaped
        assert "&lt;script&gt;" in search(conn, "检查企业")[0].snippet
        assert search(conn, "企业 29136")[0].url == "https://a.gov.cn/1.html"  # terms ANDed, ASCII too
        assert search(conn, "企业 99999") == []


def test_search_filters(corpus: str) -> None:
    with psycopg.connect(corpus, autocommit=True) as conn:
        act_as_reader(conn)

        def urls(q: str, **kw: object) -> list[str]:
            return sorted(h.url for h in search(conn, q, filters=SearchFilters(**kw)))  # type: ignore[arg-type]

        assert urls("安全", site="b") == ["https://b.gov.cn/3.html"]
        assert urls("安全", doc_number="厦府〔2024〕7号") == ["https://b.gov.cn/3.html"]
        assert urls("安全", issuer="监管") == urls("安全") and len(urls("安全")) == 3
        assert urls("安全", issuer="海关") == []
        from datetime import date

        assert urls("安全", since=date(2024, 3, 5), until=date(2024, 3, 5)) == urls("安全")
        assert urls("安全", since=date(2024, 3, 6)) == []
        assert urls("安全", kind="attachment") == []


def _queued(conn: psycopg.Connection) -> int:
    return count(conn, "SELECT count(*) FROM search_pending")


def _tsv(conn: psycopg.Connection, url: str) -> str | None:
    row = conn.execute("SELECT si.tsv::text FROM documents d LEFT JOIN search_index si ON si.document_id = d.id "
                       "WHERE d.url = %s", (url,)).fetchone()
    assert row is not None
    return row[0]


def test_a_write_queues_and_the_index_stage_makes_it_searchable(corpus: str) -> None:
    with psycopg.connect(corpus, autocommit=True) as conn:
        conn.execute("UPDATE documents SET text = '全新的内容：防汛抗旱。' WHERE url = 'https://a.gov.cn/2.html'")
        assert _queued(conn) == 1
        with psycopg.connect(corpus, autocommit=True) as reader:
            act_as_reader(reader)
            assert search(reader, "防汛抗旱") == []  # not yet: the index stage has not run
            assert index_all(conn) == 1 and _queued(conn) == 0
            assert [h.url for h in search(reader, "防汛抗旱")] == ["https://a.gov.cn/2.html"]
            assert search(reader, "安全生产月") == []  # the old text's terms are gone
        conn.execute("UPDATE documents SET issuer = '别的机关'")  # not a searchable column: nothing queued
        assert _queued(conn) == 0


def test_a_vector_of_older_text_never_overwrites_a_newer_one(corpus: str) -> None:
    """A worker computes from text v1; the document is rewritten to v2 meanwhile; v1's vector
    is not stored and v2 stays queued (the ticket), so the index never ends with v1."""
    with psycopg.connect(corpus, autocommit=True) as conn:
        url = "https://a.gov.cn/2.html"
        conn.execute("UPDATE documents SET text = '第一版：植树造林。' WHERE url = %s", (url,))
        claimed = search_index.claim(conn, 10)
        assert [d.text for d in claimed] == ["第一版：植树造林。"]
        conn.execute("UPDATE documents SET text = '第二版：森林防火。' WHERE url = %s", (url,))
        stale = [search_index.IndexRow(d.document_id, d.ticket, d.site, d.kind, d.published_date,
                                       search_vector(d.title, d.text, d.doc_number)) for d in claimed]
        assert search_index.write(conn, stale) == 0  # superseded
        assert "植树" not in (_tsv(conn, url) or "")
        assert index_all(conn) == 1
        assert "'防火'" in (_tsv(conn, url) or "") and "植树" not in (_tsv(conn, url) or "")


def test_workers_side_by_side_take_different_documents_and_a_dead_ones_lease_runs_out(corpus: str) -> None:
    with psycopg.connect(corpus, autocommit=True) as a, psycopg.connect(corpus, autocommit=True) as b:
        a.execute("UPDATE documents SET title = title || '（修订）'")  # all three queued again
        first = search_index.claim(a, 2)
        second = search_index.claim(b, 10)
        assert len(first) == 2 and len(second) == 1
        assert not {d.document_id for d in first} & {d.document_id for d in second}
        assert search_index.claim(b, 10) == []  # everything is leased
        # worker a dies without writing: its lease runs out and b takes its documents
        a.execute("UPDATE search_pending SET claimed_until = now() - interval '1 second' "
                  "WHERE document_id = ANY(%s)", ([d.document_id for d in first],))
        assert index_queued(b) == 2
        assert _queued(b) == 1  # b's first claim is still leased to b


def test_a_document_whose_vector_the_server_refuses_never_blocks_the_queue(corpus: str) -> None:
    """A vector past PostgreSQL's 1 MB tsvector limit (a huge attachment of distinct text)
    leaves the queue unindexed; the documents claimed with it are indexed."""
    import random

    rng = random.Random(1)
    with psycopg.connect(corpus, autocommit=True) as conn:
        huge = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(400_000))
        big = _store(conn, "https://a.gov.cn/huge.html", "巨大附件", huge)
        conn.execute("UPDATE documents SET text = '全新的内容：防汛抗旱。' WHERE url = 'https://a.gov.cn/2.html'")
        stats = Stats()
        assert index_all(conn, stats=stats) == 2
        assert stats.counts["documents_index_refused"] == 1 and stats.counts["documents_indexed"] == 1
        assert _queued(conn) == 0
        assert count(conn, "SELECT count(*) FROM search_index WHERE document_id = %s", big) == 0
        assert "'防汛'" in (_tsv(conn, "https://a.gov.cn/2.html") or "")


def test_reparse_with_a_newer_parser_reindexes_unchanged_documents(corpus: str) -> None:
    with psycopg.connect(corpus, autocommit=True) as conn:
        url = "https://a.gov.cn/1.html"
        conn.execute("UPDATE search_index SET tsv = %s::tsvector", (grams_vector("旧", "旧的向量", None),))
        conn.execute("UPDATE documents SET parser_version = '0'")
        index_all(conn)  # the version change alone queued them: indexed again
        conn.execute("UPDATE search_index SET tsv = %s::tsvector", (grams_vector("旧", "旧的向量", None),))
        conn.execute("UPDATE documents SET parser_version = '0' WHERE url = %s", (url,))
        conn.execute("DELETE FROM search_pending")
        doc = make_doc("全市检查企业29136家，落实管理条例。<script>x</script>", title="关于印发安全生产工作要点的通知")
        url_id = conn.execute("SELECT url_id FROM documents WHERE url = %s", (url,)).fetchone()[0]  # type: ignore[index]
        assert write_one(conn, url_id, doc).kind == "unchanged"
        assert _queued(conn) == 1  # the newer parser version queued it
        index_all(conn)
        full = conn.execute("SELECT %s::tsvector::text", (search_vector(doc.title, doc.text, None),)).fetchone()
        assert full is not None and _tsv(conn, url) == full[0]


def test_sql_and_python_bigrams_agree_on_any_text(migrated_database_url: str) -> None:
    """Property: whatever the mix of Chinese runs, ASCII, punctuation and whitespace."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("安全生产条例市县单第abcXYZ019，。 \n《》、〔〕-_'\\\"㐀豈"))
    with psycopg.connect(migrated_database_url) as conn:

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.text(alphabet, max_size=12) | st.none(), st.text(alphabet, max_size=80),
               st.text(alphabet, max_size=8) | st.none())
        def check(title: str | None, body: str, number: str | None) -> None:
            python = conn.execute("SELECT %s::tsvector::text", (grams_vector(title, body, number),)).fetchone()
            sql = conn.execute("SELECT govingest_search_grams_vector(%s, %s, %s)::text",
                               (title, body, number)).fetchone()
            assert python == sql

        check()


def test_search_plans_read_only_the_candidates_vectors(migrated_database_url: str) -> None:
    """Migration 0112: without its cost setting the planner scans every stripped vector for
    a term that matches nothing, and without the MATERIALIZED ranking step it tests every
    positional vector for a term in a few documents (180-300 ms at 20k documents either
    way, bench/scale.py); a CREATE OR REPLACE of the function silently drops both."""
    with psycopg.connect(migrated_database_url) as conn:
        row = conn.execute("SELECT proconfig, prosrc FROM pg_proc WHERE proname = 'govingest_search_run'").fetchone()
    assert row is not None
    assert "cpu_operator_cost=0.1" in (row[0] or [])
    assert "ranked AS MATERIALIZED" in row[1]
