"""Issue 2 acceptance on every real page in fixtures/real/html.

Scored with the project's own scorer (`tests/fixtures/eval/pages.py`: character-bigram F1
after NFKC + Traditional→Simplified fold) so the test and `eval/pages.py --cmd …`
can never disagree about what a figure means. The whole parse runs (decode … normalize),
because the text that counts is the final `text`.
"""
from __future__ import annotations

import csv
import importlib.util
import re
from types import ModuleType
from typing import Any

import pytest

from govingest.parsers.pipeline import parse
from tests.conftest import EVAL, REAL

# The chrome markers (eval/pages.py scores a longer list; these are the acceptance).
CHROME = ["网站标识码", "ICP备", "公网安备", "扫一扫", "分享到", "打印本页", "关闭窗口", "当前位置", "字号", "无障碍", "主办单位"]


def _scorer() -> ModuleType:
    path = EVAL / "pages.py"
    if not path.exists():
        pytest.fail(f"scorer not found at {path}: tests/fixtures is part of the repository")
    spec = importlib.util.spec_from_file_location("govingest_eval_pages", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _manifest() -> list[dict[str, str]]:
    with open(REAL / "MANIFEST.tsv", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh, delimiter="\t") if (REAL / "html" / row["file"]).exists()]


ROWS = _manifest()


@pytest.fixture(scope="module")
def scorer() -> ModuleType:
    return _scorer()


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    """Every page parsed once for the whole module; a page that raises is recorded, not hidden."""
    out: dict[str, dict[str, Any]] = {}
    for row in ROWS:
        try:
            out[row["file"]] = parse((REAL / "html" / row["file"]).read_bytes()).to_json()
        except Exception as exc:  # recorded so test_every_page_parses names the page
            out[row["file"]] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# Pages of CMS families the first set lacked, with their F1 floor against the silver:
