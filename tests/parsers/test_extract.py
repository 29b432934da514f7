"""extract: gov CMS containers, chrome dropped at the DOM level, tables as rows, fallbacks."""
from __future__ import annotations

import re

import pytest

from govingest.parsers.decode import decode
from govingest.parsers.extract import extract, parse_html
from govingest.parsers.model import Decoded
from tests.conftest import REAL

HTML = REAL / "html"


def _page(html: str) -> Decoded:
    return Decoded(text=html, encoding="utf-8", is_html=True)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


BODY = ("为深入贯彻落实党中央、国务院关于安全生产工作的决策部署，全面排查整治各类风险隐患，"
        "市应急管理局于近日组织开展了全市安全生产大检查，共检查企业二百余家。")


@pytest.mark.parametrize("name,first,last", [
    # stray </html> well before the article (line 173, article at line 204)
    ("ia__500b350d-d38d-4fb0-9e81-75e0c95e95a8.html", "新征程催人奋进，新使命激荡人心", "预祝大会圆满成功"),
    # a whole <html>…</html> document nested inside the body container
    ("mhxqwer-lszqingdao.gov.cn__index.html", "为提高群众法治文化素养", "弘扬法治精神"),
])
def test_a_stray_closing_html_tag_does_not_lose_the_article(name: str, first: str, last: str) -> None:
    decoded = decode((HTML / name).read_bytes())
    assert -1 < decoded.text.find("</html>") < len(decoded.text) - 100  # the trap is really there
    out = extract(decoded)
    text = _squash("".join(out.paragraphs))
    assert out.method.startswith("container:")
    assert _squash(first) in text and _squash(last) in text


@pytest.mark.parametrize("name,method", [
    ("gne-shanxi__1.html", "container:TRS_Editor"),
    ("gne-gzggw__1.html", "container:#zoom"),
    ("mhxqwer-jchgz.gov.cn__index.html", "container:#zoomcon"),
    ("mhxqwer-zxw1wuhan.gov.cn__index.html", "container:TRS_UEDITOR"),  # nested TRS_Editor: the tight one
    ("magichtml__9c642bd57e7c44cd.html", "container:TRS_Editor"),
])
def test_gov_cms_containers_are_found(name: str, method: str) -> None:
    out = extract(decode((HTML / name).read_bytes()))
    assert out.method == method
    joined = "\n".join(out.paragraphs)
    for marker in ("网站标识码", "ICP备", "扫一扫", "分享到", "当前位置"):
        assert marker not in joined


def test_chrome_inside_the_container_is_dropped() -> None:
    html = f"""<html><body><div class="TRS_Editor">
      <div class="info">发布时间：2024-05-13 10:30 来源：市应急管理局 浏览次数：12</div>
      <p>{BODY}</p>
      <div class="bdsharebuttonbox"><a>分享到微信</a><a>分享到微博</a></div>
      <div class="content_ewm"><img src="qr.png"><p>手机扫码阅读</p></div>
      <p class="sys">扫一扫在手机打开当前页</p>
      <div class="article-switch"><a>上一篇：某某</a><a>下一篇：某某</a></div>
      <p class="hidden">浏览次数：次</p>
      <script>var x = "不应出现的脚本文本";</script><style>.a{{}}</style>
    </div></body></html>"""
    out = extract(_page(html))
    assert out.paragraphs == [BODY]


def test_tables_become_tab_joined_rows() -> None:
    html = f"""<html><body><div id="zoom"><p>{BODY}</p>
      <table><tr><th>指标</th><th>数量</th></tr>
        <tr><td>检查企业</td><td><p>29136家</p></td></tr>
        <tr><td>  </td><td></td></tr></table></div></body></html>"""
    out = extract(_page(html))
    assert out.paragraphs == [BODY, "指标\t数量", "检查企业\t29136家"]



def test_a_disclosure_table_inside_the_container_is_metadata_not_body() -> None:
    """上海卫健委 opens its body container with a 索取号 | 发布时间 | 发布机构 | 文件编号 | 备注
    row over the values; label/value cell pairs do the same elsewhere. A data table with a
    文号 column is body: it lists documents, row after row."""
    html = f"""<html><body><div id="ivs_content">
      <table><tbody><thead><tr><td>索取号</td><td>发布时间</td><td>发布机构</td><td>文件编号</td><td>备注</td></tr></thead>
        <tr><td>076478684Q/2024-00112</td><td></td><td>上海市卫生健康委员会</td><td>沪卫基层〔2024〕5号</td><td></td></tr>
      </tbody></table>
      <table><tr><td>索 引 号：</td><td>11310000002424/2024-01</td><td>发文机关：</td><td>市应急管理局</td></tr></table>
      <p>{BODY}</p>
      <table><tr><td>序号</td><td>文件名称</td><td>文号</td></tr>
        <tr><td>1</td><td>关于加强安全生产的通知</td><td>沪应急〔2024〕1号</td></tr>
        <tr><td>2</td><td>关于开展安全检查的通知</td><td>沪应急〔2024〕2号</td></tr></table>
    </div></body></html>"""
    out = extract(_page(html))
    assert out.paragraphs == [BODY, "序号\t文件名称\t文号", "1\t关于加强安全生产的通知\t沪应急〔2024〕1号",
                              "2\t关于开展安全检查的通知\t沪应急〔2024〕2号"]

