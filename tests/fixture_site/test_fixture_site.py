"""The fixture site itself: what each site serves, conditional GET, faults, access log."""
from __future__ import annotations

import gzip
import hashlib
import html
import importlib.util
import itertools
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
import pytest

from govingest.workers.fixture_site import ALL_SITES, FixtureSite, read_access_log
from govingest.workers.fixture_site.content import REAL_DIR, SEEDS_DIR, generate_article
from govingest.workers.fixture_site.server import DIALECT_SITES
from tests.conftest import EVAL, GOLD, REAL, ROOT, SEEDS
from tests.fixture_site.faults import FaultSettings, build_faults, crc32_combine, gzip_bomb, poisoned_bulk

CHROME = ["当前位置", "扫一扫在手机上查看当前页面", "i厦门微信", "闽政通APP", "最新公开", "网站标识码",
          "ICP备", "公网安备", "主办单位", 'name="ArticleTitle"', 'name="PubDate"', 'name="ContentSource"',
          'name="SiteName"', 'name="ColumnName"', 'class="TRS_Editor"']


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("fixture") / "access.jsonl"
    site = FixtureSite(extra_sites=[build_faults(FaultSettings(slow_seconds=3.0)), poisoned_bulk(300, crawl_delay=0.1)],
                       access_log=log).start()
    yield site
    site.stop()


@pytest.fixture
def client():
    with httpx.Client(timeout=10) as c:
        yield c


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def test_each_site_has_its_own_port_robots_and_a_linked_disallowed_page(fx, client):
    assert [s.name for s in fx.sites] == ["siming", "real", "gbk", *DIALECT_SITES, "faults", "bulk"]
    assert len({s.host for s in fx.sites}) == 5 + len(DIALECT_SITES)
    for info in fx.sites:
        robots = client.get(info.url("/robots.txt"))
        assert robots.status_code == 200
        assert "Disallow: /admin/" in robots.text and "Crawl-delay: 0.1" in robots.text
        (secret,) = info.disallowed_urls
        linked = "".join(client.get(u).text for u in info.list_urls)
        assert secret.removeprefix(info.base_url) in linked, f"{info.name}: disallowed page not linked"


def test_trs_lists_are_paginated_by_createpagehtml_and_link_every_article(fx, client):
    for name in ("siming", "bulk"):
        info = fx.site(name)
        pages = [client.get(u).text for u in info.list_urls]
        assert len(pages) >= 3
        for n, page in enumerate(pages):
            assert f'createPageHTML({len(pages)}, {n}, "index", "html")' in page
            assert "index_" not in re.sub(r"<script.*?</script>", "", page, flags=re.S), \
                "the pager must exist only in script, as on TRS sites"
        linked = set(re.findall(r'href="([^"]+\.htm)"', "".join(pages)))
        assert {u.removeprefix(info.base_url) for u in info.article_urls} <= linked
        assert [u.rsplit("/", 1)[1] for u in info.list_urls] == \
            ["index.html"] + [f"index_{i}.html" for i in range(1, len(pages))]


def test_seed_pages_wrap_every_seed_line_in_gov_chrome(fx, client):
    info = fx.site("siming")
    assert sorted(info.seed_urls) == sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    for seed, url in info.seed_urls.items():
        page = client.get(url).text
        body = re.search(r'<div class="TRS_Editor">(.*?)</div>', page, re.S).group(1)
        lines = [ln.strip() for ln in (SEEDS_DIR / seed).read_text(encoding="utf-8").splitlines() if ln.strip()]
        assert [ln.strip() for ln in _text(body).splitlines() if ln.strip()] == lines
        chrome = CHROME if not seed.startswith("003") else ["當前位置", "掃一掃在手機打開當前頁", "網站標識碼", 'class="TRS_Editor"']
        for marker in chrome:
            assert marker in page, f"{seed}: {marker} missing"