# each scored 0.96-0.99 when added, capped by text the copier inserted into the body.
OTHER_CMS_FLOORS = {
    "mhxqwer-tqjwhly.hebei.gov.cn__index.html": 0.95,  # Zving ZCMS, no gov meta tags
    "mhxqwer-dyqtaiyuan.gov.cn__index.html": 0.96,  # portal page, no known container
    "mhxqwer-lxhkjt.yn.gov.cn__index.html": 0.95,  # jyhcms
    "mhxqwer-mltjyt.zj.gov.cn__index.html": 0.97,  # Hanweb 政务公开: 索引号 table, body in a layout cell
    "mhxqwer-ypljnwl.jinan.gov.cn__index.html": 0.98,  # Hanweb 大汉版通, images between paragraphs
    "mhxqwer-gjbcac.gov.cn__index.html": 0.98,  # cac.gov.cn 网站群 CMS
    "mhxqwer-zgy2jyt.ah.gov.cn__index.html": 0.95,  # lonsun, 扫一扫 and 打印本页 under the body
    # genuine browser saves (no copier text; the pages issue 12 added second)
    # 江西 集约化 county 政务公开 page: 关联稿件 list before the body, charts between paragraphs
    "simonxinw-wanzai.gov.cn__7215380191c5400397df5d7d0b5fd06b.html": 0.98,
    # 江西 集约化 city 信息公开 page: dl 索引号 list above the title, title repeated in the body
    "simonxinw-yichun.gov.cn__36796cdc82d04268913f2884cf2fe579.html": 0.98,
    # the county portal's older template: empty 来源 before 访问量, a data table in the body
    "simonxinw-wanzai.gov.cn__9c059bf058ef4db8b3c8f920e22186fe.html": 0.98,
    # crawler-committed raw HTML (the pages issue 12 added third): a TRS WCM 政务公开 page
    # with crawler log lines before <!DOCTYPE>, 索 引 号 table, body in a layout-table cell
    "bigcpp110-gsj.wuhan.gov.cn__t20180314_224599.html": 0.98,
    # scio.gov.cn (国务院新闻办公室) photo article: no gov meta tags, captions between images
    "lixj-zj-www.scio.gov.cn__news.html": 0.98,
    # the same template with a 版权所有，转载请注明出处。 notice closing the body
    "lixj-zj-www.scio.gov.cn__test.html": 0.98,
    # 甘肃 集约化 platform notice: no known container, an attachment link in the body
    "jas0no7-fzgg.gansu.gov.cn__1.html": 0.98,
    # families and sites the set lacked (pagesC), third-party copies: floors sit under
    # the F1 their copier-inserted text allows
    "mhxqwer-jrneac.gov.cn__index.html": 0.97,  # 国家民委 (ministry), Kaipu template, no ContentSource
    "mhxqwer-lgcwsjkw.sh.gov.cn__index.html": 0.95,  # 上海卫健委: a 索取号 table opens the body container
    "mhxqwer-lytwtl.sz.gov.cn__index.html": 0.93,  # 广东 NFCMS (深圳), 来源 written by a script
    "mhxqwer-qzhxiangtan.gov.cn__index.html": 0.96,  # creatorCMS, declared gb2312, comment form after the body
    "mhxqwer-wxhshaanxi.gov.cn__index.html": 0.92,  # TRS WCM 陕西: <BR><BR> paragraphs in one <P>
    "mhxqwer-zlzlf.gov.cn__index.html": 0.95,  # PowerEasy (动易, .aspx) 廊坊: 来源 with an ASCII colon
    # eighteen more copies (pagesD), scored before any rule looked at them: floors under
    # the F1 their copier-inserted text allows
    "mhxqwer-gqsbjshy.gov.cn__index.html": 0.95,  # Huilan EasySite (顺义): 【信息发布…】【关闭窗口】 row
    "mhxqwer-tqjsjz.gov.cn__index.html": 0.96,  # WebIMS (石家庄), div#conN
    "mhxqwer-zysc.gov.cn__index.html": 0.98,  # Kaipu ucap (四川 portal), 长者专区 copy of the body
    "mhxqwer-jrbjxch.gov.cn__index.html": 0.97,  # 西城 JSP portal, Word-pasted body, lone 发布时间 line
    "mhxqwer-ycrjinan.gov.cn__index.html": 0.98,  # Hanweb jcms (济南), ContentStart/ContentEnd markers
    "mhxqwer-lklhfss.gov.cn__index.html": 0.96,  # lonsun disclosure page (合肥 蜀山), two 索引号 tables
    "mhxqwer-lysc.gov.cn__index.html": 0.96,  # TRS WCM with UCAP tags (四川), hidden elderly-mode copy
}


def test_the_fixture_set_is_complete() -> None:
    # the 27 first pages, then the pages issue 12 added (disclosure table, no container,
    # then seven pages of other CMS families, then genuine browser saves and crawler dumps,
    # then six copies of families the set still lacked, then twenty-eight copies scored unseen)
    assert len(ROWS) >= 77
    assert sum(r["kind"] == "gov" for r in ROWS) >= 67
    assert set(OTHER_CMS_FLOORS) <= {r["file"] for r in ROWS}


def test_every_page_parses(results: dict[str, dict[str, Any]]) -> None:
    errors = {name: r["error"] for name, r in results.items() if "error" in r}
    assert not errors
    assert all(r["text"].strip() for r in results.values())


def test_human_truth_bigram_f1(results: dict[str, dict[str, Any]], scorer: ModuleType) -> None:
    scores: dict[str, float] = {}
    for row in ROWS:
        truth, kind = scorer.truth_for(REAL, row["file"])
        if kind == "human":
            scores[row["file"]] = scorer.prf(results[row["file"]].get("text", ""), truth)[2]
    assert len(scores) == 6  # 3 immortal-autumn, 2 magic-html, 1 readability
    low = {k: round(v, 3) for k, v in scores.items() if v < 0.85}
    assert not low, f"pages below F1 0.85: {low}"
    mean = sum(scores.values()) / len(scores)
    assert mean >= 0.95, f"mean F1 {mean:.3f} < 0.95: {scores}"


