"""Costs as the frontier and the corpus grow: 10k → 100k → 1M URLs over 1,000 hosts.

    .venv/bin/python bench/scale.py            # 10k / 100k / 1M URLs, 2k / 20k / 200k documents
    .venv/bin/python bench/scale.py --quick    # 10k / 100k URLs, 2k / 20k documents (< 3 min)

Why a bench and not a test: these are timings, and the point is the growth curve, which
only one machine's run can show. A scratch database (dropped at the end) is grown in
steps; at each size the same operations are timed against it:

* write ms/doc — `write_documents` one document per transaction (the fleet's process task
  before micro-batching) and 20 per transaction, mixed unique documents and ~5% near-duplicates;
* index ms/doc — the search index stage (`workers/stages/index.py`) on those documents;
* search ms — `govingest_search` for a common term and for a rare one, as the reader;
* near-dup ms — a near-duplicate written into a 1-member cluster and into the largest cluster;
* claims/s — `claim_due` handing out URLs from 1,000 due hosts (leases given back after);
* status ms — every query `govingest status` runs (the broker's queue depths aside);
* housekeeping ms — the dispatcher's once-a-second chores: reaper, outstanding leases,
  lost pages, `fleet_status` (its settled check) and `seconds_until_due`;
* feed page ms — one 500-event page of the change feed from the middle;
* bytes/doc — documents, sections, facts, citations, events, LSH bands and the search
  index, indexes included.

The frontier is realistic in shape, not in bytes: 1,000 hosts over 100 sites, 60% of URLs
done, 20% new (due now), 10% failed, 10% gone, a list page per 50 URLs; one URL in five has a
document. Most documents are filled in SQL from real parsed seeds (their text, sections and
facts, each with its own MinHash and LSH bands); about 2.5% of them join five large clusters
(1,000 members each at 1M URLs) and 2.5% are pairs, so ~5% are near-duplicates. The timed
writes are real `parse` outputs with real MinHashes.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import replace
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store import server_url, shift_cjk, with_db  # noqa: E402

from govingest.db import feed as feed_db  # noqa: E402
from govingest.db import fleet as fleet_db  # noqa: E402
from govingest.db import frontier, reader  # noqa: E402
from govingest.db.documents import write_documents  # noqa: E402
from govingest.db.migrate import migrate  # noqa: E402
from govingest.parsers.model import ParsedDocument  # noqa: E402
from govingest.parsers.pipeline import parse  # noqa: E402
from govingest.parsers.search import query_words  # noqa: E402
from govingest.parsers.signature import sign  # noqa: E402
from govingest.workers.stages.index import index_all  # noqa: E402
from govingest.workers.stages.store import document_write  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
HOSTS, SITES, BIG_CLUSTERS = 1000, 100, 5
DOC_TABLES = ("documents", "sections", "facts", "citations", "doc_events", "doc_lsh_bands", "search_index",
              "search_pending")


# --- the frontier and the corpus, grown in SQL ------------------------------------------

# url id i: host i % 1000, site (i % 1000) / 10; a list page every 50 ids; state by i % 20
# (0-11 done, 12-15 new and due, 16-17 failed, 18-19 gone); a document for i % 20 in
# {1, 3, 6, 9}; ids with i % 20 == 2 are done articles kept free for the timed writes.
_URLS = """
INSERT INTO urls (id, url, site, host, kind, state, depth, discovered_from, next_fetch_at,
                  last_fetched_at, last_status, last_error_kind, last_error, dialect)