def _score_module():
    spec = importlib.util.spec_from_file_location("govingest_shared_score_fx", EVAL / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_pages_parse_as_well_as_the_seed_texts(fx, client):
    """Wrapping a seed in site chrome must not cost a single gold check the bare text passes.

    The crawl acceptance test needs every seed page to parse to the gold; this pins the
    fixture's share of that: chrome, meta tags and the TRS body container add nothing
    the parser keeps and hide nothing it needs.
    """
    from govingest.parsers.model import ParseError
    from govingest.parsers.pipeline import parse

    score = _score_module()
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    for seed, url in fx.site("siming").seed_urls.items():
        r = client.get(url)
        page_fails: list[str] = []
        text_fails: list[str] = []
        score.check(parse(r.content, url=url, content_type=r.headers["content-type"]).to_json(), gold[seed],
                    page_fails.append)
        try:
            score.check(parse((SEEDS_DIR / seed).read_bytes()).to_json(), gold[seed], text_fails.append)
        except ParseError as exc:
            text_fails.append(str(exc))
        assert set(page_fails) <= set(text_fails), f"{seed}: only the page fails {set(page_fails) - set(text_fails)}"
        if "title" in gold[seed]:
            assert parse(r.content, url=url).title == gold[seed]["title"]


def test_real_pages_are_served_byte_for_byte_with_their_charset_headers(fx, client):
    info = fx.site("real")
    # the demo ships the first 27 real pages; tests/fixtures/real may hold more (issue 12's)
    assert len(info.article_urls) == len(list(REAL_DIR.glob("*.html")))
    for url in info.article_urls:
        name = url.rsplit("/", 1)[1]
        r = client.get(url)
        assert r.content == (REAL / "html" / name).read_bytes()
    # attachments the saved pages link (never saved with them) are served as stand-ins
    docx = client.get(info.url("/pages/W020240613556663716813.docx"))
    assert docx.status_code == 200 and "wordprocessingml" in docx.headers["content-type"]
    assert client.get(info.url("/pages/W020240613556663716813.pdf")).content.startswith(b"%PDF-")
    assert client.get(info.url("/pages/missing.html")).status_code == 404
    assert client.get(info.url("/col/col1620984/index.html")).status_code == 404
    gbk_right = client.get(info.url("/pages/ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e.html"))
    assert gbk_right.headers["content-type"].endswith("charset=gbk")
    gbk_right.content.decode("gbk")
    gbk_wrong = client.get(info.url("/pages/ia__b26fbb82-9d98-42f0-af75-7439c1706bcd.html"))
    assert gbk_wrong.headers["content-type"].endswith("charset=utf-8")
    with pytest.raises(UnicodeDecodeError):
        gbk_wrong.content.decode("utf-8")


def test_bundled_data_are_identical_to_the_shared_originals():
    for p in SEEDS_DIR.glob("*.txt"):
        assert p.read_bytes() == (SEEDS / p.name).read_bytes()
    for p in REAL_DIR.glob("*.html"):
        assert p.read_bytes() == (REAL / "html" / p.name).read_bytes()
    assert len(list(SEEDS_DIR.glob("*.txt"))) == 5 and len(list(REAL_DIR.glob("*.html"))) == 27


def test_gbk_site_is_gbk_with_plain_pager_links(fx, client):
    info = fx.site("gbk")
    assert info.body_selector == "div#zoom"
    first = client.get(info.list_urls[0])
    assert first.headers["content-type"] == "text/html; charset=gbk"
    assert 'href="index_1.htm">下一页' in first.content.decode("gbk")
    for url in info.article_urls:
        r = client.get(url)
        with pytest.raises(UnicodeDecodeError):
            r.content.decode("utf-8")
        page = r.content.decode("gbk")
        assert 'charset=gbk' in page and '<div id="zoom">' in page and "网站标识码" in page


def test_conditional_get_answers_304_and_the_access_log_records_validators(fx, client):
    url = fx.site("siming").article_urls[1]
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    path = url.removeprefix(fx.site("siming").base_url)
    recs = [r for r in read_access_log(fx.access_log) if r["path"] == path]
    assert [r["status"] for r in recs[-5:]] == [200, 304, 304, 200, 200]
    assert recs[-4]["headers"]["If-None-Match"] == etag and recs[-4]["bytes"] == 0
    assert recs[-3]["headers"]["If-Modified-Since"] == modified
    assert all(r["site"] == "siming" and r["method"] == "GET" and "User-Agent" in r["headers"] for r in recs)
    assert recs[-5]["bytes"] == len(first.content)


def test_fault_endpoints(fx, client):
    f = fx.site("faults").fault_urls
    index = client.get(fx.site("faults").start_urls[0]).text
    for url in f.values():
        assert f'href="{url.removeprefix(fx.site("faults").base_url)}"' in index
    assert client.get(f["not_found"]).status_code == 404
    loop = client.get(f["redirect_loop"], follow_redirects=False)
    back = client.get(fx.site("faults").url(loop.headers["location"]), follow_redirects=False)
    assert loop.status_code == back.status_code == 302
    assert back.headers["location"] == f["redirect_loop"].removeprefix(fx.site("faults").base_url)
    assert client.get(f["redirect_private"]).headers["location"].startswith("http://10.0.0.1/")
    assert client.get(f["redirect_metadata"]).headers["location"].startswith("http://169.254.169.254/")
    wrong = client.get(f["wrong_charset"])
    assert wrong.headers["content-type"].endswith("charset=utf-8")
    with pytest.raises(UnicodeDecodeError):
        wrong.content.decode("utf-8")
    assert "全区共排查单位532家" in wrong.content.decode("gbk")
    binary = client.get(f["binary"])
    assert binary.headers["content-type"].startswith("text/html") and b"\x00" in binary.content
    empty = client.get(f["empty"])
    assert empty.status_code == 200 and empty.content == b"" and empty.headers["content-length"] == "0"
    pdf = client.get(f["attachment"])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


def test_flaky_and_rate_limited_recover(tmp_path, client):
    with FixtureSite(sites=[], extra_sites=[build_faults(FaultSettings(flaky_failures=2, retry_after=7))],
                     access_log=tmp_path / "a.jsonl") as fx:
        f = fx.site("faults").fault_urls
        assert [client.get(f["flaky"]).status_code for _ in range(3)] == [500, 500, 200]
        limited = client.get(f["rate_limited"])
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
        assert client.get(f["rate_limited"]).status_code == 200


def test_slow_endpoint_outlasts_a_read_timeout_and_stop_cuts_it_short(tmp_path):
    fx = FixtureSite(sites=[], extra_sites=[build_faults(FaultSettings(slow_seconds=60))],
                     access_log=tmp_path / "a.jsonl").start()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(fx.site("faults").fault_urls["slow"], timeout=httpx.Timeout(5, read=0.5))
    t0 = time.monotonic()
    fx.stop()
    assert time.monotonic() - t0 < 5, "stop() must not wait for a 60 s slow response"


def test_stop_hangs_up_idle_keep_alive_connections(tmp_path):
    fx = FixtureSite(sites=["siming"], access_log=tmp_path / "a.jsonl").start()
    servers = list(fx._servers)

    def handler_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if getattr(getattr(t, "_target", None), "__self__", None) in servers]

    with httpx.Client() as c:
        assert c.get(fx.site("siming").start_urls[0]).status_code == 200  # the connection stays open
        assert handler_threads(), "a keep-alive connection holds a handler thread"
        fx.stop()
        deadline = time.monotonic() + 3
        while handler_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not handler_threads(), "stop() left a handler thread waiting on an idle connection"
        with pytest.raises(httpx.TransportError):
            c.get(fx.site("siming").start_urls[0])


