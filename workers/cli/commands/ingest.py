"""`govingest ingest FILE...`: store saved pages or text files as if fetched."""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from govingest.db.connect import connect_migrated
from govingest.workers.cli import UserError
from govingest.workers.local.ingest import DEFAULT_SITE, IngestOutcome, ingest_files
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="store saved pages or text files as if fetched, and parse them")
    p.add_argument("files", nargs="+", metavar="FILE", help="file or directory (its files, recursively)")
    p.add_argument("--site", default=DEFAULT_SITE, help=f"site the documents belong to (default {DEFAULT_SITE})")
    p.add_argument("--url-prefix", metavar="URL",
                   help="URL = prefix + file name (default: the file's file:// URL)")
    p.set_defaults(func=run)


def expand(names: list[str]) -> list[Path]:
    """Files named, and the files under directories named, in a stable order."""
    out: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.exists():
            out.append(path)
        else:
            raise UserError(f"{name}: no such file or directory; nothing was ingested")
    return out


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    paths = expand(args.files)
    counts: Counter[str] = Counter()
    conn = connect_migrated(Settings.from_env())
    with conn, tqdm(total=len(paths), unit="file", file=sys.stderr, disable=None,
                    desc="ingest") as bar:
        def on_file(out: IngestOutcome) -> None:
            counts[out.kind] += 1
            if out.error and out.kind == "failed":
                bar.write(f"govingest ingest: {out.file}: {out.error}", file=sys.stderr)
            bar.update(1)

        ingest_files(conn, paths, site=args.site, url_prefix=args.url_prefix, on_file=on_file,
                     batch_size=20)
    print(f"ingested {len(paths)} file(s): " + ", ".join(
        f"{k} {counts[k]}" for k in ("created", "updated", "unchanged", "failed", "skipped")))
    return 1 if counts["failed"] else 0