SELECT i, 'https://h' || (i %% 1000) || '.gov.cn/' || CASE WHEN i %% 50 = 0 THEN 'list/' ELSE 'art/' END || i || '.html',
       's' || (i %% 1000) / 10, 'h' || (i %% 1000) || '.gov.cn',
       CASE WHEN i %% 50 = 0 THEN 'list' WHEN i %% 97 = 5 THEN 'attachment' ELSE 'article' END,
       CASE WHEN i %% 20 < 12 THEN 'done' WHEN i %% 20 < 16 THEN 'new' WHEN i %% 20 < 18 THEN 'failed' ELSE 'gone' END,
       CASE WHEN i %% 50 = 0 THEN 0 ELSE 1 END,
       CASE WHEN i %% 50 = 0 OR i < 51 THEN NULL ELSE i - i %% 50 END,
       CASE WHEN i %% 20 BETWEEN 12 AND 15 THEN now() - interval '1 minute'
            ELSE now() + make_interval(secs => 3600 + i %% 86400) END,
       CASE WHEN i %% 20 < 12 OR i %% 20 >= 16 THEN now() - make_interval(secs => i %% 86400) END,
       CASE WHEN i %% 20 < 12 THEN 200 WHEN i %% 20 < 18 THEN 500 WHEN i %% 20 >= 18 THEN 404 END,
       CASE WHEN i %% 20 BETWEEN 16 AND 17 THEN 'http_5xx' WHEN i %% 20 >= 18 THEN 'http_4xx' END,
       CASE WHEN i %% 20 >= 16 THEN 'HTTP ' || CASE WHEN i %% 20 < 18 THEN 500 ELSE 404 END END,
       CASE WHEN i %% 50 = 0 AND i %% 20 < 12 THEN 'gkmlpt' END
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i"""


def grow_frontier(conn: psycopg.Connection, lo: int, hi: int) -> None:
    for a in range(lo, hi + 1, 100_000):  # chunks: one statement's memory stays small
        conn.execute(_URLS, {"lo": a, "hi": min(hi, a + 99_999)})
    conn.execute("SELECT setval('urls_id_seq', (SELECT max(id) FROM urls))")


def _cols(conn: psycopg.Connection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0
           AND NOT attisdropped ORDER BY attnum""", (table,)).fetchall()]


def grow_corpus(conn: psycopg.Connection, lo: int, hi: int, templates: list[int], reps: list[int]) -> None:
    """Documents for URL ids lo..hi: copies of the template documents (their text made
    unique), sections, facts, citations, a `created` event and LSH bands each; members of
    the big clusters share their representative's MinHash and bands, pairs their partner's."""
    cols = [c for c in _cols(conn, "documents") if c != "id"]
    over = {"url_id": "u.id", "url": "u.url", "site": "u.site", "page_id": "NULL",
            "title": "t.title || ' ' || u.id", "text": "t.text || '（' || u.id || '）'",
            "content_hash": "md5(u.url)", "output_hash": "md5(u.url || 'o')",
            "minhash": "CASE WHEN m.rep IS NULL THEN ARRAY(SELECT (random() * 9e18)::bigint "
                       "FROM generate_series(1, 128) WHERE u.id > 0) ELSE r.minhash END",
            "cluster_id": "r.id", "parent_url_id": "NULL"}
    select = ", ".join(over.get(c, f"t.{c}") for c in cols)
    n_t, reps_arr = len(templates), reps
    doc_ids = """(SELECT i FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i
                  WHERE i %% 20 IN (1, 3, 6, 9))"""
    # which template, and which representative (big cluster member: i % 20 = 9 every 10th row)
    conn.execute(f"""
        INSERT INTO documents ({", ".join(cols)})
        SELECT {select}
        FROM {doc_ids} g(i) JOIN urls u ON u.id = g.i
        CROSS JOIN LATERAL (SELECT CASE WHEN g.i %% 20 = 9 AND (g.i / 20) %% 10 = 0
                                        THEN (%(reps)s::bigint[])[1 + (g.i / 200) %% {len(reps_arr)}] END AS rep) m
        JOIN documents t ON t.id = (%(templates)s::bigint[])[1 + g.i %% {n_t}]
        LEFT JOIN documents r ON r.id = m.rep
        WHERE NOT (g.i %% 20 = 6 AND (g.i / 20) %% 10 = 0)""",
                 {"lo": lo, "hi": hi, "templates": templates, "reps": reps_arr})
    # pairs: i % 20 = 6 every 10th row is a near-duplicate of the document of i - 5
    conn.execute(f"""
        INSERT INTO documents ({", ".join(cols)})
        SELECT {select.replace("CASE WHEN m.rep IS NULL", "CASE WHEN false")}
        FROM (SELECT i FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i
              WHERE i %% 20 = 6 AND (i / 20) %% 10 = 0) g(i)
        JOIN urls u ON u.id = g.i
        JOIN documents r ON r.url_id = g.i - 5
        JOIN documents t ON t.id = (%(templates)s::bigint[])[1 + g.i %% {n_t}]
        CROSS JOIN LATERAL (SELECT r.id AS rep) m""", {"lo": lo, "hi": hi, "templates": templates})
    new = "(SELECT id, cluster_id FROM documents WHERE url_id BETWEEN %(lo)s AND %(hi)s AND site LIKE 's%%')"
    for table in ("sections", "facts", "citations"):
        c = [x for x in _cols(conn, table) if x != "document_id"]
        conn.execute(f"""INSERT INTO {table} (document_id, {", ".join(c)})
                         SELECT d.id, {", ".join("s." + x for x in c)}
                         FROM {new} d JOIN documents dd ON dd.id = d.id
                         JOIN urls u ON u.id = dd.url_id
                         JOIN {table} s ON s.document_id = (%(templates)s::bigint[])[1 + u.id %% {n_t}]""",
                     {"lo": lo, "hi": hi, "templates": templates})
    conn.execute(f"INSERT INTO doc_events (document_id, kind) SELECT id, 'created' FROM {new} d ORDER BY id",
                 {"lo": lo, "hi": hi})
    # bands: a unique document (its cluster's representative) has its own, a cluster member
    # stores none, as the write path does (db/neardup.representative_bands, migration 0081)
    conn.execute(f"""INSERT INTO doc_lsh_bands (document_id, band, hash)
                     SELECT d.id, b.band, (random() * 9e18)::bigint
                     FROM {new} d CROSS JOIN generate_series(0, %(bands)s - 1) b(band)
                     WHERE d.cluster_id IS NULL""", {"lo": lo, "hi": hi, "bands": _bands()})
    conn.execute("UPDATE documents SET cluster_id = id WHERE cluster_id IS NULL")
    # the search index: each copy gets its template's vectors (what indexing its text would
    # give but for the id suffix), and leaves the queue the insert put it in
    conn.execute(f"""INSERT INTO search_index (document_id, site, kind, published_date, grams, tsv)
                     SELECT d.id, dd.site, dd.kind, dd.published_date, s.grams, s.tsv
                     FROM {new} d JOIN documents dd ON dd.id = d.id
                     JOIN search_index s ON s.document_id = (%(templates)s::bigint[])[1 + dd.url_id %% {n_t}]""",
                 {"lo": lo, "hi": hi, "templates": templates})
    conn.execute(f"DELETE FROM search_pending WHERE document_id IN (SELECT id FROM {new} d)", {"lo": lo, "hi": hi})


