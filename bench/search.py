"""Chinese full-text search: recall on queries with known answers, and latency at scale.

    .venv/bin/python bench/search.py                 # quick: 20 000 documents
    .venv/bin/python bench/search.py --docs 200000   # the issue's size (target p95 <= 50 ms)

The corpus: the fixture documents (the seeds, the real pages of tests/fixtures/real and the
citing notice, parsed by the real parser) among `--docs` generated ones. Generated documents
are made of words of the fixtures' own vocabulary (rjieba words, Zipf-weighted, with
punctuation), so their bigram and word statistics look like government prose, with titles,
issuers, document numbers and dates. Rows are loaded with COPY and indexed by the index
stage the process stage runs (`workers/stages/index.py`: vectors from
`parsers.search.search_vector`); the write path itself is measured by bench/store.py.

Queries with known answers: for each fixture document, its title and two phrases of 8–12
characters taken from its body (short enough to type, long enough to name one text). A
query is answered when its document is among the first 10 hits. Latency: each
known-answer query and a set of common-term queries (one to three frequent words, some
with a site or date filter), run through `govingest_search` as govingest_reader with the
query's segmenter words, as `govingest search` and the app do; p50/p95 over all of them,
after one warm-up pass.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store import server_url  # noqa: E402
from govingest.db.migrate import migrate  # noqa: E402
from govingest.db.reader import SearchFilters, act_as_reader, search  # noqa: E402
from govingest.parsers.pipeline import parse  # noqa: E402
from govingest.parsers.search import query_words  # noqa: E402
from govingest.workers.stages.index import index_all  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SITES = [f"site{i:02d}" for i in range(20)]
ISSUERS = ["应急管理局", "市场监督管理局", "人民政府办公室", "生态环境局", "财政局", "教育局", "卫生健康委员会"]


def fixture_documents() -> list[tuple[str, str, str]]:
    """(url, title, text) of the parsed fixture documents."""
    out = []
    files = [*sorted((FIXTURES / "seeds").glob("*.txt")), FIXTURES / "citing" / "hainan-notice.txt",
             *sorted((FIXTURES / "real" / "html").glob("*.html"))]
    for f in files:
        ctype = "text/plain; charset=utf-8" if f.suffix == ".txt" else "text/html"
        doc = parse(f.read_bytes(), content_type=ctype)
        if len(doc.text) < 40:
            continue
        title = doc.title or doc.text.splitlines()[0][:30]
        out.append((f"https://fixture.gov.cn/{f.name}", title, doc.text))
    return out


def vocabulary(texts: list[str]) -> tuple[list[str], list[float]]:
    import rjieba

    counts: dict[str, int] = {}
    for t in texts:
        for w in rjieba.cut(t):
            if w.strip() and not w.isspace():
                counts[w] = counts.get(w, 0) + 1
    words = sorted(counts, key=lambda w: -counts[w])
    return words, [1.0 / (rank + 10) for rank in range(len(words))]  # Zipf-like


def generated(n: int, words: list[str], weights: list[float], rng: random.Random):
    punct = "，，，。；、"
    start = date(2018, 1, 1)
    for i in range(n):
        length = rng.randint(60, 400)  # words: ~150–1000 characters
        picks = rng.choices(words, weights, k=length)
        body = []
        for j, w in enumerate(picks):
            body.append(w)
            if j % rng.randint(6, 14) == 0:
                body.append(rng.choice(punct))
        title = "关于" + "".join(rng.choices(words[:3000], k=rng.randint(3, 6))) + "的通知"
        yield (f"https://gen{i % 50}.gov.cn/doc/{i}.html", SITES[i % len(SITES)], title, "".join(body) + "。",
               rng.choice(ISSUERS), f"某府〔{2018 + i % 7}〕{i % 300}号", start + timedelta(days=rng.randint(0, 2500)))


def load(conn: psycopg.Connection, rows, batch: int = 2000) -> int:
    """COPY urls and documents, then the index stage (the write path's) indexes each batch."""
    n = 0
    conn.execute("DROP INDEX IF EXISTS search_index_grams_idx")
    buf: list = []

    def flush() -> None:
        with conn.transaction():
            ids = conn.execute(
                "INSERT INTO urls (url, site, host, kind, state) SELECT u, s, split_part(u, '/', 3), 'article', 'done' "
                "FROM unnest(%s::text[], %s::text[]) AS t(u, s) RETURNING id",
                ([r[0] for r in buf], [r[1] for r in buf])).fetchall()
            with conn.cursor().copy(
                    "COPY documents (url_id, url, site, title, text, script, content_hash, output_hash, parser_version, "
                    "issuer, doc_number, published_at, published_date) FROM STDIN") as cp:
                for (url_id,), (url, site, title, text, issuer, number, day) in zip(ids, buf, strict=True):
                    h = hashlib.sha256(text.encode()).hexdigest()
                    cp.write_row((url_id, url, site, title, text, "hans", h, h, "bench", issuer, number,
                                  day.isoformat() if day else None, day))
        index_all(conn)
        buf.clear()

    for r in rows:
        buf.append(r)
        n += 1
        if len(buf) >= batch:
            flush()
            print(f"\r  loaded {n}", end="", file=sys.stderr, flush=True)
    if buf:
        flush()
    print(file=sys.stderr)
    t = time.perf_counter()
    conn.execute("CREATE INDEX search_index_grams_idx ON search_index USING gin (grams)")
    conn.execute("VACUUM search_index")
    conn.execute("ANALYZE documents")
    conn.execute("ANALYZE search_index")
    print(f"  GIN index built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return n


def known_queries(docs: list[tuple[str, str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """(query, expected url): the title and two body phrases of each fixture document."""
    import re

    out = []
    for url, title, text in docs:
        out.append((title, url))
        runs = list(re.findall(r"[\u4e00-\u9fff]{12,}", text))
        for run in rng.sample(runs, min(2, len(runs))):
            k = rng.randint(8, 12)
            s = rng.randint(0, len(run) - k)
            out.append((run[s:s + k], url))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20000, help="generated documents (default 20000)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep", action="store_true", help="keep the database (prints its name)")
    ap.add_argument("--reuse", metavar="DB", help="query a database kept by --keep instead of loading one")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    server, handle = server_url()
    name = args.reuse or f"govingest_bench_search_{uuid.uuid4().hex[:8]}"
    if args.reuse:
        args.keep = True
    else:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(server, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            docs = fixture_documents()
            words, weights = vocabulary([d[2] for d in docs])
            t = time.perf_counter()
            if args.reuse:
                n = conn.execute("SELECT count(*) FROM documents").fetchone()[0]  # type: ignore[index]
            else:
                migrate(conn)
                for s in [*SITES, "fixture"]:
                    conn.execute("INSERT INTO sites (name) VALUES (%s) ON CONFLICT DO NOTHING", (s,))
                fixtures = ((u, "fixture", ti, tx, "人民政府", None, date(2024, 6, 1)) for u, ti, tx in docs)
                n = load(conn, [*fixtures, *generated(args.docs, words, weights, rng)])
            print(f"corpus: {n} documents ({len(docs)} fixture documents, vocabulary {len(words)} words), "
                  f"loaded and indexed in {time.perf_counter() - t:.0f} s")
            size = conn.execute("SELECT pg_size_pretty(pg_relation_size('search_index_grams_idx')), "
                                "pg_size_pretty(pg_total_relation_size('search_index')), "
                                "pg_size_pretty(pg_total_relation_size('documents'))").fetchone()
            print(f"GIN index {size[0]}; search_index with TOAST and indexes {size[1]}; "
                  f"documents with TOAST and indexes {size[2]}")

            queries = known_queries(docs, rng)
            common = [" ".join(rng.sample(words[20:400], rng.randint(1, 3))) for _ in range(60)]
            filtered = [(q, SearchFilters(site=rng.choice(SITES))) for q in common[:20]] + [
                (q, SearchFilters(since=date(2022, 1, 1), until=date(2022, 12, 31))) for q in common[20:40]]
            act_as_reader(conn)
            runs = [(q, SearchFilters()) for q, _ in queries] + [(q, SearchFilters()) for q in common] + filtered
            for q, f in runs:  # warm-up: the first read of a page is a disk read, not the query's cost
                search(conn, q, words=query_words(q), filters=f, limit=10)
            timings: list[float] = []
            found = 0
            for i, (q, f) in enumerate(runs):
                t = time.perf_counter()
                hits = search(conn, q, words=query_words(q), filters=f, limit=10)
                timings.append((time.perf_counter() - t) * 1000)
                if i < len(queries):
                    if queries[i][1] in {h.url for h in hits}:
                        found += 1
                    else:
                        print(f"  missed: {q!r} ({queries[i][1]}): {len(hits)} hits", file=sys.stderr)
            slowest = sorted(zip(timings, [q for q, _ in runs], [f for _, f in runs], strict=True),
                             key=lambda t: -t[0])[:5]
            for ms, q, f in slowest:
                print(f"  slow: {ms:.0f} ms {q!r} {f}", file=sys.stderr)
            timings.sort()
            p = statistics.quantiles(timings, n=100)
            print(f"recall@10: {found}/{len(queries)} = {found / len(queries):.3f} (known-answer queries)")
            print(f"latency over {len(runs)} queries ({len(queries)} known-answer, {len(common)} common terms, "
                  f"{len(filtered)} filtered): p50 {p[49]:.1f} ms, p95 {p[94]:.1f} ms, max {timings[-1]:.1f} ms "
                  "(target p95 <= 50 ms)")
    finally:
        if not args.keep:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}")
        if handle is not None:
            handle.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
