"""Print how many article pages/s the fixture site serves (not a test: a figure to read).

    .venv/bin/python bench/fixture_site.py [--latency S] [--threads N]

Why a separate server process: benchmarks run the crawler against `govingest
serve-fixtures`, so measuring it in-process would share the client's GIL and understate
it. With `--latency`, the ideal is threads / latency pages/s; the ratio shows what the
server adds on top of the delay.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--articles", type=int, default=1000)
    args = ap.parse_args()
    govingest = str(Path(sys.executable).with_name("govingest"))
    server = subprocess.Popen([govingest, "serve-fixtures", "--site", "bulk", "--articles", str(args.articles),
                               "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True)
    try:
        base = server.stdout.readline().split()[1]
        for line in server.stdout:
            if line.startswith("serving"):
                break
        urls: list[str] = []
        with httpx.Client() as c:
            page = 0
            while len(urls) < args.articles:
                r = c.get(f"{base}/aqsc/index{'' if page == 0 else f'_{page}'}.html")
                if r.status_code != 200:
                    break
                urls += [base + u for u in re.findall(r'href="(/aqsc/\d{6}/[^"]+)"', r.text)]
                page += 1
        done = [0]
        lock = threading.Lock()

        def fetch(part: list[str]) -> None:
            with httpx.Client() as c:
                for u in part:
                    c.get(u).raise_for_status()
                    with lock:
                        done[0] += 1

        t0 = time.perf_counter()
        workers = [threading.Thread(target=fetch, args=(urls[i::args.threads],)) for i in range(args.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        dt = time.perf_counter() - t0
        line = f"latency={args.latency:g}s threads={args.threads}: {done[0]} pages in {dt:.2f}s = {done[0] / dt:.0f} pages/s"
        if args.latency:
            ideal = args.threads / args.latency
            line += f"; ideal {ideal:.0f}/s, ratio {done[0] / dt / ideal:.2f}"
        print(line)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
