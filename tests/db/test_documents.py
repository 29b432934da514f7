"""Idempotent document writes against a real PostgreSQL."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import psycopg
import pytest

from govingest.db.documents import write_documents
from govingest.parsers.model import Fact
from tests.db.helpers import add_url, count, make_doc, write_one, writes

TEXT = "一、总体情况\n全市检查企业29136家，约1.84万人次参与。\n二、下一步\n继续加强监管。"


@pytest.fixture
def conn(migrated_database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated_database_url, autocommit=True) as c:
        yield c


def events(conn: psycopg.Connection) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT document_id, kind FROM doc_events ORDER BY seq")]


def test_new_document_is_created_with_sections_facts_and_one_event(conn: psycopg.Connection) -> None:
    url_id = add_url(conn, "https://www.gov.cn/a/1.html")
    res = write_one(conn, url_id, make_doc(TEXT, facts=3))
    assert res.kind == "created"
    assert events(conn) == [(res.document_id, "created")]
    assert conn.execute("SELECT url, site, title, published_date::text, text FROM documents").fetchall() == [
        ("https://www.gov.cn/a/1.html", "t", "标题", "2024-03-05", TEXT)]
    assert conn.execute("SELECT number, parent, depth, marker FROM sections ORDER BY ord").fetchall() == [
        ("1", None, 0, "一、"), ("1.1", "1", 1, "(一)"), ("2", None, 0, "二、")]
    assert conn.execute("SELECT indicator, value, unit, qualifier, section FROM facts ORDER BY ord").fetchall()[1] == (
        "检查企业1", 29137.0, "家", "about", "1.1")


def test_same_document_twice_writes_nothing_the_second_time(conn: psycopg.Connection) -> None:
    url_id = add_url(conn, "https://www.gov.cn/a/1.html")
    first = write_one(conn, url_id, make_doc(TEXT))
    row_version = conn.execute("SELECT xmin::text FROM documents").fetchone()
    second = write_one(conn, url_id, make_doc(TEXT))
    assert (second.kind, second.document_id) == ("unchanged", first.document_id)
    assert count(conn, "SELECT count(*) FROM documents") == 1
    assert events(conn) == [(first.document_id, "created")]
    # the row was not rewritten at all (same tuple version)
    assert conn.execute("SELECT xmin::text FROM documents").fetchone() == row_version


def test_changed_document_is_replaced_with_one_updated_event(conn: psycopg.Connection) -> None:
    url_id = add_url(conn, "https://www.gov.cn/a/1.html")
    first = write_one(conn, url_id, make_doc(TEXT, facts=3))
    changed = make_doc(TEXT + "\n新增一段。", facts=1)
    res = write_one(conn, url_id, changed)
    assert (res.kind, res.document_id) == ("updated", first.document_id)
    assert events(conn) == [(first.document_id, "created"), (first.document_id, "updated")]
    assert count(conn, "SELECT count(*) FROM facts") == 1  # old facts replaced, not appended
    assert count(conn, "SELECT count(*) FROM sections") == 3
    assert conn.execute("SELECT text FROM documents").fetchone() == (TEXT + "\n新增一段。",)
    # a title-only change (same text, same content hash) is still a change consumers must see
    retitled = make_doc(TEXT + "\n新增一段。", facts=1, title="新标题")
    assert write_one(conn, url_id, retitled).kind == "updated"
    assert len(events(conn)) == 3


def test_failure_mid_transaction_leaves_nothing_partial(conn: psycopg.Connection) -> None:
    url_id = add_url(conn, "https://www.gov.cn/a/1.html")
    good = make_doc(TEXT, facts=2)
    write_one(conn, url_id, good)
    before = conn.execute("SELECT text, output_hash FROM documents").fetchone()
    # the document and its sections are written, then a fact violates NOT NULL (indicator)
    bad = make_doc(TEXT + "改", facts=2)
    bad.facts.append(Fact(indicator=None, value=1, unit="家", qualifier=None, span=(0, 1), section=None))  # type: ignore[arg-type]
    with pytest.raises(psycopg.errors.NotNullViolation):
        write_one(conn, url_id, bad)
    assert conn.execute("SELECT text, output_hash FROM documents").fetchone() == before
    assert count(conn, "SELECT count(*) FROM facts") == 2
    assert count(conn, "SELECT count(*) FROM sections") == 3
    assert [k for _, k in events(conn)] == ["created"]
    # and a new document failing the same way leaves no row at all
    other = add_url(conn, "https://www.gov.cn/a/2.html")
    with pytest.raises(psycopg.errors.NotNullViolation):
        write_one(conn, other, bad)
    assert count(conn, "SELECT count(*) FROM documents") == 1
    assert count(conn, "SELECT count(*) FROM doc_lsh_bands b JOIN documents d ON d.id=b.document_id "
                       "WHERE d.url_id = %s", other) == 0


def test_batch_write_matches_single_writes(conn: psycopg.Connection) -> None:
    ids = [add_url(conn, f"https://www.gov.cn/a/{i}.html") for i in range(5)]
    docs = [make_doc(f"{TEXT}\n第{i}篇。", facts=i) for i in range(5)]
    res = write_documents(conn, writes(ids, docs))
    assert [r.kind for r in res] == ["created"] * 5
    assert count(conn, "SELECT count(*) FROM facts") == sum(range(5))
    again = write_documents(conn, writes(ids, docs))
    assert [r.kind for r in again] == ["unchanged"] * 5
    docs[2] = make_doc("完全不同的内容。", facts=1)
    mixed = write_documents(conn, writes(ids, docs))
    assert [r.kind for r in mixed] == ["unchanged", "unchanged", "updated", "unchanged", "unchanged"]
    assert count(conn, "SELECT count(*) FROM doc_events") == 6


def test_near_duplicates_share_a_cluster(conn: psycopg.Connection) -> None:
    base = "关于开展全市安全生产大检查的通知。" * 3 + "各区县人民政府，市政府各部门：为切实做好安全生产工作，现将有关事项通知如下。" * 4
    near = base + "特此通知。"
    far = "二〇二四年第一季度国民经济运行情况：全市地区生产总值同比增长百分之五点二，规模以上工业增加值稳步增长。" * 3
    ids = [add_url(conn, f"https://www.gov.cn/c/{i}.html") for i in range(3)]
    a = write_one(conn, ids[0], make_doc(base, with_minhash=True))
    b = write_one(conn, ids[1], make_doc(near, with_minhash=True))
    c = write_one(conn, ids[2], make_doc(far, with_minhash=True))
    clusters = dict(conn.execute("SELECT id, cluster_id FROM documents").fetchall())
    assert clusters[a.document_id] == a.document_id
    assert clusters[b.document_id] == a.document_id
    assert clusters[c.document_id] == c.document_id


def test_a_large_repost_cluster_sends_one_candidate_per_cluster(conn: psycopg.Connection) -> None:
    """Gov notices are reposted by many sites: the 30th repost must not fetch and verify all
    29 earlier ones, only one representative of their cluster."""
    from govingest.db import neardup

    base = "关于开展全市安全生产大检查的通知。" * 3 + "各区县人民政府，市政府各部门：为切实做好安全生产工作，现将有关事项通知如下。" * 4
    doc = make_doc(base, with_minhash=True)
    first = None
    for i in range(30):
        url_id = add_url(conn, f"https://www.gov.cn/r/{i}.html")
        res = write_one(conn, url_id, doc)
        first = first or res.document_id
    assert {r[0] for r in conn.execute("SELECT cluster_id FROM documents")} == {first}
    bands = neardup.band_hashes(doc.signature.minhash)
    rows = conn.execute(neardup.CANDIDATES_SQL, neardup.candidate_params([(-1, bands)])).fetchall()
    assert [(r[0], r[3]) for r in rows] == [(-1, first)]
    assert len(bands) > 1
    # one representative per cluster: only the first repost keeps its bands, so the lookup
    # reads one row per band whatever the cluster's size
    assert count(conn, "SELECT count(DISTINCT document_id) FROM doc_lsh_bands") == 1
    assert count(conn, "SELECT count(*) FROM doc_lsh_bands") == len(bands)
    assert {r[0] for r in conn.execute("SELECT document_id FROM doc_lsh_bands")} == {first}


def test_concurrent_near_duplicates_join_one_cluster(migrated_database_url: str) -> None:
    """Two workers writing near-duplicates at once still agree (advisory band locks)."""
    base = "市人民政府办公室关于印发优化营商环境若干措施的通知，各有关单位要认真贯彻执行。" * 6
    with psycopg.connect(migrated_database_url, autocommit=True) as c:
        ids = [add_url(c, f"https://www.gov.cn/p/{i}.html") for i in range(6)]
    docs = [make_doc(base + "附" * (i % 3), with_minhash=True) for i in range(6)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with psycopg.connect(migrated_database_url, autocommit=True) as c:
                barrier.wait()
                write_one(c, ids[i], docs[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(migrated_database_url) as c:
        clusters = {r[0] for r in c.execute("SELECT cluster_id FROM documents")}
    assert len(clusters) == 1


def test_concurrent_writers_of_one_url_make_one_document(migrated_database_url: str) -> None:
    """Two workers processing the same URL at once: no error, one document, one 'created'."""
    with psycopg.connect(migrated_database_url, autocommit=True) as c:
        url_id = add_url(c, "https://www.gov.cn/same.html")
    barrier = threading.Barrier(4)
    kinds: list[str] = []
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with psycopg.connect(migrated_database_url, autocommit=True) as c:
                barrier.wait()
                kinds.append(write_one(c, url_id, make_doc(TEXT + "版" * (i % 2))).kind)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert kinds.count("created") == 1
    with psycopg.connect(migrated_database_url) as c:
        assert count(c, "SELECT count(*) FROM documents") == 1
        assert count(c, "SELECT count(*) FROM doc_events WHERE kind = 'created'") == 1
        assert count(c, "SELECT count(*) FROM doc_events") == 1 + kinds.count("updated")


def test_near_duplicates_in_one_batch_form_one_cluster(conn: psycopg.Connection) -> None:
    base = "关于做好二〇二四年防汛抗旱工作的通知。各乡镇人民政府、县直各单位：为切实做好防汛抗旱工作，确保安全度汛。" * 4
    ids = [add_url(conn, f"https://www.gov.cn/b/{i}.html") for i in range(3)]
    docs = [make_doc(base, with_minhash=True), make_doc(base + "附件：责任人名单。", with_minhash=True),
            make_doc("全县完成造林面积一万二千亩，森林覆盖率达到百分之六十三，生态环境持续改善。" * 4,
                     with_minhash=True)]
    res = write_documents(conn, writes(ids, docs))
    clusters = dict(conn.execute("SELECT id, cluster_id FROM documents").fetchall())
    assert clusters[res[0].document_id] == clusters[res[1].document_id] == res[0].document_id
    assert clusters[res[2].document_id] == res[2].document_id
    assert count(conn, "SELECT count(*) FROM documents WHERE cluster_id IS NULL") == 0
    # the far document changes into a near-duplicate of the first: it joins that cluster
    moved = write_one(conn, ids[2], make_doc(base + "特此通知。", with_minhash=True))
    assert moved.kind == "updated"
    assert conn.execute("SELECT cluster_id FROM documents WHERE id = %s",
                        (moved.document_id,)).fetchone() == (res[0].document_id,)


def test_worker_killed_mid_write_leaves_nothing(migrated_database_url: str) -> None:
    """A process that dies between the document rows and its commit leaves no trace."""
    import subprocess
    import sys
    from pathlib import Path

    with psycopg.connect(migrated_database_url, autocommit=True) as c:
        url_id = add_url(c, "https://www.gov.cn/killed.html")
    child = f"""
