#!/usr/bin/env python3
"""The issue-13 probes as figures: what a hostile site or input costs, before the limits and after.

    .venv/bin/python bench/hostile.py [--skip-backtracking]

Prints, one `name=value` per line:
* `re_catastrophic_ms_n{18..24}` / `re2_catastrophic_ms_n{...}`: `(a+)+$` on a URL of
  n 'a's and a '!', with Python's backtracking `re` and with RE2 as site patterns now
  run (`crawler.patterns.Patterns`); `re` doubles with every character.
* `re_us_per_url` / `re2_us_per_url`: three ordinary TRS-style patterns on 10,000
  article URLs: what linear-time matching costs in the common case.
* `slow_headers_s`: a fetch with a 2 s total limit against a loopback server sending
  its headers one byte every 50 ms (before: ended by the header-size limit, ~40 s).
* `parse_urandom_s` / `parse_urandom_rss_mb`: `govingest parse /dev/urandom` (before:
  read until memory ran out, 2.3 GB RSS).
* `robots_512k_parse_ms`: protego on the largest robots.txt now kept (512 KiB).

Figures, not assertions: the machine is shared; tests/hostile/ holds the checks.
"""
from __future__ import annotations

import argparse
import re
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govingest.crawler.client import make_client  # noqa: E402
from govingest.crawler.fetch import fetch  # noqa: E402
from govingest.crawler.patterns import Patterns  # noqa: E402
from govingest.crawler.robots import ROBOTS_MAX_BYTES, RobotsRules  # noqa: E402


def patterns(skip_backtracking: bool) -> None:
    for n in (18, 20, 22, 24):
        url = "http://www.a.gov.cn/" + "a" * n + "!"
        if not skip_backtracking:
            t = time.perf_counter()
            re.search(r"(a+)+$", url)
            print(f"re_catastrophic_ms_n{n}={(time.perf_counter() - t) * 1000:.1f}")
        p = Patterns((r"(a+)+$",))
        p.search("warm up")
        t = time.perf_counter()
        p.search(url)
        print(f"re2_catastrophic_ms_n{n}={(time.perf_counter() - t) * 1000:.3f}")
    pats = (r"/t\d{8}_\d+\.htm", r"/index(_\d+)?\.html$", r"/art/\d{4}/\d+/\d+/art_\d+_\d+\.html")
    urls = [f"https://www.xm.gov.cn/zwgk/tzgg/202401/t20240{i % 10}01_{i}.htm" for i in range(10000)]
    compiled = [re.compile(p) for p in pats]
    t = time.perf_counter()
    for u in urls:
        any(c.search(u) for c in compiled)
    print(f"re_us_per_url={(time.perf_counter() - t) / len(urls) * 1e6:.2f}")
    ours = Patterns(pats)
    t = time.perf_counter()
    for u in urls:
        ours.search(u)
    print(f"re2_us_per_url={(time.perf_counter() - t) / len(urls) * 1e6:.2f}")


def slow_headers() -> None:
    srv = socket.create_server(("127.0.0.1", 0))
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-F-%d: %s\r\n" % (i, b"y" * 20) for i in range(20)) + b"\r\n"

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        try:
            for i in range(len(head)):
                conn.sendall(head[i:i + 1])
                time.sleep(0.05)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    client = make_client(read=1.0)
    t = time.monotonic()
    r = fetch(client, f"http://127.0.0.1:{srv.getsockname()[1]}/", user_agent="bench", allow_private=True,
              total_timeout=2.0)
    print(f"slow_headers_s={time.monotonic() - t:.2f}  # {r.error_kind}")
    client.close()
    srv.close()


def parse_urandom() -> None:
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "govingest", "parse", "/dev/urandom"], capture_output=True,
                         text=True, timeout=600)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"parse_urandom_s={time.monotonic() - t:.2f}")
    print(f"parse_urandom_rss_mb={rss:.0f}  # exit {out.returncode}: {out.stderr.strip()[-120:]}")


def robots_parse() -> None:
    text = "User-agent: *\nDisallow: /private/\n" + "# " + "x" * 97 + "\n"
    text = text + ("Disallow: /p/" + "y" * 86 + "\n") * (ROBOTS_MAX_BYTES // 100)
    t = time.perf_counter()
    RobotsRules(text).allowed("http://www.a.gov.cn/ok.html", "govingest")
    print(f"robots_512k_parse_ms={(time.perf_counter() - t) * 1000:.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-backtracking", action="store_true", help="do not run the 1-2 s backtracking probes")
    args = ap.parse_args()
    patterns(args.skip_backtracking)
    slow_headers()
    parse_urandom()
    robots_parse()


if __name__ == "__main__":
    main()