def test_silver_truth_bigram_f1_does_not_regress(results: dict[str, dict[str, Any]], scorer: ModuleType) -> None:
    """Silver truth (the page's body element picked by hand) is not the acceptance bar, but
    a drop here means a container or chrome rule broke. Some mhxqwer copies carry inserted
    promotional paragraphs the silver leaves out, which caps their precision."""
    scores = []
    for row in ROWS:
        truth, kind = scorer.truth_for(REAL, row["file"])
        if kind == "silver":
            _p, r, f = scorer.prf(results[row["file"]].get("text", ""), truth)
            assert r >= 0.95, f"{row['file']}: recall {r:.2f}: part of the article was lost"
            scores.append(f)
    assert sum(scores) / len(scores) >= 0.9


@pytest.mark.parametrize("name", sorted(OTHER_CMS_FLOORS), ids=lambda n: n[:40])
def test_pages_of_other_cms_families(name: str, results: dict[str, dict[str, Any]], scorer: ModuleType) -> None:
    truth, kind = scorer.truth_for(REAL, name)
    assert kind == "silver"
    _p, recall, f1 = scorer.prf(results[name].get("text", ""), truth)
    assert recall >= 0.98, f"recall {recall:.3f}: part of the article was lost"
    assert f1 >= OTHER_CMS_FLOORS[name], f"F1 {f1:.3f} < {OTHER_CMS_FLOORS[name]}"


@pytest.mark.parametrize("row", [r for r in ROWS if r["kind"] == "gov"], ids=lambda r: r["file"][:40])
def test_no_chrome_markers_on_gov_pages(row: dict[str, str], results: dict[str, dict[str, Any]],
                                       scorer: ModuleType) -> None:
    truth, _ = scorer.truth_for(REAL, row["file"])
    text = scorer.fold(results[row["file"]].get("text", ""))
    leaked = [m for m in CHROME if m in text and m not in scorer.fold(truth or "")]
    assert not leaked


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _generation_time(name: str) -> str:
    """The 页面生成时间 of a page's others tag (or its HtmlGenerateTime), '' when none."""
    text = (REAL / "html" / name).read_bytes().decode("utf-8", "replace")
    m = re.search(r'content="页面生成时间\s*([^"]+)"', text) or re.search(r'name="HtmlGenerateTime"\s+content="([^"]+)"', text)
    return m.group(1) if m else ""


def _printed(name: str, day: str) -> bool:
    """Whether the page prints this day (YYYY-MM-DD) in its text."""
    text = (REAL / "html" / name).read_bytes().decode("utf-8", "replace")
    y, m, d = day.split("-")
    return any(form in text for form in (day, f"{y}年{int(m)}月{int(d)}日", f"{y}/{m}/{d}"))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"][:40])
def test_metadata_agrees_with_the_gov_meta_tags(row: dict[str, str], results: dict[str, dict[str, Any]],
                                                scorer: ModuleType) -> None:
    want = scorer.meta_of(REAL, row["file"])
    got = results[row["file"]]
    if want["title"]:
        # markup inside the meta value (ia__500b… wraps its subtitle in <div>) is not title
        # text, and a run of spaces is one space (zgy2jyt.ah's title has a double space)
        want_title = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", want["title"])).strip()
        assert scorer.fold(got["title"] or "") == scorer.fold(want_title)
    if want["date"] and _digits(want["date"]) == _digits(_generation_time(row["file"])):
        # PubDate stamped at render time (= the page's 页面生成时间): the tag, or a date the
        # page prints when that is another day (lysctcm.sc, wanzai 2015, fzgg.gansu were re-rendered)
        got_day = (got["published_at"] or "")[:10]
        assert _digits(got["published_at"] or "") == _digits(want["date"])[:12] or (
            got_day and _printed(row["file"], got_day)), got["published_at"]
    elif want["date"]:
        # same date and, where the tag has one, the same hour and minute
        assert got["published_at"] and _digits(got["published_at"]) == _digits(want["date"])[:12]
    if want["source"] and want["title"] and re.sub(r"\s+", "", want["source"]) == re.sub(r"\s+", "", want["title"]):
        # a template that fills ContentSource with the title (bigcpp110-gsj.wuhan…): no source
        assert scorer.fold(got["source"] or "") != scorer.fold(want["source"])
    elif want["source"]:
        assert scorer.fold(got["source"] or "") == scorer.fold(want["source"])