def test_huge_body_is_streamed_and_a_hangup_does_not_hurt_the_server(fx, client):
    url = fx.site("faults").fault_urls["huge"]
    with client.stream("GET", url) as r:
        assert r.headers["content-length"] == str(50 * 1024 * 1024)
        got = 0
        for chunk in r.iter_raw():
            got += len(chunk)
            if got > 1_000_000:
                break
    assert client.get(fx.site("faults").start_urls[0]).status_code == 200  # server still fine
    # The handler logs the request when its write fails on the closed socket, which can be
    # after the next request is answered (socket buffers absorb a few MB first).
    deadline = time.monotonic() + 10
    while not (recs := [r for r in read_access_log(fx.access_log) if r["path"].endswith("/huge.html")]):
        assert time.monotonic() < deadline, "the cut-off huge response was never logged"
        time.sleep(0.05)
    rec = recs[-1]
    assert 1_000_000 < rec["bytes"] < 50 * 1024 * 1024


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(fx, client):
    with client.stream("GET", fx.site("faults").fault_urls["gzip_bomb"]) as s:
        assert s.headers["content-encoding"] == "gzip"
        raw = b"".join(s.iter_raw())
    assert len(raw) < 10 * 1024 * 1024
    d = zlib.decompressobj(31)
    out = d.decompress(raw, 200 * 1024 * 1024)
    assert len(out) == 200 * 1024 * 1024 and not out.strip(b"\x00")
    assert d.unconsumed_tail, "a 200 MB inflate must not reach the end of the bomb"


