"""Attachment readers side by side: text fidelity on a CJK PDF, speed, and hostile files.

    .venv/bin/python bench/attachments.py            # the readers govingest uses
    /path/to/scratch/python bench/attachments.py     # a venv that also has pdfminer.six, pypdfium2

Fidelity is character-bigram F1 of the extracted text against the notice's source text
(tests/fixtures/attachments/notice.html). Hostile files run each in a child process
under a 1 GiB address-space cap and a 30 s limit, so a reader that aborts or hangs is
seen as such (a worker running it in-process would die). Readers that are not
installed are skipped; the closing line gives govingest's own parse figures.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import unicodedata
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "fixtures" / "attachments"

READERS = {
    "pypdf": "from pypdf import PdfReader\nimport io\nr = PdfReader(io.BytesIO(data))\n"
             "text = '\\n'.join(p.extract_text() or '' for p in r.pages)",
    "pdfminer": "from pdfminer.high_level import extract_text\nimport io\ntext = extract_text(io.BytesIO(data))",
    "pypdfium2": "import pypdfium2 as m\nd = m.PdfDocument(data)\n"
                 "text = '\\n'.join(p.get_textpage().get_text_range() for p in d)",
}


def bigrams(s: str) -> Counter[str]:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def f1(out: str, truth: str) -> float:
    a, b = bigrams(out), bigrams(truth)
    inter = sum((a & b).values())
    p, r = inter / max(1, sum(a.values())), inter / max(1, sum(b.values()))
    return 2 * p * r / (p + r) if p + r else 0.0


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def hostile() -> dict[str, bytes]:
    comp = zlib.compressobj(9)
    stream = b"".join(comp.compress(b"q Q " * 262144) for _ in range(1024)) + comp.flush()
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    real = (FILES / "notice.pdf").read_bytes()
    return {
        "bomb(1GiB)": _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page,
                            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]),
        "page_loop": _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]),
        "cut": real[: len(real) // 3],
    }


def p500() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    page = PdfReader(FILES / "notice.pdf").pages[0]
    for _ in range(500):
        writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def run(reader: str, data: bytes, cap: bool = True) -> tuple[str, float, str]:
    code = ("import resource, sys\n" + ("resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n" if cap else "")
            + "data = sys.stdin.buffer.read()\n" + READERS[reader] + "\nsys.stdout.write(text)")
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "", 30.0, "timeout"
    elapsed = time.perf_counter() - started
    if done.returncode < 0:
        return "", elapsed, f"killed by signal {-done.returncode} (process dies)"
    if done.returncode:
        return "", elapsed, "error: " + (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1][:70]
    return done.stdout.decode("utf-8", errors="replace"), elapsed, "ok"


def main() -> None:
    from lxml import html

    truth = html.fromstring((FILES / "notice.html").read_text(encoding="utf-8")).find("body").text_content()
    notice = (FILES / "notice.pdf").read_bytes()
    big = p500()
    print(f"{'reader':10} {'F1':>5} {'1 page s':>8} {'500 pages s':>11}  hostile files")
    for reader in READERS:
        text, one, status = run(reader, notice, cap=False)
        if status.startswith("error: ModuleNotFoundError") or "No module named" in status:
            print(f"{reader:10} not installed")
            continue
        _, many, _ = run(reader, big, cap=False)
        ends = [f"{name}: {run(reader, data)[2]}" for name, data in hostile().items()]
        print(f"{reader:10} {f1(text, truth):5.3f} {one:8.2f} {many:11.2f}  " + "; ".join(ends))
    sys.path.insert(0, str(ROOT))
    from govingest.parsers.pipeline import parse

    started = time.perf_counter()
    doc = parse(notice)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    parse(big)
    big_s = time.perf_counter() - started
    print(f"govingest parse: notice.pdf F1={f1(doc.text, truth):.3f} in {parse_s:.2f}s; "
          f"500-page PDF (cut at 300 pages) in {big_s:.2f}s")


if __name__ == "__main__":
    main()