import os, psycopg
from tests.db.helpers import make_doc, write_one
conn = psycopg.connect({migrated_database_url!r})
conn.execute("SELECT 1")  # open a transaction: the write below becomes a savepoint in it
write_one(conn, {url_id}, make_doc("写到一半"))
assert conn.execute("SELECT count(*) FROM documents").fetchone() == (1,)  # written, uncommitted
os._exit(9)  # killed before COMMIT
"""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", child], cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    with psycopg.connect(migrated_database_url) as c:
        for table in ("documents", "sections", "facts", "doc_events", "doc_lsh_bands"):
            assert count(c, f"SELECT count(*) FROM {table}") == 0, table


def test_a_new_parse_field_needs_only_its_column(conn: psycopg.Connection) -> None:
    """A field the parse model marks as a column is stored once the table has it: db reads
    the columns' types from the catalog (again, after a migration added one) and lists
    them nowhere itself. Without the column the write fails, saying which migration is missing."""
    url_id = add_url(conn, "https://www.gov.cn/new-field.html")
    base = writes([url_id], [make_doc(TEXT)])[0]
    extended = dataclasses.replace(base, columns={**base.columns, "summary": "安全生产", "doc_refs": [3, 4]})
    with pytest.raises(LookupError, match=r"summary.*add a migration"):
        write_documents(conn, [extended])
    conn.rollback()
    assert count(conn, "SELECT count(*) FROM documents") == 0
    with conn.transaction():
        conn.execute("ALTER TABLE documents ADD COLUMN summary text, ADD COLUMN doc_refs bigint[]")
    assert write_documents(conn, [extended])[0].kind == "created"
    row = conn.execute("SELECT summary, doc_refs, title, flags->>'placeholders' FROM documents").fetchone()
    assert row == ("安全生产", [3, 4], "标题", "0")


def _stored(conn: psycopg.Connection, url_ids: list[int]) -> list[object]:
    """Everything a write stores for these URLs, in their order: ids, URLs and timestamps
    (which differ between two writes of the same inputs) left out, clusters as the
    position of the document each one's cluster is named after."""
    position = dict(conn.execute(
        "SELECT id, array_position(%s::bigint[], url_id) FROM documents WHERE url_id = ANY(%s)",
        (url_ids, url_ids)).fetchall())
    out: list[object] = []
    for u in url_ids:
        row = conn.execute(
            "SELECT id, cluster_id, to_jsonb(d) - ARRAY['id', 'url_id', 'url', 'cluster_id', 'first_seen', "
            "'last_changed'] FROM documents d WHERE url_id = %s", (u,)).fetchone()
        assert row is not None
        doc_id = row[0]
        out.append((position[row[1]], row[2]))
        for table in ("sections", "facts", "citations", "doc_lsh_bands"):
            out.append(conn.execute(f"SELECT to_jsonb(t) - 'document_id' AS r FROM {table} t "
                                    "WHERE document_id = %s ORDER BY 1", (doc_id,)).fetchall())
        out.append(conn.execute("SELECT kind FROM doc_events WHERE document_id = %s ORDER BY seq",
                                (doc_id,)).fetchall())
        out.append(count(conn, "SELECT count(*) FROM search_pending WHERE document_id = %s", doc_id))
    return out