def test_blocks_and_line_breaks_are_paragraphs_inline_tags_are_not() -> None:
    html = f"""<html><body><div class="TRS_UEDITOR"><p>第一段<b>加粗</b>继续，{BODY}</p>
      <div>第二段<br>第三段<span>同段</span></div></div></body></html>"""
    out = extract(_page(html))
    assert out.paragraphs == [f"第一段加粗继续，{BODY}", "第二段", "第三段同段"]


def test_an_implausible_container_falls_back_to_the_block_that_reads_as_an_article() -> None:
    links = "".join(f'<li><a href="/a{i}.html">关于开展第{i}批安全生产专项检查工作的通知公告</a></li>' for i in range(10))
    article = "".join(f"<p>{BODY}第{i}段。</p>" for i in range(6))
    html = f"""<html><head><title>t</title></head><body>
      <div class="TRS_Editor"><ul>{links}</ul></div>
      <article><h1>标题</h1>{article}</article></body></html>"""
    out = extract(_page(html))
    assert out.method == "blocks"  # parsers/blocks: sentences outside links, before trafilatura
    assert any("第3段" in p for p in out.paragraphs)
    assert not any("通知公告" in p for p in out.paragraphs)


def test_a_site_body_selector_comes_first() -> None:
    html = f"""<html><body><div class="TRS_Editor"><p>{BODY}</p></div>
      <div class="mybody"><p>选择器指定的正文：{BODY}</p></div></body></html>"""
    out = extract(_page(html), body_selector="div.mybody")
    assert out.method == "selector:div.mybody"
    assert out.paragraphs == [f"选择器指定的正文：{BODY}"]
    # a selector matching nothing (or invalid) falls back to the built-in containers
    assert extract(_page(html), body_selector="div.nothing").method == "container:TRS_Editor"
    assert extract(_page(html), body_selector="[[bad").method == "container:TRS_Editor"


def test_the_shared_tree_gives_the_same_result_as_parsing_here() -> None:
    decoded = decode((HTML / "gne-shanxi__1.html").read_bytes())
    tree = parse_html(decoded.text)
    assert tree is not None
    assert extract(decoded, tree=tree).paragraphs == extract(decoded).paragraphs


def test_text_input_is_split_into_lines() -> None:
    out = extract(Decoded(text="第一行\n第二行\n", encoding="utf-8", is_html=False))
    assert out.method == "text"
    assert out.paragraphs == ["第一行", "第二行"]


def test_markup_without_elements_gives_no_paragraphs() -> None:
    assert parse_html("") is None
    assert extract(_page("")).paragraphs == []


def test_article_text_under_a_chrome_like_name_is_kept() -> None:
    body = "".join(f"<p>{BODY}第{i}段。</p>" for i in range(4))
    html = f"""<html><body><div class="TRS_Editor"><div id="print_content">{body}</div>
      <div class="share">分享到微信朋友圈</div></div></body></html>"""
    out = extract(_page(html))
    assert len(out.paragraphs) == 4 and out.paragraphs[3] == f"{BODY}第3段。"


def test_trafilatura_tables_become_tab_joined_rows_too() -> None:
    # only link text: no block reads as an article, so trafilatura gets the page
    article = "".join(f'<p><a href="/{i}">{BODY}第{i}段。</a></p>' for i in range(4))
    html = f"""<html><head><title>t</title></head><body><article><h1>某某通知</h1>{article}
      <table><tr><th>指标</th><th>数量</th></tr><tr><td>检查企业</td><td>29136家</td></tr></table>
      {article}</article></body></html>"""
    out = extract(_page(html))
    assert out.method == "trafilatura"
    assert "指标\t数量" in out.paragraphs and "检查企业\t29136家" in out.paragraphs
    assert not any(p.startswith("|") for p in out.paragraphs)


def test_unclosed_inline_tags_deeper_than_256_levels_keep_all_text() -> None:
    # old pages open a <font> per sentence and never close them; libxml2 drops whatever
    # lies deeper than 256 levels unless huge_tree is on, and a recursive walk would
    # overflow Python's stack long before the tree ends
    sentences = [f"第{i}条：全市共检查企业{i}家，发现隐患{i % 7}处。" for i in range(1500)]
    html = "<html><body><div class='TRS_Editor'>" + "".join(f"<font>{s}" for s in sentences) + "</div></body></html>"
    out = extract(_page(html))
    text = "".join(out.paragraphs)
    assert out.method == "container:TRS_Editor"
    assert all(s in text for s in sentences)
