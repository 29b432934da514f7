"""`govingest parse FILE...`: parse saved pages or text files, print JSON; no database."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from govingest.parsers.model import ParseError
from govingest.parsers.timeout import DEFAULT_SECONDS, parse_with_timeout


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="parse saved pages or text files and print JSON (no database)")
    p.add_argument("files", nargs="+", metavar="FILE", help="saved page (HTML, any encoding) or text file; - reads stdin")
    p.add_argument("--url", help="URL the page was fetched from (recorded in the output)")
    p.add_argument("--format", choices=["json", "jsonl", "text"], default="json")
    p.add_argument("--timeout", type=float, default=DEFAULT_SECONDS, metavar="SECONDS",
                   help=f"give up on a file after this long (default {DEFAULT_SECONDS:g}; 0: no limit)")
    p.set_defaults(func=run)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _parse_one(name: str, args: argparse.Namespace) -> tuple[dict[str, Any] | None, str | None]:
    """(the parse object, None) or (None, one-line reason); never raises."""
    try:
        return parse_with_timeout(_read(name), url=args.url, seconds=args.timeout).to_json(), None
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
