"""The fallback for pages no known container matches: the article by text shape.

The pages here follow the public shape of the three kinds of real government pages
issue 12 names (none has a container `extract.CONTAINERS` knows): a portal page whose
footer carries the national directory of government sites, an old page whose body is
a cell of a layout table broken by <br>, and a statistics page that is mostly a table.
"""
from __future__ import annotations

from govingest.parsers.blocks import best_block
from govingest.parsers.extract import parse_html
from govingest.parsers.pipeline import parse

MINISTRIES = ["外交部", "国防部", "国家发展和改革委员会", "教育部", "科学技术部", "工业和信息化部", "国家民族事务委员会",
              "公安部", "民政部", "司法部", "财政部", "人力资源和社会保障部", "自然资源部", "生态环境部", "住房和城乡建设部",
              "交通运输部", "水利部", "农业农村部", "商务部", "文化和旅游部", "国家卫生健康委员会", "应急管理部"]
PROVINCES = ["北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
             "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西",
             "甘肃", "青海", "宁夏", "新疆"]
BODY = [
    "4月8日，市应急管理局召开全市安全生产工作会议，传达学习全国安全生产电视电话会议精神，分析当前安全生产形势，部署下一阶段重点工作。",
    "会议指出，今年以来全市共检查企业3216家，排查整改隐患4870处，安全生产形势总体平稳，但道路交通、建筑施工、消防等领域仍有风险。",
    "会议要求，各地各部门要压紧压实安全生产责任，深入开展安全生产治本攻坚三年行动，坚决防范遏制重特大事故发生。",
]


def _directory_page() -> str:
    links = "".join(f'<li><a href="http://www.gov.cn/{i}">{m}</a></li>' for i, m in enumerate(MINISTRIES))
    provs = "".join(f'<li><a href="http://{i}.gov.cn/">{p}</a></li>' for i, p in enumerate(PROVINCES))
    paras = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<html><head><title>全市安全生产工作会议召开_某市人民政府</title></head><body>
      <div class="top"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/bsfw/">办事服务</a><a href="/hdjl/">互动交流</a></div>
      <div class="wrap"><div class="left_box"><h2>全市安全生产工作会议召开</h2>
        <div class="info">发布时间：2024-04-09 来源：市应急管理局</div>
        <div class="wz_nr">{paras}</div></div></div>
      <div class="bottom_links"><h3>部委网站</h3><ul>{links}</ul><h3>省（区市）政府网站</h3><ul>{provs}</ul></div>
      <div class="bottom">主办单位：某市人民政府办公室 网站标识码：3700000001 鲁ICP备05001234号</div>
    </body></html>"""


def _layout_table_page() -> str:
    menu = "".join(f'<a href="/c{i}.htm">栏目{i}</a><br>' for i in range(12))
    body = "<br>".join("　　" + p for p in BODY)
    return f"""<html><head><title>全市安全生产工作会议召开</title></head><body>
      <table width="980"><tr><td width="200" valign="top">{menu}</td>
      <td width="780" valign="top"><table><tr><td align="center"><b>全市安全生产工作会议召开</b></td></tr>
      <tr><td>日期：2004-04-09</td></tr><tr><td class="f14">{body}</td></tr></table></td></tr></table>
      <table><tr><td>版权所有：某市人民政府 地址：人民路1号</td></tr></table></body></html>"""


def _data_table_page() -> str:
    rows = "".join(f"<tr><td>{p}</td><td>{100 + i * 7}</td><td>{20 + i}</td><td>{i * 1.5:.1f}</td></tr>"
                   for i, p in enumerate(PROVINCES[:20]))
    return f"""<html><head><title>2024年3月各地安全生产执法检查情况</title></head><body>
      <div class="menu"><a href="/">首页</a><a href="/sjfb/">数据发布</a></div>
      <div class="main"><h1>2024年3月各地安全生产执法检查情况</h1>
      <table class="data"><tr><th>地区</th><th>检查企业（家）</th><th>发现隐患（处）</th><th>罚款（万元）</th></tr>{rows}</table>
      <p>注：数据来源于各地应急管理部门报送。</p></div>
      <div class="foot"><a href="/map.htm">网站地图</a> <a href="/lx.htm">联系我们</a></div></body></html>"""


def test_a_directory_of_government_sites_is_never_the_article() -> None:
    doc = parse(_directory_page().encode())
    assert doc.extract_method == "blocks"
    assert doc.text.splitlines() == BODY
    assert not any(m in doc.text for m in ("外交部", "省（区市）政府网站", "黑龙江"))


def test_a_body_in_a_layout_table_cell_is_read_without_the_menu_cell() -> None:
    doc = parse(_layout_table_page().encode())
    assert doc.text.splitlines() == BODY  # one paragraph per <br> line, menu and footer gone
    assert "栏目" not in doc.text


def test_a_page_that_is_mostly_a_data_table_keeps_its_rows_in_order() -> None:
    doc = parse(_data_table_page().encode())
    lines = doc.text.splitlines()
    head = lines.index("地区 检查企业（家） 发现隐患（处） 罚款（万元）")
    assert lines[head + 1: head + 4] == ["北京 100 20 0.0", "天津 107 21 1.5", "河北 114 22 3.0"]
    assert lines[head + 20] == "广西 233 39 28.5" and lines[-1] == "注：数据来源于各地应急管理部门报送。"
    assert "网站地图" not in doc.text and "首页" not in doc.text


def test_no_block_reads_as_an_article_on_a_link_list() -> None:
    tree = parse_html("<html><body><ul>" + "".join(f'<li><a href="/{i}">{m}</a></li>' for i, m in enumerate(MINISTRIES))
                      + "</ul></body></html>")
    assert tree is not None and best_block(tree) is None


def test_an_attachment_link_in_a_short_notice_keeps_the_notice_whole() -> None:
    # a 印发 notice: one sentence, the issuing bodies, the date and a link to the attached
    # document; the link is body text, not navigation, so the notice is not cut to its sentence
    notice = [
        "各市、自治州人民政府，省直有关单位：",
        "《某省关于加力支持工业企业设备更新的若干措施》已经省政府同意，现印发你们，请认真贯彻落实。",
        "某省发展和改革委员会 某省工业和信息化厅",
        "2025年2月25日",
    ]
    paras = "".join(f"<p>{p}</p>" for p in notice)
    attachment = '<p><a href="174084153/files/5e0f97363d1d.pdf">《某省关于加力支持工业企业设备更新的若干措施》</a></p>'
    page = f"""<html><head><title>关于印发若干措施的通知</title></head><body>
      <div class="nav"><a href="/">首页</a><a href="/xwdt/">新闻动态</a></div>
      <div class="main"><h1>关于印发若干措施的通知</h1><p>日期：2025-02-26 来源：</p>
      <div class="detailContent">{paras}{attachment}</div>
      <div class="xglj"><h2>相关链接</h2><ul><li><a href="/c1/202502/1.shtml">《某省关于加力支持工业企业设备更新的若干措施》政策解读</a></li>
      <li><a href="/c1/202503/2.shtml">一图读懂：某省关于加力支持工业企业设备更新的若干措施</a></li></ul></div></div>
      </body></html>"""
    doc = parse(page.encode())
    assert doc.extract_method == "blocks"
    assert doc.text.splitlines() == [*notice, "《某省关于加力支持工业企业设备更新的若干措施》"]
