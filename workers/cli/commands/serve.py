"""`govingest serve --host --port`: the web app and JSON API (workers/web), as the read-only role."""
from __future__ import annotations

import argparse
import signal
from types import FrameType

from govingest.db.connect import resolve_database_url, stop_embedded
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="web app and JSON API over the documents: search, documents, sites, feeds")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.set_defaults(func=run)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from govingest.workers.web.app import create_app

    app = create_app(resolve_database_url(Settings.from_env()))  # checks the schema: fails before listening
    print(f"govingest serve: http://{args.host}:{args.port}/  (API: /openapi.json; Ctrl-C stops)", flush=True)
    # uvicorn stops gracefully on SIGTERM, then re-raises it to the handler found before it:
    # make that an orderly exit, so the pool closes and an embedded server stops
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        app.state.pool.close()
        stop_embedded()  # the embedded PostgreSQL (make serve after make demo) stops with the app
    return 0
