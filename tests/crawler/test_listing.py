"""List dialects read from the page alone, on pages shaped like the public ones each
dialect follows (docs/dialects.md), plus the one text-versus-binary decision and the
script-filled detector."""
from __future__ import annotations

import codecs
import json

import httpx
import pytest

from govingest.crawler.listing import read_listing
from govingest.parsers.decode import binary_type, decode
from govingest.parsers.extract import parse_html
from govingest.parsers.model import ScriptFilledError
from govingest.parsers.pipeline import parse
from govingest.parsers.scripted import detect_script_filled
from govingest.workers.fixture_site.server import FixtureSite
from tests.conftest import REAL


def kinds(listing) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for link in listing.links:
        out.setdefault(link.kind, []).append(link.url)
    return out


def test_trs_pager_from_variables_names_every_page_and_the_next() -> None:
    html = """<html><body><ul><li><a href="./202401/t20240105_1.htm">通知</a></li></ul><script>
var currentPage = 2;//所在页从0开始
var countPage = 5//共多少页
for(var i=0;i<countPage;i++){ if(i==0) document.write("<a href=\\"index."+"html\\">1</a>");
 else document.write("<a href=\\"index"+"_" + i + "."+"html\\">"+(i+1)+"</a>"); }
</script></body></html>"""
    listing = read_listing(html.encode(), "http://h.gov.cn/c/index_2.html")
    assert listing.dialect == "trs" and listing.total_pages == 5
    assert listing.next_page is not None and listing.next_page.url == "http://h.gov.cn/c/index_3.html"
    assert sorted(kinds(listing)["pager"]) == [f"http://h.gov.cn/c/index{s}.html" for s in ("", "_1", "_3", "_4")]
    literal = read_listing(b'<script>createPageHTML("3", "0", "list", "shtml");</script>', "http://h/c/list.shtml")
    assert literal.dialect == "trs" and literal.next_page.url == "http://h/c/list_1.shtml"
    last = read_listing(b"<script>createPageHTML(3, 2, 'index', 'html');</script>", "http://h/c/index_2.html")
    assert last.next_page is None  # the last page has no next


def test_hanweb_column_records_and_proxy_ranges() -> None:
    html = """<div id="4045445"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup>
<recordset><record><![CDATA[<li><a href="/art/2024/3/5/art_1229_1.html" title="一">一</a></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/3/4/art_1229_2.html" title="二">二</a></li>]]></record></recordset></datastore></script></div>
<script>var total = '50';
$('#4045445').jpage({ proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: 1, totalRecord: total, groupSize: 2,
  ajaxParam: {col: 1, webid: '64', path: '/', columnid: 1229, unitid: '4045445', permissiontype: 0}});</script>"""
    listing = read_listing(html.encode(), "http://js.gov.cn/col/col1229/index.html")
    assert listing.dialect == "hanweb"
    assert kinds(listing)["article"] == ["http://js.gov.cn/art/2024/3/5/art_1229_1.html",
                                        "http://js.gov.cn/art/2024/3/4/art_1229_2.html"]
    nxt = listing.next_page
    assert nxt is not None and nxt.method == "POST"
    assert nxt.url.startswith("http://js.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=4&perpage=1&")
    assert "columnid=1229" in nxt.url and "unitid=4045445" in nxt.url and "webid=64" in nxt.url
    assert len(kinds(listing)["pager"]) == 24  # records 3..50 in groups of 2
    answer = ('<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>6</totalrecord><recordset>'
              '<record><![CDATA[<li><a href="/art/2024/3/1/art_1229_5.html">五</a></li>]]></record>'
              "</recordset></datastore>")
    url = "http://js.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=4&perpage=1&columnid=1229"
    page2 = read_listing(answer.encode(), url, "text/xml")
    assert kinds(page2)["article"] == ["http://js.gov.cn/art/2024/3/1/art_1229_5.html"]
    assert page2.next_page.url == url.replace("startrecord=3&endrecord=4", "startrecord=5&endrecord=6")
    end = read_listing(answer.encode(), url.replace("=3&endrecord=4", "=5&endrecord=6"), "text/xml")
    assert end.next_page is None