def test_gzip_bomb_is_a_valid_gzip_stream_with_a_correct_trailer():
    """Same construction at a size a test can inflate fully: gzip checks CRC32 and ISIZE."""
    for size in (32 << 20, 80 << 20):
        assert gzip.decompress(gzip_bomb(size)) == bytes(size)
    a, b = b"govingest" * 77, bytes(range(256)) * 3
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_bulk_site_has_distinct_articles_that_are_not_near_duplicates(fx, client):
    from govingest.parsers.signature import shingles

    info = fx.site("bulk")
    assert len(info.article_urls) == 300 == len(set(info.article_urls))
    bodies = [re.search(r'<div class="TRS_Editor">(.*?)</div>', client.get(u).text, re.S).group(1)
              for u in info.article_urls[:80]]
    assert len({hashlib.sha256(b.encode()).hexdigest() for b in bodies}) == 80
    grams = [shingles(_text(b)) for b in bodies]
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(grams, 2))
    assert worst < 0.5, f"two generated articles share {worst:.0%} of their 5-grams"
    assert generate_article(7, agency="x", salt="s") == generate_article(7, agency="x", salt="s")


def test_poison_page_is_linked_only_when_enabled(fx, client, tmp_path):
    url = fx.site("bulk").fault_urls["poison"]
    assert url.removeprefix(fx.site("bulk").base_url) in client.get(fx.site("bulk").list_urls[0]).text
    page = client.get(url)
    assert len(page.content) > 5_000_000 and page.content.count(b"<tr>") >= 40_000
    with FixtureSite(sites=["bulk"], articles=3, extra_sites=[build_faults()], access_log=tmp_path / "a.jsonl") as plain:
        for name in ("faults", "bulk"):
            assert "poison" not in plain.site(name).fault_urls
            assert client.get(plain.site(name).url("/poison.html")).status_code == 404


def test_the_package_serves_no_fault_endpoint(tmp_path, client):
    """The gzip bomb, the poison page and the other hostile endpoints are test equipment:
    nothing under workers/ (what the wheel ships) builds them, and the demo's sites link none."""
    assert importlib.util.find_spec("govingest.workers.fixture_site.faults") is None
    shipped = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "workers").rglob("*.py"))
    for name in ("gzip_bomb", "poison_page", "huge_body", "build_faults", "FaultSettings"):
        assert name not in shipped, f"{name} is in the package"
    with FixtureSite(access_log=tmp_path / "a.jsonl") as demo:
        assert [s.name for s in demo.sites] == list(ALL_SITES) == ["siming", "real", "gbk", *DIALECT_SITES]
        # The dialect sites carry the real web's oddities (a script-filled page, a UTF-16
        # article), not hostile endpoints: those are the only "faults" the demo may link.
        kinds = {kind for s in demo.sites for kind in s.fault_urls}
        assert kinds <= {"script_filled", "utf16"}, kinds


def test_extra_sites_need_their_own_names(tmp_path):
    from govingest.workers.fixture_site.sites import build_siming

    with pytest.raises(ValueError, match="siming"):
        FixtureSite(sites=["siming"], extra_sites=[build_faults(), build_siming(0.1)], access_log=tmp_path / "a.jsonl")


def test_latency_delays_every_response(tmp_path, client):
    with FixtureSite(sites=["siming"], latency=0.3, access_log=tmp_path / "a.jsonl") as fx:
        t0 = time.monotonic()
        client.get(fx.site("siming").url("/robots.txt"))
        assert time.monotonic() - t0 >= 0.3


def test_publish_adds_listed_articles_and_revise_changes_validators(tmp_path, client):
    with FixtureSite(sites=["gbk"], gbk_articles=3, access_log=tmp_path / "a.jsonl") as fx:
        (new,) = fx.publish("gbk", 1)
        assert client.get(new).status_code == 200 and len(fx.site("gbk").article_urls) == 4
        assert new.removeprefix(fx.site("gbk").base_url) in client.get(fx.site("gbk").list_urls[0]).text
        old = client.get(new).headers["etag"]
        fx.revise(new)
        r = client.get(new, headers={"If-None-Match": old})
        assert r.status_code == 200 and r.headers["etag"] != old and "本文已更新" in r.content.decode("gbk")
        with pytest.raises(ValueError):
            fx.revise(fx.site("gbk").list_urls[0])  # list pages are not articles