def _bands() -> int:
    from govingest.db.neardup import band_params
    from govingest.parsers.signature import NUM_PERM

    return band_params(NUM_PERM)[0]


# --- real documents for the timed writes -------------------------------------------------

class Corpus:
    """Real parse outputs made distinct (shifted CJK, their own MinHash)."""

    def __init__(self) -> None:
        seeds = sorted((FIXTURES / "seeds").glob("*.txt"))
        self.templates = [parse(p.read_bytes(), content_type="text/plain") for p in seeds]
        self.n = 0

    def unique(self) -> ParsedDocument:
        self.n += 1
        base = self.templates[self.n % len(self.templates)]
        text = shift_cjk(base.text, 7919 * self.n)
        return replace(deepcopy(base), text=text, title=f"{base.title or ''}{self.n}", signature=sign(text))

    @staticmethod
    def near(of: ParsedDocument, tag: str) -> ParsedDocument:
        text = of.text + f"\n（转载{tag}）"
        return replace(deepcopy(of), text=text, title=f"{of.title}{tag}", signature=sign(text))


def register(conn: psycopg.Connection, site: str, n: int) -> list[int]:
    rows = conn.execute(
        """INSERT INTO urls (url, site, host, kind, state, last_fetched_at)
           SELECT 'https://' || %(site)s || '.gov.cn/' || md5(random()::text) || '.html', %(site)s,
                  %(site)s || '.gov.cn', 'article', 'done', now()
           FROM generate_series(1, %(n)s) RETURNING id""", {"site": site, "n": n}).fetchall()
    return [r[0] for r in rows]


def write(conn: psycopg.Connection, pairs: list[tuple[int, ParsedDocument]], site: str) -> None:
    write_documents(conn, [document_write(u, site, None, d) for u, d in pairs])


# --- the measurements --------------------------------------------------------------------