def test_one_by_one_and_batched_writes_store_the_same(conn: psycopg.Connection) -> None:
    """A document is a batch of one, but one document is sent differently (no pipeline, the
    rows in one statement with their children): the same inputs, written one by one and as
    one batch, store the same rows, events, bands, clusters and search queue rows —
    values that travel as JSON included (quotes, backslashes, control and non-BMP
    characters, jsonb, an empty MinHash and removed list, 64-bit hashes)."""
    base = "关于开展全市安全生产大检查的通知。" * 3 + "各区县人民政府，市政府各部门：为切实做好安全生产工作。" * 4
    odd = 'Quote " backslash \\ tab\t newline\n ctrl\x01 emoji 😀 {braces} ,comma (paren)'
    docs = [make_doc(base, with_minhash=True), make_doc(base + "特此通知。", with_minhash=True),
            make_doc(TEXT + odd, title=odd, facts=3, doc_number="国发〔2024〕1号"),
            make_doc("二〇二四年第一季度全市地区生产总值同比增长百分之五点二。" * 3, with_minhash=True)]
    docs[2].removed.clear()
    docs[3].removed.append(odd)
    big = dataclasses.replace(docs[3].signature, minhash=[2**63 - 1, 0, *docs[3].signature.minhash[2:]])
    docs[3] = dataclasses.replace(docs[3], signature=big)
    # then a second round: updates (their own statement, then the children), one of them a
    # near-copy that moves into the first's cluster, and one unchanged document
    again = [make_doc(base + "（修订）", with_minhash=True), make_doc(base + "特此通知。", with_minhash=True, facts=1),
             docs[2], make_doc(base + "附件。", with_minhash=True)]
    stored = []
    for one_by_one in (True, False):
        ids = [add_url(conn, f"https://www.gov.cn/{'one' if one_by_one else 'batch'}/{i}.html") for i in range(4)]
        for round_docs in (docs, again):
            if one_by_one:
                for u, d in zip(ids, round_docs, strict=True):
                    write_one(conn, u, d)
            else:
                write_documents(conn, writes(ids, round_docs))
            stored.append(_stored(conn, ids))
        with conn.transaction():  # the second set must not find the first's near-duplicates
            conn.execute("TRUNCATE documents CASCADE")
    assert stored[0] == stored[2] and stored[1] == stored[3]
    assert [entry[0] for entry in stored[0][::7]] == [1, 1, 3, 4]  # the near-copy joined the first
    assert [entry[0] for entry in stored[1][::7]] == [1, 1, 3, 1]
    assert [len(entry) for entry in stored[1][5::7]] == [2, 2, 1, 2]  # events: created (+ updated)


