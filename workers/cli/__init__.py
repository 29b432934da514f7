"""`govingest` command line: a thin dispatcher over one module per command.

Each module in `workers/commands/` defines `register(subparsers)` which adds its
subcommand and sets `func`, a callable taking the parsed args and returning an exit
code. Commands never print tracebacks at the user: a `UserError` (or any `Exception`)
ends as one line on stderr saying what failed and what to do.

Exit codes (the same for every command; docs/operations.md lists them too):
  0    success
  1    failure: the message says what failed and what to do
  2    wrong command-line usage
  3    crawl finished, but a site failed entirely or stored nothing it should have
  78   configuration: a setting is invalid or a required one is missing
  130  interrupted (Ctrl-C)
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from datetime import date

from govingest import __version__
from govingest.db.connect import DatabaseUnavailable
from govingest.db.migrate import MigrationError
from govingest.redact import redact
from govingest.workers.cli import commands
from govingest.workers.settings import EXIT_CONFIG, Settings, SettingsError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    success
  1    failure: the message says what failed and what to do
  2    wrong command-line usage
  3    crawl finished, but a site failed entirely or stored nothing it should have
  78   a setting is invalid or a required one is missing (one line per variable)
  130  interrupted"""


class UserError(Exception):
    """An error whose message is complete for a person: no traceback needed."""


def iso_date(value: str) -> date:
    """argparse type for the `--since`/`--until` options: a calendar day, said plainly when wrong."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govingest", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"govingest {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"govingest.workers.cli.commands.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        Settings.from_env()  # validated at start, whatever the command: a bad setting never runs
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("govingest: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SettingsError as exc:
        for line in exc.problems:
            print(f"govingest {args.command}: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except (UserError, DatabaseUnavailable, MigrationError) as exc:  # complete sentences already
        print(f"govingest {args.command}: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last line of defence: one line, never a traceback
        if os.environ.get("GOVINGEST_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        print(f"govingest {args.command}: unexpected {type(exc).__name__}: {redact(str(exc))} "
              "(rerun with GOVINGEST_LOG_LEVEL=DEBUG for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
