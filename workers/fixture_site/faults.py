"""Hostile bodies for the fault endpoints: gzip bomb, 50 MB stream, poison page, binary, PDF.

Why these are built once and cached at module level: a gzip bomb expanding to gigabytes
costs ~0.2 s to build and several megabytes to hold, and the benchmarks start fixture
sites many times in one process. Nothing here builds a huge body in memory: the 50 MB
body is a generator of one reused 64 KiB chunk.
"""
from __future__ import annotations

import random
import struct
import threading
import zlib
from collections.abc import Iterator

_ZERO_CHUNK = 16 * 1024 * 1024
_lock = threading.Lock()
_bombs: dict[int, bytes] = {}

BOMB_EXPANDED_BYTES = 4 * 1024 ** 3  # 4 GiB of zeros behind ~4 MB of gzip


def _gf2_times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B): zlib's crc32_combine, which Python lacks.

    Lets the bomb's trailer be computed in microseconds instead of CRC-ing 4 GiB.
    """
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def gzip_bomb(expanded: int = BOMB_EXPANDED_BYTES) -> bytes:
    """A valid gzip stream inflating to `expanded` zero bytes (a multiple of 16 MiB), ~1/1000 the size.

    Deflate after a Z_FULL_FLUSH forgets its history, so every further 16 MiB of zeros
    compresses to the same bytes: compress two chunks, repeat the second, close the
    stream with an empty final block and the real CRC32/ISIZE trailer. Built once per
    size in ~0.1 s instead of compressing gigabytes.
    """
    chunks = max(2, expanded // _ZERO_CHUNK)
    with _lock:
        if chunks not in _bombs:
            zeros = bytes(_ZERO_CHUNK)
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip wrapper
            first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            repeat = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            crc, done = 0, 0  # CRC of `done` zero bytes; square-and-multiply over chunk count
            part_crc, part_len, n = zlib.crc32(zeros), _ZERO_CHUNK, chunks
            while n:
                if n & 1:
                    crc, done = crc32_combine(crc, part_crc, part_len), done + part_len
                part_crc, part_len = crc32_combine(part_crc, part_crc, part_len), part_len * 2
                n >>= 1
            final_empty_block = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block
            trailer = struct.pack("<II", crc, (chunks * _ZERO_CHUNK) & 0xFFFFFFFF)
            _bombs[chunks] = first + repeat * (chunks - 1) + final_empty_block + trailer
        return _bombs[chunks]


HUGE_BYTES = 50 * 1024 * 1024


def huge_body(total: int = HUGE_BYTES) -> Iterator[bytes]:
    """`total` bytes of a plausible HTML page, streamed in 64 KiB chunks."""
    head = b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\xe5\xa4\xa7\xe6\x96\x87\xe4\xbb\xb6</title></head><body>"
    para = "<p>本段为超长页面的填充内容，用于检验抓取端的响应体大小上限。</p>\n".encode()
    chunk = para * (65536 // len(para))
    yield head
    left = total - len(head)
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        left -= len(piece)
        yield piece


def binary_blob(size: int = 32 * 1024) -> bytes:
    """Deterministic binary junk (a PNG signature, then noise) to serve as text/html."""
    rng = random.Random(20241125)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(size - 8))


def tiny_pdf(title: str = "附件") -> bytes:
    """A minimal valid one-page PDF: gov articles link such attachments."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 72 720 Td (govingest fixture attachment) Tj ET"
    objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


POISON_ROWS = 40_000
POISON_PARAGRAPHS = 20_000
POISON_DEPTH = 5_000


def poison_page(rows: int = POISON_ROWS, paragraphs: int = POISON_PARAGRAPHS, depth: int = POISON_DEPTH) -> bytes:
    """The fleet drill's poison page (~8 MB of HTML): a worker must survive it, not parse it.

    Inside a `div.TRS_Editor` (so the extractor takes it as the body): a `rows` x 8 table
    of short cells, almost every one a numeric fact (检查企业N家, 隐患N处, 约N万元), then
    `paragraphs` numbered 一、 paragraphs full of facts, then `depth` unclosed nested <div>s.
    Every parser stage is at least linear in facts and paragraphs and several are worse,
    so the parse runs for minutes (measured: a 5,000-row table alone takes ~5 s) and the
    per-document timeout must end it as a recorded failure while the worker goes on.
    """
    cells = "".join(
        f"<tr><td>{r}</td><td>检查企业{r % 997}家</td><td>{r * 7 % 1000}</td><td>隐患{r % 89}处</td>"
        f"<td>{r % 13}.{r % 10}%</td><td>{r * 3}</td><td>整改{r % 61}处</td><td>约{r % 50}万元</td></tr>"
        for r in range(rows))
    paras = "".join(f"<p>{'一二三四五六七八九十'[i % 10]}、第{i}项:共检查企业{i}家,整改隐患{i * 3}处,罚款{i % 97}万元。</p>"
                    for i in range(paragraphs))
    html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>统计数据汇总表</title>"
            "<meta name=\"ArticleTitle\" content=\"统计数据汇总表\"></head><body>"
            "<div class=\"TRS_Editor\"><table>" + cells + "</table>" + paras + "</div>"
            + "<div>" * depth + "</body></html>")
    return html.encode("utf-8")