def test_govcn_pager_anchors() -> None:
    html = """<div class="list"><ul><li><a href="../content/2024-03/05/content_1.htm">政策</a></li></ul></div>
<div class="page"><a href="home.htm">首页</a> <a href="home.htm">上一页</a> <a href="home.htm">1</a> <span>2</span>
<a href="home_2.htm">3</a> <a href="home_2.htm">下一页</a> <a href="home_9.htm">尾页</a></div>"""
    listing = read_listing(html.encode("utf-8"), "http://www.gov.cn/zhengce/zuixin/home_1.htm")
    assert listing.dialect == "govcn" and listing.next_page.url == "http://www.gov.cn/zhengce/zuixin/home_2.htm"
    numbered = read_listing(b'<p><a href="index_1.html">2</a> <a href="index_2.html">3</a></p>', "http://h/c/index.html")
    assert numbered.next_page.url == "http://h/c/index_1.html"
    nav_only = read_listing('<a href="/">首页</a><a href="/a/">政务公开</a>'.encode(), "http://h/")
    assert nav_only.dialect == "plain" and nav_only.next_page is None


def test_gkmlpt_list_page_and_api_answer() -> None:
    html = """<div id="app"></div><script>window._CONFIG = {SID: '755041', TREE: []};</script>"""
    listing = read_listing(html.encode(), "http://www.gz.gov.cn/gzjg/gkmlpt/index")
    assert listing.dialect == "gkmlpt" and listing.records_elsewhere
    assert listing.next_page.url == "http://www.gz.gov.cn/gzjg/gkmlpt/api/all/0?page=1&sid=755041"
    answer = {"total": 9, "articles": [{"id": i, "title": f"文{i}", "url": f"http://www.gz.gov.cn/gzjg/gkmlpt/content/0/1/post_{i}.html"}
                                       for i in range(4)], "classify": {"post_count": 9}}
    api = read_listing(json.dumps(answer).encode(), listing.next_page.url, "application/json")
    assert len(kinds(api)["article"]) == 4
    assert api.next_page.url == "http://www.gz.gov.cn/gzjg/gkmlpt/api/all/0?page=2&sid=755041"
    last = read_listing(json.dumps(answer).encode(), listing.next_page.url.replace("page=1", "page=3"),
                        "application/json")
    assert last.next_page is None


def test_json_list_api_named_in_a_script() -> None:
    html = """<ul id="list"></ul><script src="/js/jquery.js"></script><script>
$.ajax({ url: '/api/cms/list?columnId=27&pageNo=1&pageSize=4', success: function (r) { $('#list').html(r) } });
</script>"""
    listing = read_listing(html.encode(), "http://hz.gov.cn/xxgk/tzgg/index.html")
    assert listing.dialect == "jsonapi"
    assert listing.next_page.url == "http://hz.gov.cn/api/cms/list?columnId=27&pageNo=1&pageSize=4"
    answer = {"data": {"list": [{"title": "一", "linkUrl": "/xxgk/tzgg/202401/t20240101_1.html"}], "totalPage": 3}}
    api = read_listing(json.dumps(answer).encode(), listing.next_page.url, "application/json")
    assert kinds(api)["article"] == ["http://hz.gov.cn/xxgk/tzgg/202401/t20240101_1.html"]
    assert api.next_page.url.endswith("pageNo=2&pageSize=4")


