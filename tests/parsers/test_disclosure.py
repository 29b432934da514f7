"""The 政府信息公开 fields (索引号, 文号, 发文机关, 成文日期, 主题分类, 有效性) in every layout sites use.

The real page (gov.cn, State Council decision 国发〔2018〕43号) was checked by hand
against its table; the other layouts follow the public shape of provincial and city
portals (Hanweb <li> pairs, TRS one-line bars, values written by script).
"""
from __future__ import annotations

import json
import subprocess
import sys

from govingest.parsers.disclosure import disclosure_from_lines, disclosure_from_tree
from govingest.parsers.extract import parse_html
from govingest.parsers.metadata import meta_tags
from govingest.parsers.model import Disclosure
from govingest.parsers.pipeline import parse
from tests.conftest import REAL

GOV_CN = REAL / "html" / "gov-cn-zhengce__content_5353307.html"


def _of(html: str) -> Disclosure:
    tree = parse_html(html)
    assert tree is not None
    return disclosure_from_tree(tree, meta_tags(tree), html)


def test_the_gov_cn_page_gives_every_field_of_its_table() -> None:
    """Run as a user runs it: `govingest parse` on the saved page."""
    done = subprocess.run([sys.executable, "-m", "govingest", "parse", "--format", "json", str(GOV_CN)],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert {k: doc[k] for k in ("index_number", "doc_number", "issuer", "written_at", "subject", "validity")} == {
        "index_number": "000014349/2018-00222", "doc_number": "国发〔2018〕43号", "issuer": "国务院",
        "written_at": "2018-12-21", "subject": "卫生、体育\\医药管理", "validity": None}
    assert doc["title"] == "国务院关于在海南博鳌乐城国际医疗旅游先行区暂时调整实施《中华人民共和国药品管理法实施条例》有关规定的决定"
    assert doc["published_at"] == "2018-12-29"  # 发布日期, not the 成文日期 printed before it
    assert doc["kind"] == "article"
    # it cites the regulation it suspends, and not itself (its number heads its own body)
    assert doc["citations"] == [{"title": "中华人民共和国药品管理法实施条例", "doc_number": None, "kind": "条例"}]


def test_the_moe_notice_page_gives_its_table_fields() -> None:
    """教育部 policy page (MOE's 信息索引/生成日期/发文机构/发文字号/信息类别 table), checked by hand."""
    doc = parse((REAL / "html" / "mhxqwer-wjmoe.gov.cn__index.html").read_bytes())
    assert doc.disclosure == Disclosure(index_number="360A12-07-2024-0008-1", doc_number="教思政厅函〔2024〕10号",
                                        issuer="教育部办公厅", written_at="2024-06-04", subject="高等教育")


def test_li_pairs_with_spaced_labels_and_an_empty_value() -> None:
    d = _of("""<html><body><div class="xxgk_info"><ul>
      <li><span>索 引 号：</span>11350200MB0F44261X/2024-01234</li>
      <li><span>主题分类：</span></li>
      <li><span>发布机构：</span>厦门市思明区应急管理局</li>
      <li><span>发文日期：</span>2024-05-28</li>
      <li><span>文　　号：</span>厦思应急〔 2024 〕15 号</li>
      <li><span>有 效 性：</span>有效</li></ul></div></body></html>""")
    assert d == Disclosure(index_number="11350200MB0F44261X/2024-01234", doc_number="厦思应急〔2024〕15号",
                           issuer="厦门市思明区应急管理局", written_at="2024-05-28", subject=None, validity="有效")


def test_one_line_bar_of_label_value_pairs() -> None:
    d = _of("<html><body><div>索引号：000014349/2024-00066 发文机关：国务院办公厅 成文日期：2024年3月5日 "
            "发文字号：国办发〔2024〕12号 有效性：现行有效</div></body></html>")
    assert (d.index_number, d.issuer, d.written_at, d.doc_number, d.validity) == (
        "000014349/2024-00066", "国务院办公厅", "2024-03-05", "国办发〔2024〕12号", "现行有效")


def test_a_value_written_by_a_script_literal() -> None:
    d = _of("""<html><body><table><tr><td>发文字号：</td>
      <td><script>var fwzh = "闽政办〔2023〕7号"; if (fwzh == "") { document.write("无"); } else { document.write(fwzh); }</script></td>
      <td>成文日期：</td><td><script>document.write("2023-02-10");</script></td></tr></table></body></html>""")
    assert (d.doc_number, d.written_at) == ("闽政办〔2023〕7号", "2023-02-10")



def test_a_row_of_labels_over_a_row_of_values() -> None:
    """上海卫健委's layout: each label stands over its value in the same column."""
    found = _of("""<html><body><table><tbody><thead><tr><td>索取号</td><td>发布时间</td><td>发布机构</td>
        <td>文件编号</td><td>备注</td></tr></thead>
        <tr><td>076478684Q/2024-00112</td><td></td><td>上海市卫生健康委员会</td><td>沪卫基层〔2024〕5号</td><td></td></tr>
        </tbody></table><p>各区卫生健康委：</p></body></html>""")
    assert (found.index_number, found.issuer, found.doc_number) == (
        "076478684Q/2024-00112", "上海市卫生健康委员会", "沪卫基层〔2024〕5号")


def test_a_list_of_documents_under_a_label_header_gives_no_fields() -> None:
    """A 文件名称 | 文号 | 发布机构 header over several rows lists other documents."""
    found = _of("""<html><body><table><tr><td>文件名称</td><td>文号</td><td>发布机构</td></tr>
        <tr><td>关于甲的通知</td><td>沪应急〔2024〕1号</td><td>市应急管理局</td></tr>
        <tr><td>关于乙的通知</td><td>沪应急〔2024〕2号</td><td>市应急管理局</td></tr></table></body></html>""")
    assert (found.doc_number, found.issuer, found.title) == (None, None, None)


def test_the_name_row_of_a_table_is_the_title() -> None:
    """TRS 政务公开 (武汉) prints 名称, 教育部 信息名称: the document's title, which stands in
    for a generic <title> (政务公开信息内容页) when the page has no ArticleTitle tag."""
    html = """<html><head><title>政务公开信息内容页</title></head><body><table>
        <tr><td>索 引 号</td><td>010-2018-000012</td><td>发布机构</td><td>武汉市工商局</td></tr>
        <tr><td><strong>名称</strong></td><td colspan="3">&nbsp;中华人民共和国反不正当竞争法</td></tr>
        </table><div class="TRS_Editor"><p>第一条 为了促进社会主义市场经济健康发展，鼓励和保护公平竞争，制定本法。</p></div>
        </body></html>"""
    assert _of(html).title == "中华人民共和国反不正当竞争法"
    assert parse(html.encode()).title == "中华人民共和国反不正当竞争法"
    assert _of("<html><body><table><tr><td>信息名称：</td><td>关于举办宣传教育活动的通知</td></tr>"
               "<tr><td>发文字号：</td><td>教思政厅函〔2024〕8号</td></tr></table></body></html>").title \
        == "关于举办宣传教育活动的通知"
    # a 名称 column of a price list names goods, not the document
    assert _of("<html><body><table><tr><td>名称</td><td>数量</td><td>单价</td></tr>"
               "<tr><td>办公桌</td><td>10</td><td>800元</td></tr></table>"
               "<p>发布机构：市机关事务管理局</p></body></html>").title is None

def test_an_index_number_is_not_taken_for_a_document_number() -> None:
    d = _of("<html><body><table><tr><td>索引号：696785044/2026-00017</td><td>主题分类：</td></tr>"
            "<tr><td>发文字号：696785044/2026-00017</td><td>发布日期：2026-04-17</td></tr></table></body></html>")
    assert d.index_number == "696785044/2026-00017" and d.doc_number is None and d.subject is None


def test_meta_tags_fill_what_the_page_does_not_print() -> None:
    d = _of('<html><head><meta name="索引号" content="000014349/2024-00001"><meta name="fwzh" content="国发〔2024〕1号">'
            "</head><body><p>正文。</p></body></html>")
    assert (d.index_number, d.doc_number) == ("000014349/2024-00001", "国发〔2024〕1号")


def test_text_that_starts_with_a_label_word_is_no_label() -> None:
    d = _of("<html><body><p>分类管理办法由各区制定。有效性审查工作按年度开展，时效性要求见附件。</p></body></html>")
    assert d == Disclosure()


def test_label_lines_of_a_text_file() -> None:
    d = disclosure_from_lines(["关于印发实施方案的通知", "索引号：ABC-2024-001", "文号：青政办字[2024]12号", "正文。"])
    assert (d.index_number, d.doc_number) == ("ABC-2024-001", "青政办字〔2024〕12号")


def test_pages_without_a_table_have_null_fields() -> None:
    doc = parse((REAL / "html" / "gne-shanxi__1.html").read_bytes())
    assert doc.disclosure == Disclosure()
