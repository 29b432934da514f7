"""`govingest parse` on an endless or huge input: capped, said so, memory bounded (issue 13).

Before: `govingest parse /dev/urandom` read until memory ran out (2.3 GB RSS in the probe)
and a 100 MB file was read whole and handed to the parser.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

RSS_LIMIT_MB = 400
# The CLI in a child that reports its own peak RSS on the way out. VmHWM belongs to the
# child's own address space: getrusage's ru_maxrss would also count the forked copy of
# this (by then large) pytest process, since it survives exec, and RUSAGE_CHILDREN every
# other child this session ever waited for.
_REPORTING = """import re, runpy, sys
sys.argv = ["govingest", *sys.argv[1:]]
try:
    runpy.run_module("govingest", run_name="__main__")
finally:
    with open("/proc/self/status") as f:
        hwm = re.search(r"VmHWM:\\s+(\\d+) kB", f.read())
    sys.stderr.write("\\nmax_rss_kb=%s\\n" % (hwm.group(1) if hwm else "unknown"))
"""


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.returncode, self.stdout = proc.returncode, proc.stdout
        self.stderr, _, rss = proc.stderr.rpartition("\nmax_rss_kb=")
        self.rss_mb = int(rss.strip()) / 1024 if rss.strip().isdigit() else float("inf")


def run_capped(args: list[str], **kw) -> Run:
    """Run the CLI with an address-space limit, so the old behaviour fails fast instead of
    taking the machine's memory; the limit is far above what a capped read needs."""
    limit = 1536 * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        return Run(subprocess.run([sys.executable, "-c", _REPORTING, *args], capture_output=True, text=True,
                                  timeout=120, preexec_fn=cap, **kw))
    except subprocess.TimeoutExpired:
        pytest.fail(f"govingest {' '.join(args)} ran for more than 120 s")


def test_endless_input_is_capped_and_said_so() -> None:
    out = run_capped(["parse", "--format", "jsonl", "/dev/urandom", "-"], stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stderr[-2000:]
    first = out.stdout.splitlines()[0]
    assert '"file": "/dev/urandom"' in first and "MB" in first and "--max-bytes" in first, first
    assert out.rss_mb < RSS_LIMIT_MB


def test_huge_file_is_capped_and_max_bytes_raises_the_cap(tmp_path: Path) -> None:
    huge = tmp_path / "huge.html"
    with huge.open("wb") as f:  # 100 MB of a plausible page: head, then paragraphs
        f.write("<html><head><meta charset='utf-8'><title>通知</title></head><body>".encode())
        para = "<p>全区共检查企业1290家，整改隐患356处。</p>\n".encode()
        f.write(para * (100 * 1024 * 1024 // len(para)))
    out = run_capped(["parse", str(huge)])
    assert out.returncode == 1 and "huge.html" in out.stderr and "MB" in out.stderr, out.stderr[-2000:]
    assert out.rss_mb < RSS_LIMIT_MB
    small = tmp_path / "small.html"
    small.write_bytes(huge.read_bytes()[: 200 * 1024] + b"</body></html>")
    os.remove(huge)
    out = run_capped(["parse", "--format", "text", "--max-bytes", "100000", str(small)])
    assert out.returncode == 1 and "100000" in out.stderr.replace(",", ""), out.stderr
    out = run_capped(["parse", "--format", "text", str(small)])
    assert out.returncode == 0 and "检查企业" in out.stdout