def test_sitemaps_and_feeds() -> None:
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://h/sm1.xml</loc></sitemap></sitemapindex>"""
    assert [(lk.url, lk.kind) for lk in read_listing(index, "http://h/sitemap.xml").links] == [("http://h/sm1.xml", "feed")]
    urlset = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://h/a/1.html</loc></url><url><loc>http://h/a/2.html</loc></url></urlset>"""
    sm = read_listing(urlset, "http://h/sm1.xml", "application/xml")
    assert sm.dialect == "sitemap" and kinds(sm)["article"] == ["http://h/a/1.html", "http://h/a/2.html"]
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><link>http://h/</link>
<item><title>t</title><link>http://h/a/3.html</link></item></channel></rss>"""
    assert kinds(read_listing(rss, "http://h/rss.xml"))["article"] == ["http://h/a/3.html"]
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><link href="http://h/"/>
<entry><link href="http://h/a/4.html"/></entry></feed>"""
    assert kinds(read_listing(atom, "http://h/atom.xml"))["article"] == ["http://h/a/4.html"]
    home = read_listing(b'<link rel="alternate" type="application/rss+xml" href="/rss.xml">', "http://h/")
    assert kinds(home)["feed"] == ["http://h/rss.xml"]


def test_one_place_decides_text_versus_binary() -> None:
    page = "<html><head><meta charset='utf-16'></head><body><p>关于做好防汛工作的通知</p></body></html>"
    utf16 = codecs.BOM_UTF16_LE + page.encode("utf-16-le")
    assert binary_type(utf16, "text/html") is None  # NUL bytes everywhere, yet text
    assert "防汛" in decode(utf16, "text/html").text
    assert binary_type(b"%PDF-1.4 ...", "text/html") == "application/pdf"
    assert binary_type(bytes(range(256)) * 20, "text/html") == "application/octet-stream"
    assert binary_type("<p>正文</p>".encode(), "text/html") is None


SCRIPT_FILLED = """<html><head><title>关于印发方案的通知_某市人民政府</title></head><body>
<div class="nav"><a href="/">首页</a></div><h1>关于印发方案的通知</h1>
<div class="pages_content" id="UCAP-CONTENT"></div>
<script>var docId = "123"; $.get("/api/content?id=" + docId, function (r) { $("#UCAP-CONTENT").html(r.data.content); });</script>
<div class="footer">主办单位：某市人民政府办公室 网站标识码：3500000001 闽ICP备05000001号</div></body></html>"""


def test_script_filled_page_is_an_error_naming_its_api() -> None:
    tree = parse_html(SCRIPT_FILLED)
    verdict = detect_script_filled(tree, "http://h.gov.cn/a/t20240101_1.html")
    assert verdict is not None and verdict.api_url == "http://h.gov.cn/api/content?id=123"
    assert verdict.container == "div#UCAP-CONTENT"
    with pytest.raises(ScriptFilledError) as err:
        parse(SCRIPT_FILLED.encode(), url="http://h.gov.cn/a/t20240101_1.html")
    assert err.value.kind == "script_filled"
    assert "script fills it" in err.value.reason and err.value.api_url.endswith("id=123")
    vue = SCRIPT_FILLED.replace('<div class="pages_content" id="UCAP-CONTENT"></div>',
                                '<div id="zoom">{{ detail.content }}</div>').replace("$.get", "axios.get")
    assert detect_script_filled(parse_html(vue)) is not None


def test_no_real_page_is_taken_for_script_filled() -> None:
    for path in sorted((REAL / "html").glob("*.html")):
        tree = parse_html(decode(path.read_bytes()).text)
        assert detect_script_filled(tree) is None, path.name


def test_fixture_dataproxy_answers_get_query_and_post_form() -> None:
    with FixtureSite(sites=["hanweb"], crawl_delay=0) as fx:
        base = fx.site("hanweb").base_url + "/module/web/jpage/dataproxy.jsp"
        params = "columnid=1229&unitid=4045445&webid=64&path=%2F&col=1&permissiontype=0"
        got = httpx.get(f"{base}?startrecord=7&endrecord=12&perpage=3&{params}")
        posted = httpx.post(f"{base}?startrecord=7&endrecord=12&perpage=3", content=params.encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        form_only = httpx.post(base, content=f"startrecord=7&endrecord=12&perpage=3&{params}".encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert got.status_code == posted.status_code == form_only.status_code == 200
    assert got.text == posted.text == form_only.text
    assert got.text.count("<record>") == 5 and "<totalrecord>11</totalrecord>" in got.text
