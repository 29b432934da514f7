"""Texts the fixture sites serve: the bundled seeds and real pages, and generated articles.

Why generated articles are built from seed sentences with re-drawn numbers: the fleet
drills and benchmarks need hundreds of pages that parse like real reports (outline
markers, numeric facts) yet are distinct documents — different content hashes, and
different enough that MinHash near-duplicate clustering keeps them apart. Everything
here is deterministic (seeded `random.Random`), so two runs serve identical bytes and a
second crawl sees 304s and unchanged hashes.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SEEDS_DIR = DATA_DIR / "seeds"
REAL_DIR = DATA_DIR / "real"
ATTACHMENTS_DIR = DATA_DIR / "attachments"  # made with LibreOffice: tests/fixtures/attachments/README.md


@dataclass(frozen=True)
class Seed:
    """One bundled seed text and what the fixture page around it says about it."""

    file: str  # file name in data/seeds, the key of tests/fixtures/eval/seeds_gold.json
    text: str
    title: str
    published: datetime
    source: str
    column: str
    traditional: bool


# Page metadata for each seed. Titles the gold names are the gold titles; the others
# are what such a report is called on a district site. Seed 003 is Traditional.
_SEED_META: dict[str, tuple[str, str, str, str, bool]] = {
    "000_10724a15dab98384.txt": ("思明区应急管理局2024年工作总结和2025年工作要点", "2025-01-10 09:30",
                                 "思明区应急管理局", "工作动态", False),
    "001_45f128e10a0a12d6.txt": ("市应急管理局2024年国庆期间安全生产工作总结", "2024-11-05 16:20",
                                 "思明区应急管理局", "工作总结", False),
    "002_5feff6bba74b0f8e.txt": ("全区安全生产工作情况汇报", "2024-06-18 10:00",
                                 "思明区安全生产委员会办公室", "工作动态", False),
    "003_954119954ce7fb59.txt": ("市應急管理局2023年上半年工作總結", "2023-07-14 15:45",
                                 "市應急管理局", "工作總結", True),
    "004_886851195a0fa4bb.txt": ("景德镇市应急管理局2024年工作总结", "2025-01-20 11:10",
                                 "景德镇市应急管理局", "工作总结", False),
}


@lru_cache(maxsize=1)
def load_seeds() -> tuple[Seed, ...]:
    seeds = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        title, when, source, column, trad = _SEED_META.get(
            path.name, (path.stem, "2024-01-01 09:00", "应急管理局", "工作动态", False))
        seeds.append(Seed(path.name, path.read_text(encoding="utf-8"), title,
                          datetime.strptime(when, "%Y-%m-%d %H:%M"), source, column, trad))
    return tuple(seeds)


@dataclass(frozen=True)
class RealPage:
    """One bundled real page, served byte for byte, with the charset header it gets."""

    file: str
    body: bytes
    content_type: str
    title: str


# Charset headers for the real pages that are not plain UTF-8: one GBK page declared
# correctly, one GBK page declared *wrongly* as UTF-8 (a real server misconfiguration),
# and the UTF-8 page whose <meta> says gb2312 served with a correct header.
_REAL_CONTENT_TYPES = {
    "ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e.html": "text/html; charset=gbk",
    "ia__b26fbb82-9d98-42f0-af75-7439c1706bcd.html": "text/html; charset=utf-8",
    "magichtml__9c642bd57e7c44cd.html": "text/html; charset=utf-8",
}


_GBK_FILES = {"ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e.html", "ia__b26fbb82-9d98-42f0-af75-7439c1706bcd.html"}


@lru_cache(maxsize=1)
def load_real_pages() -> tuple[RealPage, ...]:
    pages = []
    for path in sorted(REAL_DIR.glob("*.html")):
        body = path.read_bytes()
        ctype = _REAL_CONTENT_TYPES.get(path.name, "text/html; charset=utf-8")
        m = re.search(rb"<title[^>]*>(.*?)</title>", body, re.S | re.I)
        raw_title = m.group(1) if m else path.stem.encode()
        title = raw_title.decode("gb18030" if path.name in _GBK_FILES else "utf-8", errors="replace").strip()
        pages.append(RealPage(path.name, body, ctype, re.sub(r"\s+", " ", title)[:80] or path.stem))
    return tuple(pages)


# --- generated articles -------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[。;；])")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_CN_NUM = "一二三四五六七八九十"

_TOPICS = ["安全生产", "防汛防台", "森林防灭火", "消防安全", "危险化学品", "城镇燃气", "道路交通",
           "建筑施工", "应急演练", "防灾减灾", "隐患排查", "执法检查", "应急物资", "值班值守"]
_KINDS = ["工作动态", "情况通报", "工作简报", "专项行动进展", "阶段性总结", "督导检查情况"]


@lru_cache(maxsize=1)
def _sentence_pool() -> tuple[str, ...]:
    """Body sentences of the Simplified seeds, minus headings, chrome and placeholders."""
    pool: list[str] = []
    for seed in load_seeds():
        if seed.traditional:
            continue
        for line in seed.text.splitlines():
            line = line.strip()
            if len(line) < 30 or "*" in line or "小编" in line or "隐藏" in line:
                continue
            for sent in _SENTENCE_END.split(line):
                sent = re.sub(r"^[((]?[一二三四五六七八九十]+[)）)、]", "", sent.strip())
                sent = re.sub(r"^[一二三四五六七八九十]是", "", sent)
                if 18 <= len(sent) <= 160 and sent.endswith(("。", ";", "；")):
                    pool.append(sent.rstrip(";；") + ("" if sent.endswith("。") else "。"))
    return tuple(dict.fromkeys(pool))


def _redraw_numbers(sentence: str, rng: random.Random) -> str:
    """Replace each number with a fresh one of similar size, so facts differ per article."""

    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if "." in s:
            return f"{rng.uniform(0.1, 99.9):.1f}"
        n = int(s)
        if 1990 <= n <= 2030 and len(s) == 4:  # a year stays a plausible year
            return str(rng.randint(2019, 2025))
        lo, hi = max(1, n // 2), max(3, n * 2)
        return str(rng.randint(lo, hi))

    return _DIGITS.sub(repl, sentence)


@dataclass(frozen=True)
class GeneratedArticle:
    index: int
    title: str
    published: datetime
    paragraphs: tuple[str, ...]  # first lines of sections start with 一、 / (一)


def generate_article(index: int, *, agency: str, salt: str = "") -> GeneratedArticle:
    """Article number `index` of a generated site: same inputs, same article."""
    rng = random.Random(f"{salt}:{agency}:{index}")
    pool = _sentence_pool()
    topic = rng.choice(_TOPICS)
    kind = rng.choice(_KINDS)
    published = datetime(2024, 1, 1, 9, 0) + timedelta(days=index % 700, minutes=(index * 37) % 480)
    title = f"{agency}{published.year}年{topic}{kind}(第{index + 1}期)"
    paragraphs = [f"为深入推进{topic}工作，{agency}第{index + 1}期{kind}如下。"]
    for s_i in range(rng.randint(2, 3)):
        paragraphs.append(f"{_CN_NUM[s_i]}、{rng.choice(_TOPICS)}{rng.choice(['工作开展情况', '主要做法', '存在问题', '下一步工作'])}")
        for p_i in range(rng.randint(1, 3)):
            sents = [_redraw_numbers(rng.choice(pool), rng) for _ in range(rng.randint(2, 4))]
            lead = f"({_CN_NUM[p_i]}){rng.choice(_TOPICS)}。" if rng.random() < 0.7 else ""
            paragraphs.append(lead + "".join(sents))
    paragraphs.append(f"本期共统计{rng.randint(3, 60)}个街道(镇)、{rng.randint(20, 900)}家企业的数据,编号{agency[:2]}-{index:05d}。")
    return GeneratedArticle(index, title, published, tuple(paragraphs))

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