def test_sites_toml_loads_in_the_crawler_and_patterns_classify_urls(fx, tmp_path):
    from govingest.crawler.config import load_sites
    from govingest.workers.fixture_site import write_sites_toml

    path = write_sites_toml(tmp_path / "sites.toml", fx, rate=4.0, overrides={"bulk": {"max_pages": 900}})
    configs = {c.name: c for c in load_sites(path)}
    assert set(configs) == {s.name for s in fx.sites}
    for info in fx.sites:
        cfg = configs[info.name]
        assert cfg.local and cfg.rate == 4.0 and cfg.allowed_hosts == (info.host,)
        assert cfg.body_selector == info.body_selector
        if info.dialect is not None:  # dialect sites: no patterns, the crawler reads the page itself
            assert not cfg.article_patterns and not cfg.list_patterns
            continue
        assert all(cfg.is_article(u) and not cfg.is_list(u) for u in info.article_urls)
        assert all(cfg.is_list(u) and not cfg.is_article(u) for u in info.list_urls)
        assert not any(cfg.is_article(u) for u in info.disallowed_urls)
    # the real pages link their own sites' column pages (/col/…/index.html): not lists here
    assert not configs["real"].is_list(fx.site("real").url("/col/col1620984/index.html"))
    assert not configs["real"].is_article(fx.site("real").url("/pages/index.html"))
    assert configs["bulk"].max_pages == 900
    assert {c.name for c in load_sites(write_sites_toml(tmp_path / "one.toml", fx, sites=["gbk"]))} == {"gbk"}
    with pytest.raises(ValueError, match="not running"):
        write_sites_toml(tmp_path / "early.toml", FixtureSite(sites=["gbk"]))


def test_every_request_is_one_access_log_line(tmp_path, client):
    log = tmp_path / "a.jsonl"
    with FixtureSite(sites=["siming", "gbk"], access_log=log) as fx:
        for info in fx.sites:
            client.get(info.url("/robots.txt"), headers={"User-Agent": "govingest-test"})
            client.head(info.start_urls[0])
            client.get(info.url("/nope.html"))
    recs = read_access_log(log)
    assert [(r["site"], r["method"], r["path"], r["status"]) for r in recs] == [
        ("siming", "GET", "/robots.txt", 200), ("siming", "HEAD", "/zwgk/gzdt/index.html", 200),
        ("siming", "GET", "/nope.html", 404), ("gbk", "GET", "/robots.txt", 200),
        ("gbk", "HEAD", "/xwzx/yjgl/index.htm", 200), ("gbk", "GET", "/nope.html", 404)]
    assert recs[0]["headers"]["User-Agent"] == "govingest-test"
    assert all(isinstance(r["ts"], float) for r in recs) and recs == sorted(recs, key=lambda r: r["ts"])
    assert recs[1]["bytes"] == 0
    assert all(0 <= r["seconds"] < 5 for r in recs)


def test_package_data_ships_the_bundled_files(tmp_path):
    """setuptools (with pyproject's package-data) must copy data/seeds and data/real into a build
    of the `govingest` namespace, whose folders are symbolic links to the top-level ones."""
    root = Path(__file__).resolve().parents[2]
    pkg = root / "workers" / "fixture_site"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, tmp_path)
    for name in ("govingest", "parsers", "crawler", "db", "workers"):
        shutil.copytree(root / name, tmp_path / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "-d", "out"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    built = tmp_path / "out" / "govingest" / "workers" / "fixture_site" / "data"
    for f in itertools.chain(SEEDS_DIR.iterdir(), REAL_DIR.iterdir(), [pkg / "data" / "MANIFEST.txt"]):
        assert (built / f.relative_to(pkg / "data")).is_file(), f"{f.name} would not ship in a wheel"
    assert (tmp_path / "out" / "govingest" / "parsers" / "pipeline.py").is_file()
    assert not (tmp_path / "out" / "parsers").exists(), "only the govingest namespace is installed"


GOVINGEST = Path(sys.executable).with_name("govingest")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_fixtures_command_serves_writes_a_sites_file_and_stops_on_a_signal(tmp_path, sig):
    from govingest.crawler.config import load_sites

    log, toml = tmp_path / "access.jsonl", tmp_path / "sites.toml"
    proc = subprocess.Popen([str(GOVINGEST), "serve-fixtures", "--site", "siming", "--site", "gbk",
                             "--sites-toml", str(toml), "--access-log", str(log), "--crawl-delay", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        assert [ln.split()[0] for ln in lines[:2]] == ["siming", "gbk"], lines
        base = lines[0].split()[1]
        assert "Crawl-delay: 0.5" in httpx.get(base + "/robots.txt").text
        assert {s.name for s in load_sites(toml)} == {"siming", "gbk"}
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "stopped" in out and "Traceback" not in err
    assert read_access_log(log)[0]["path"] == "/robots.txt"


def test_serve_fixtures_on_a_busy_port_says_what_to_do(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([str(GOVINGEST), "serve-fixtures", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"127.0.0.1:{port}" in run.stderr and "--port" in run.stderr