def test_a_write_reads_back_what_the_parse_gave(conn: psycopg.Connection) -> None:
    """The columns travel as JSON: text, jsonb, dates and the MinHash read back as written;
    an empty MinHash is NULL (no MinHash), an empty removed list an empty jsonb array."""
    odd = 'Quote " backslash \\ tab\t newline\n ctrl\x01 emoji 😀'
    doc = make_doc(TEXT + odd, title=odd, with_minhash=True)
    url_id = add_url(conn, "https://www.gov.cn/round-trip.html")
    write_one(conn, url_id, doc)
    row = conn.execute("SELECT title, text, published_date::text, minhash, removed, outline, flags FROM documents"
                       ).fetchone()
    assert row is not None
    assert row[:4] == (odd, TEXT + odd, "2024-03-05", doc.signature.minhash)
    assert row[4] == doc.removed and row[5] == [n.to_json() for n in doc.outline]
    assert row[6] == dataclasses.asdict(doc.flags)
    bare = make_doc("没有指纹的文档。")
    bare.removed.clear()
    other = add_url(conn, "https://www.gov.cn/bare.html")
    write_one(conn, other, bare)
    assert conn.execute("SELECT minhash, removed FROM documents WHERE url_id = %s", (other,)).fetchone() == (None, [])


def test_a_url_with_no_row_fails_before_anything_is_written(conn: psycopg.Connection) -> None:
    known = add_url(conn, "https://www.gov.cn/known.html")
    with pytest.raises(LookupError, match=r"url ids \[987654\] have no row in urls"):
        write_documents(conn, writes([known, 987654], [make_doc(TEXT), make_doc(TEXT + "二")]))
    assert count(conn, "SELECT count(*) FROM documents") == 0
    assert count(conn, "SELECT count(*) FROM doc_events") == 0


