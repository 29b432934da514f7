"""`govingest export --format jsonl|csv|parquet`: every document, streamed, as the reader.

Columns are `db.reader.EXPORT_COLUMNS` (documented in docs/consumers.md, only appended
to). Rows are read in keyset pages of `v_documents` and written as they come, so memory
stays flat whatever the corpus size; a progress bar goes to stderr.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from typing import IO, Any, get_args

from govingest.db.connect import resolve_database_url
from govingest.db.reader import EXPORT_COLUMNS, connect_reader, export_count, export_rows
from govingest.parsers.model import DocumentKind
from govingest.workers.cli import UserError, iso_date
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write every document as JSON lines, CSV or Parquet (stable columns)")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl", help="default jsonl")
    p.add_argument("--site", help="only this site's documents")
    p.add_argument("--since", type=iso_date, metavar="DATE", help="only documents created or changed on or after DATE")
    p.add_argument("--kind", choices=get_args(DocumentKind), help="only articles or only attachments")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default stdout; required for parquet)")
    p.set_defaults(func=run)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _jsonl(batches: Iterator[list[tuple[Any, ...]]], out: IO[str], names: list[str]) -> Iterator[int]:
    for rows in batches:
        for r in rows:
            out.write(json.dumps(dict(zip(names, map(_plain, r), strict=True)), ensure_ascii=False) + "\n")
        yield len(rows)


def _csv(batches: Iterator[list[tuple[Any, ...]]], out: IO[str], names: list[str]) -> Iterator[int]:
    writer = csv.writer(out)
    writer.writerow(names)
    for rows in batches:
        writer.writerows([[_plain(v) for v in r] for r in rows])
        yield len(rows)


def parquet_schema() -> Any:
    import pyarrow as pa

    types = {"int64": pa.int64(), "string": pa.string(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([(n, types[t]) for n, t in EXPORT_COLUMNS])


def _parquet(batches: Iterator[list[tuple[Any, ...]]], path: str) -> Iterator[int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for rows in batches:
            columns = list(zip(*rows, strict=True))
            writer.write_table(pa.table([pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                                        schema=schema))
            yield len(rows)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    if args.format == "parquet" and not args.output:
        raise UserError("parquet is a binary file format: give --output FILE.parquet")
    names = [n for n, _ in EXPORT_COLUMNS]
    with connect_reader(resolve_database_url(Settings.from_env())) as conn, ExitStack() as files:
        total = export_count(conn, site=args.site, since=args.since, kind=args.kind)
        batches = export_rows(conn, site=args.site, since=args.since, kind=args.kind)
        if args.format == "parquet":
            written = _parquet(batches, args.output)
        else:
            out: IO[str] = (files.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
                            if args.output else sys.stdout)
            written = _jsonl(batches, out, names) if args.format == "jsonl" else _csv(batches, out, names)
        with tqdm(total=total, unit="doc", file=sys.stderr, disable=None, desc="export") as bar:
            for n in written:
                bar.update(n)
    print(f"exported {total} document(s)" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0
