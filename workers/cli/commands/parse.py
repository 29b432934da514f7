"""`govingest parse FILE...`: parse saved pages or text files, print JSON; no database.

Why the input is capped: `govingest parse /dev/urandom` (or a 100 MB log file passed by
mistake) read until memory ran out — 2.3 GB before anything was said. A saved page is
read up to the same cap a fetched page has (crawler.fetch.DEFAULT_MAX_BYTES, 10 MiB);
a larger input is reported and skipped, and `--max-bytes` raises the cap.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from govingest.crawler.fetch import DEFAULT_MAX_BYTES
from govingest.parsers.model import ParseError
from govingest.parsers.timeout import DEFAULT_SECONDS, parse_with_timeout


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="parse saved pages or text files and print JSON (no database)")
    p.add_argument("files", nargs="+", metavar="FILE", help="saved page (HTML, any encoding) or text file; - reads stdin")
    p.add_argument("--url", help="URL the page was fetched from (recorded in the output)")
    p.add_argument("--format", choices=["json", "jsonl", "text"], default="json")
    p.add_argument("--timeout", type=float, default=DEFAULT_SECONDS, metavar="SECONDS",
                   help=f"give up on a file after this long (default {DEFAULT_SECONDS:g}; 0: no limit)")
    p.add_argument("--max-bytes", type=_positive_int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"skip an input larger than N bytes (default {DEFAULT_MAX_BYTES:,}, the size cap of a "
                        "fetched page)")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _TooLarge(Exception):
    pass


def _read(name: str, max_bytes: int) -> bytes:
    """The input's bytes, reading at most one byte past the cap (an endless input ends here)."""
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        with Path(name).open("rb") as f:
            data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge(f"larger than the input cap of {max_bytes:,} bytes ({max_bytes / 2**20:.1f} MB); not "
                        "parsed (pass --max-bytes N to raise the cap)")
    return data


def _parse_one(name: str, args: argparse.Namespace) -> tuple[dict[str, Any] | None, str | None]:
    """(the parse object, None) or (None, one-line reason); never raises."""
    try:
        return parse_with_timeout(_read(name, args.max_bytes), url=args.url, seconds=args.timeout).to_json(), None
    except _TooLarge as exc:
        return None, str(exc)
    except ParseError as exc:
        return None, exc.reason
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    except Exception as exc:  # a parser bug on one file must not stop the others
        return None, ParseError.from_crash(exc).reason


def run(args: argparse.Namespace) -> int:
    if args.format == "json" and len(args.files) > 1:
        print("govingest parse: --format json prints one object for one file; use --format jsonl for many",
              file=sys.stderr)
        return 2
    failures = 0
    for name in args.files:
        doc, reason = _parse_one(name, args)
        if doc is None:
            failures += 1
            if args.format == "jsonl":
                print(json.dumps({"file": name, "error": reason}, ensure_ascii=False), flush=True)
            else:
                print(f"govingest parse: {name}: {reason}", file=sys.stderr)
        elif args.format == "text":
            print(doc["text"])
        elif args.format == "jsonl":
            print(json.dumps({"file": name, **doc}, ensure_ascii=False), flush=True)
        else:
            print(json.dumps(doc, ensure_ascii=False, indent=1))
    return 1 if failures else 0