def scalar(conn: psycopg.Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median milliseconds of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return statistics.median(out)


def status_queries(conn: psycopg.Connection) -> None:
    """What `govingest status` reads (workers/cli/commands/status.py), the broker aside."""
    counts = reader.site_url_counts(conn)
    reader.sites_at_cap(conn)
    reader.recent_errors(conn, 10)
    reader.document_kinds(conn)
    reader.error_kinds(conn)
    reader.rule_hits(conn, None)
    reader.articles_by_dialect(conn, sorted({c[0] for c in counts}))
    reader.list_pages(conn, per_site=10)  # status shows 10 per site by default
    reader.fleet_row(conn)
    conn.commit()


def housekeeping(conn: psycopg.Connection) -> None:
    """The dispatcher's once-a-second chores (workers/fleet/dispatcher.py)."""
    frontier.reap_expired(conn)
    fleet_db.outstanding_leases(conn)
    fleet_db.claim_stale_pages(conn, older_than_seconds=120, limit=200)
    fleet_db.fleet_status(conn)
    frontier.seconds_until_due(conn)


def claims_per_second(conn: psycopg.Connection, want: int) -> float:
    owner = f"bench:{uuid.uuid4().hex[:6]}"
    got, start = 0, time.perf_counter()
    while got < want:
        claims = frontier.claim_due(conn, limit=100, lease_seconds=600, owner=owner)
        if not claims:
            break
        got += len(claims)
    elapsed = time.perf_counter() - start
    frontier.release_owners(conn, [owner])
    conn.execute("UPDATE hosts SET next_allowed_at = now()")
    conn.commit()
    return got / elapsed if elapsed else 0.0


def search_once(conn: psycopg.Connection, q: str) -> None:
    reader.act_as_reader(conn)
    try:
        reader.search(conn, q, words=query_words(q))
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET statement_timeout")
        conn.commit()


def feed_page(conn: psycopg.Connection, after: int) -> None:
    feed_db.read_events(conn, after=after, limit=500)
    conn.commit()


def doc_bytes(conn: psycopg.Connection) -> float:
    total = sum(scalar(conn, "SELECT pg_total_relation_size(%s::regclass)", (t,)) for t in DOC_TABLES)
    n = scalar(conn, "SELECT count(*) FROM documents")
    conn.commit()
    return total / max(1, n)


def measure(conn: psycopg.Connection, corpus: Corpus, reps: list[tuple[int, ParsedDocument]],
            size: int) -> dict[str, float]:
    # documents written for real, one per transaction and 20 per transaction, ~5% near-dups
    docs = []
    for k in range(120):
        docs.append(corpus.near(reps[k % len(reps)][1], f"w{size}-{k}") if k % 20 == 0 else corpus.unique())
    ids = register(conn, "wr", len(docs))
    conn.commit()
    start = time.perf_counter()
    for u, d in zip(ids[:60], docs[:60], strict=True):
        write(conn, [(u, d)], "wr")
    single = (time.perf_counter() - start) * 1000 / 60
    start = time.perf_counter()
    for b in range(60, 120, 20):
        write(conn, list(zip(ids[b:b + 20], docs[b:b + 20], strict=True)), "wr")
    batched = (time.perf_counter() - start) * 1000 / 60
    conn.commit()
    start = time.perf_counter()
    indexed = index_all(conn)
    index_ms = (time.perf_counter() - start) * 1000 / max(1, indexed)

    # near-duplicate into a 1-member cluster and into the largest
    lone_ms, big_ms = [], []
    for k in range(8):
        base = corpus.unique()
        fresh = register(conn, "wr", 3)
        write(conn, [(fresh[0], base)], "wr")
        near_lone, near_big = corpus.near(base, f"l{k}"), corpus.near(reps[0][1], f"b{size}-{k}")
        start = time.perf_counter()
        write(conn, [(fresh[1], near_lone)], "wr")
        lone_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        write(conn, [(fresh[2], near_big)], "wr")
        big_ms.append((time.perf_counter() - start) * 1000)
    big_members = scalar(conn, "SELECT count(*) FROM documents WHERE cluster_id = %s", (reps[0][0],))
    conn.execute("ANALYZE")
    conn.commit()
    middle = scalar(conn, "SELECT seq FROM doc_events ORDER BY seq OFFSET (SELECT count(*) / 2 FROM doc_events) "
                          "LIMIT 1")
    conn.commit()
    return {
        "urls": scalar(conn, "SELECT count(*) FROM urls"),
        "docs": scalar(conn, "SELECT count(*) FROM documents"),
        "write_ms": single, "write_batch_ms": batched, "index_ms": index_ms,
        "search_common_ms": timed(lambda: search_once(conn, "安全生产"), 3),
        "search_rare_ms": timed(lambda: search_once(conn, "转载w"), 3),
        "neardup_lone_ms": statistics.median(lone_ms), "neardup_big_ms": statistics.median(big_ms),
        "big_members": big_members,
        "claims_per_s": statistics.median([claims_per_second(conn, 2000) for _ in range(3)]),
        "status_ms": timed(lambda: status_queries(conn), 3),
        "housekeeping_ms": timed(lambda: housekeeping(conn), 5),
        "feed_ms": timed(lambda: feed_page(conn, middle), 5),
        "bytes_per_doc": doc_bytes(conn),
        "bytes_per_url": scalar(conn, "SELECT pg_total_relation_size('urls')")
        / max(1, scalar(conn, "SELECT count(*) FROM urls")),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k URLs only (under 3 minutes)")
    args = ap.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    began = time.perf_counter()
    corpus = Corpus()

    server, handle = server_url()
    name = f"govingest_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    rows = []
    try:
        with psycopg.connect(with_db(server, name)) as conn:
            migrate(conn)
            conn.commit()
            conn.execute("INSERT INTO sites (name) SELECT 's' || g FROM generate_series(0, %s - 1) g", (SITES,))
            conn.execute("INSERT INTO sites (name) VALUES ('tpl'), ('rep'), ('wr')")
            # fast hosts with robots known: claims are limited by the claim, not by the budget
            conn.execute("""INSERT INTO hosts (host, interval_seconds, concurrency, robots_txt, robots_fetched_at)
                            SELECT 'h' || g || '.gov.cn', 0.001, 1000, '', now()
                            FROM generate_series(0, %s - 1) g""", (HOSTS,))
            conn.execute("SELECT setval('urls_id_seq', 10000000)")  # the filled ids stay free
            # templates (filled copies) and the big clusters' representatives (real documents)
            t_ids = register(conn, "tpl", len(corpus.templates))
            write(conn, list(zip(t_ids, corpus.templates, strict=True)), "tpl")
            conn.commit()
            index_all(conn)
            templates = [int(r[0]) for r in conn.execute(
                "SELECT id FROM documents WHERE url_id = ANY(%s) ORDER BY url_id", (t_ids,)).fetchall()]
            rep_docs = [corpus.unique() for _ in range(BIG_CLUSTERS)]
            r_ids = register(conn, "rep", BIG_CLUSTERS)
            write(conn, list(zip(r_ids, rep_docs, strict=True)), "rep")
            reps = [(scalar(conn, "SELECT id FROM documents WHERE url_id = %s", (u,)), d)
                    for u, d in zip(r_ids, rep_docs, strict=True)]
            conn.commit()
            lo = 1
            for size in sizes:
                t0 = time.perf_counter()
                grow_frontier(conn, lo, size)
                grow_corpus(conn, lo, size, templates, [r[0] for r in reps])
                conn.execute("SELECT setval('urls_id_seq', greatest(10000000, (SELECT max(id) FROM urls)))")
                conn.commit()
                fill = time.perf_counter() - t0
                with psycopg.connect(with_db(server, name), autocommit=True) as vac:
                    vac.execute("VACUUM ANALYZE urls")
                    vac.execute("VACUUM ANALYZE documents")
                    vac.execute("VACUUM ANALYZE doc_lsh_bands")
                m = measure(conn, corpus, reps, size)
                m["fill_s"] = fill
                rows.append((size, m))
                print(f"{size:>9,} URLs: {m['urls']:,} URLs, {m['docs']:,} documents (filled in {fill:.0f} s), "
                      f"largest cluster {m['big_members']:.0f} members", flush=True)
                print(f"    write {m['write_ms']:.2f} ms/doc one per transaction, {m['write_batch_ms']:.2f} ms/doc "
                      f"20 per transaction; near-dup into 1-member cluster {m['neardup_lone_ms']:.1f} ms, "
                      f"into {m['big_members']:.0f}-member cluster {m['neardup_big_ms']:.1f} ms; "
                      f"search index {m['index_ms']:.2f} ms/doc; search {m['search_common_ms']:.1f} ms "
                      f"(common term), {m['search_rare_ms']:.1f} ms (rare)", flush=True)
                print(f"    claims {m['claims_per_s']:.0f}/s; status {m['status_ms']:.1f} ms; housekeeping "
                      f"{m['housekeeping_ms']:.1f} ms; feed page {m['feed_ms']:.1f} ms; "
                      f"{m['bytes_per_doc']:.0f} bytes/doc, {m['bytes_per_url']:.0f} bytes/URL", flush=True)
                lo = size + 1
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if handle is not None:
            handle.cleanup()
    print(f"total {time.perf_counter() - began:.0f} s")
    last = rows[-1][1]
    print(f"housekeeping_ms={last['housekeeping_ms']:.1f} neardup_lone_ms={last['neardup_lone_ms']:.1f} "
          f"neardup_big_ms={last['neardup_big_ms']:.1f} feed_ms={last['feed_ms']:.1f}")
    # the last line, for scripts: the largest size's figures
    print(f"status_ms={last['status_ms']:.1f} claims_per_s={last['claims_per_s']:.0f} write_ms={last['write_ms']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