def test_a_write_heals_only_urls_whose_parse_failed(conn: psycopg.Connection) -> None:
    """A URL whose last parse failed (a content error) is `done` again once its document is
    written, in a batch or alone; one that failed to fetch, or is healthy, is left as it is."""
    from govingest.db.frontier import record_parse_failure
    from govingest.states import ErrorKind

    ids = [add_url(conn, f"https://www.gov.cn/heal/{i}.html") for i in range(4)]
    with conn.transaction():
        record_parse_failure(conn, ids[0], kind=ErrorKind.PARSE, message="no text")
        record_parse_failure(conn, ids[2], kind=ErrorKind.NEEDS_OCR, message="scanned")
        conn.execute("UPDATE urls SET state = 'failed', last_error_kind = 'server_error', last_error = '502' "
                     "WHERE id = %s", (ids[1],))
    before = dict(conn.execute("SELECT id, state FROM urls WHERE id = %s", (ids[3],)).fetchall())
    write_documents(conn, writes(ids[:2], [make_doc(TEXT), make_doc(TEXT + "二")]))
    write_one(conn, ids[2], make_doc(TEXT + "三"))
    write_one(conn, ids[3], make_doc(TEXT + "四"))
    states = {r[0]: r[1:] for r in conn.execute("SELECT id, state, last_error_kind, last_error FROM urls")}
    assert states[ids[0]] == ("done", None, None)
    assert states[ids[1]] == ("failed", "server_error", "502")
    assert states[ids[2]] == ("done", None, None)
    assert states[ids[3]][0] == before[ids[3]]


