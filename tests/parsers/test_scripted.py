"""Pages whose article a script loads: `govingest parse` says so instead of storing the footer.

The page follows the public shape of a city finance bureau's 政策文件 page (a
disclosure table in the HTML, `<div id="mainContent">` empty, filled by `$.ajax` from
a JSON API) and of a portal footer (ICP备, 网站标识码, 主办单位).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govingest.parsers.extract import parse_html
from govingest.parsers.model import ParseError
from govingest.parsers.pipeline import parse
from govingest.parsers.scripted import detect_script_filled

SCRIPT_FILLED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策文件</title></head><body>
<div class="main"><div class="JD_detail"><table class="JD_table_key02"><tbody id="theader">
<tr><td>报送单位：</td><td>市财政局</td><td>主题分类：</td><td><span id="span_publisher"></span></td></tr>
<tr><td>发文字号：</td><td>津财采〔2019〕1号</td><td>成文日期：</td><td>2019-01-04</td></tr>
<tr><td>标　　题：</td><td colspan="3"><span id="span_docTitle">天津市财政局关于做好政府采购定向支持中小企业有关工作的通知</span></td></tr>
</tbody></table></div><div id="mainContent"></div></div>
<div class="footer"><p>主办单位：天津市财政局 网站标识码：1200000019</p><p>津ICP备05004428号 津公网安备 12010302000123号</p></div>
<script>
  $(document).ready(function () { init(); });
  function init() {
    $.ajax({ type: "get", url: "/api/policy/getOne?id=8d497469873dbe171632602a17afbbeb", dataType: "json",
             success: function (data) { showDetail(data); } });
  }
  function showDetail(data) { $("#theader").html(data.header); $("#mainContent").html(data.content); }
</script></body></html>"""


def test_a_script_filled_body_is_an_error_not_a_footer_document() -> None:
    with pytest.raises(ParseError) as err:
        parse(SCRIPT_FILLED.encode())
    assert err.value.kind == "script_filled"
    assert "#mainContent" in err.value.reason and "/api/policy/getOne?id=8d49" in err.value.reason


def test_govingest_parse_prints_the_error(tmp_path: Path) -> None:
    page = tmp_path / "policy.html"
    page.write_text(SCRIPT_FILLED, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "govingest", "parse", "--format", "jsonl", str(page)],
                          capture_output=True, timeout=120)
    assert done.returncode == 1
    line = json.loads(done.stdout)
    assert line["file"] == str(page) and line["error"].startswith("the article body is not in the HTML")


def test_a_view_counter_filled_by_script_is_normal() -> None:
    body = "".join(f"<p>第{i}段：会议要求各地各部门压紧压实安全生产责任，坚决防范遏制重特大事故发生。</p>" for i in range(6))
    page = f"""<html><body><div class="TRS_Editor">{body}</div><span id="infoViewCount"></span>
      <script>$.ajax({{url: "/count", success: function (n) {{ $("#infoViewCount").html(n); }}}});</script></body></html>"""
    tree = parse_html(page)
    assert tree is not None and detect_script_filled(tree) is None
    assert "第5段" in parse(page.encode()).text


def test_a_filled_element_that_already_holds_the_article_is_kept() -> None:
    body = "会议要求各地各部门压紧压实安全生产责任，坚决防范遏制重特大事故发生。" * 4
    page = f"""<html><body><div id="content"><p>{body}</p></div>
      <script>fetch("/api/refresh").then(r => r.text()).then(t => {{ document.getElementById("content").innerHTML = t; }});</script>
      </body></html>"""
    assert "坚决防范遏制" in parse(page.encode()).text