def test_one_document_writes_plan_their_statements_once(conn: psycopg.Connection) -> None:
    """The write's statements use generic plans (planned once per connection, whatever the
    batch size): under the default the opening statement was planned again on every
    one-document write. psycopg prepares a statement on its sixth execution."""
    ids = [add_url(conn, f"https://www.gov.cn/plan/{i}.html") for i in range(8)]
    for i, u in enumerate(ids):
        write_one(conn, u, make_doc(f"{TEXT}\n第{i}篇。"))
    plans = conn.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                         "WHERE statement LIKE '%%documents%%'").fetchall()
    assert len(plans) >= 2  # the opening statement and the documents' INSERT with the children
    assert all(custom == 0 and generic > 0 for _, generic, custom in plans), plans


def test_a_write_inside_a_callers_transaction_leaves_its_plan_settings_alone(conn: psycopg.Connection) -> None:
    """The write's own transaction takes generic plans and no sequential scans; nested in a
    caller's transaction it must not change how the caller's later statements are planned."""
    settings = "SELECT current_setting('enable_seqscan'), current_setting('plan_cache_mode')"
    u = add_url(conn, "https://www.gov.cn/plan/nested.html")
    with conn.transaction():
        before = conn.execute(settings).fetchone()
        assert write_one(conn, u, make_doc(TEXT)).kind == "created"
        assert conn.execute(settings).fetchone() == before
    assert count(conn, "SELECT count(*) FROM documents WHERE url_id = %s", u) == 1


def test_a_near_copy_batched_beside_its_unchanged_original_joins_its_cluster(conn: psycopg.Connection) -> None:
    """A reparse batch holds an unchanged document and a changed near-copy of it: the copy
    joins the original's cluster, as it does written alone (the batch's unchanged URLs
    used to be excluded from the near-duplicate lookup with the rewritten ones)."""
    base = "关于开展全市安全生产大检查的通知。" * 3 + "各区县人民政府，市政府各部门：为切实做好安全生产工作。" * 4
    original, copy = make_doc(base, with_minhash=True), make_doc(base + "特此通知。", with_minhash=True)
    far = make_doc("二〇二四年第一季度全市地区生产总值同比增长百分之五点二。" * 3, with_minhash=True)
    ids = [add_url(conn, f"https://www.gov.cn/reparse/{i}.html") for i in range(2)]
    first = write_documents(conn, writes(ids, [original, far]))
    second = write_documents(conn, writes(ids, [original, copy]))
    assert [r.kind for r in second] == ["unchanged", "updated"]
    clusters = dict(conn.execute("SELECT url_id, cluster_id FROM documents WHERE url_id = ANY(%s)", [ids]).fetchall())
    assert clusters[ids[1]] == clusters[ids[0]] == first[0].document_id
