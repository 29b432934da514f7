"""Fixture sites of each CMS list dialect, shaped like the public pages named in
`docs/dialects.md` (see "Fixture sites"): the crawler must find every article of each
from the pages alone, with no per-site patterns.

  trs-var  TRS column whose pager is written by script from `var countPage = N`; the
           last two pages the pager claims are stale copies of earlier ones (a crawl
           stops at the first page with nothing new); a PDF attachment and a dead link.
  hanweb   Hanweb/jpaas column `/col/col1229/index.html`: first records as CDATA in a
           `<datastore>` script, the rest only from `/module/web/jpage/dataproxy.jsp`
           (GET query or POST form), `jpage({...})` parameters in the page.
  govcn    gov.cn column `home.htm`, `home_1.htm` … with 首页/上一页/下一页/尾页 and numbers;
           one article saved as UTF-16 with a BOM; one whose body a script fills from
           a JSON API the page names.
  gkmlpt   Guangdong 政府信息公开目录: a Vue list page with `window._CONFIG = {SID: …}`,
           records from `/gzjg/gkmlpt/api/all/0?page=N&sid=…`.
  jsonapi  a column rendered by script from `/api/cms/list?columnId=27&pageNo=1&pageSize=4`.
  feeds    no list pages at all: robots.txt names a sitemap index, whose child sitemap
           lists half the articles; the home page advertises an RSS feed with the rest.

Every article is generated (content.generate_article) and its body text kept as
`Site.truth`, so a crawl can be scored against it.
"""
from __future__ import annotations

import codecs
import html
import json
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from govingest.workers.fixture_site.content import ATTACHMENTS_DIR, GeneratedArticle, generate_article
from govingest.workers.fixture_site.sites import Request, Resource, Response, Site
from govingest.workers.fixture_site.templates import SiteLook, article_page, hanweb_article_page

_E = html.escape
ARTICLES = 11
UTF8 = "text/html; charset=utf-8"


def _articles(agency: str, salt: str, n: int = ARTICLES) -> list[GeneratedArticle]:
    return sorted((generate_article(i, agency=agency, salt=salt) for i in range(n)),
                  key=lambda a: a.published, reverse=True)


def _truth(a: GeneratedArticle) -> str:
    return "\n".join(a.paragraphs)


def _shell(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    """A page with the chrome every gov template has: nav, breadcrumb, footer."""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}"/><title>{_E(title)}</title>{head}</head>
<body><div class="header"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/hdjl/">互动交流</a></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; {_E(title)}</div>
{body}
<div class="footer"><p>主办单位：{_E(title)}　网站标识码：4400000099</p>
<p>粤ICP备05070829号　粤公网安备 44010402000012号</p></div>
</body></html>
"""


def _li(href: str, a: GeneratedArticle) -> str:
    return (f'<li><a href="{_E(href)}" target="_blank" title="{_E(a.title)}">{_E(a.title)}</a>'
            f"<span>{a.published:%Y-%m-%d}</span></li>")


# --- trs-var: pager from variables ------------------------------------------------------

TRS_LOOK = SiteLook(site_name="广州市番禺区人民政府", agency="广州市番禺区应急管理局", site_code="4401130001",
                    icp="粤ICP备05070829号", police="粤公网安备 44011302000123号", column="通知公告",
                    column_path="/zwgk/tzgg/", apps=("番禺发布",))

# The pager template of TRS columns on gov.cn sites (var currentPage / countPage, a
# document.write loop over "index" + "_" + i + "." + "html").
TRS_VAR_PAGER = """<script type="text/javascript">
var currentPage = {current};//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = {count}//共多少页
document.write("共"+countPage+"页&nbsp;&nbsp;");
if(countPage>1&&currentPage!=0&&currentPage!=1)
	document.write("<a href=\\"index"+"_" + prevPage + "."+"html\\">上一页</a>&nbsp;");
else if(countPage>1&&currentPage!=0&&currentPage==1)
	document.write("<a href=\\"index.html\\">上一页</a>&nbsp;");
else
	document.write("上一页&nbsp;");
var num = 5;
for(var i=0+(currentPage-1-(currentPage-1)%num) ; i<=(num+(currentPage-1-(currentPage-1)%num))&&(i<countPage) ; i++){{
	if(countPage >1){{
	if(currentPage==i)
		document.write("<span style=\\"color:#FF0000;\\">"+(i+1)+"</span>&nbsp;");
	else if(i==0)
		document.write("<a href=\\"index.html\\">"+(i+1)+"</a>&nbsp;");
	else
		document.write("<a href=\\"index"+"_" + i + "."+"html\\">"+(i+1)+"</a>&nbsp;");
	}}
}}
if(countPage>1&&currentPage!=(countPage-1))
	document.write("<a href=\\"index"+"_" + nextPage + "."+"html\\">下一页</a>&nbsp;");
else
	document.write("下一页&nbsp;");
</script>"""


def build_trs_var(crawl_delay: float) -> Site:
    col = TRS_LOOK.column_path
    site = Site("trs-var", "番禺区应急管理局(TRS)", "utf-8", crawl_delay, [f"{col}index.html"],
                article_patterns=[], list_patterns=[], dialect="trs")
    site.add_robots()
    items = []
    for a in _articles(TRS_LOOK.agency, "trs-var"):
        path = f"{col}{a.published:%Y%m}/t{a.published:%Y%m%d}_{3200000 + a.index}.html"
        page = article_page(TRS_LOOK, title=a.title, published=a.published, source=TRS_LOOK.agency,
                            paragraphs=list(a.paragraphs), latest=[])
        site.routes[path] = Resource.article(page.encode(), UTF8, a.published)
        site.article_paths.append(path)
        site.truth[path] = _truth(a)
        items.append(_li(f"./{a.published:%Y%m}/t{a.published:%Y%m%d}_{3200000 + a.index}.html", a))
    pdf = f"{col}202403/P020240305411625123456.pdf"
    # A real PDF with a text layer (tests/fixtures/attachments): a script-drawn stub has no
    # text to extract, and an attachment with nothing in it is recorded as failed.
    site.routes[pdf] = Resource.article((ATTACHMENTS_DIR / "notice.pdf").read_bytes(), "application/pdf",
                                        datetime(2024, 3, 5))
    site.attachment_paths.append(pdf)
    dead = f"{col}202401/t20240102_3199999.html"
    site.missing_paths.append(dead)
    extra = [f'<li><a href="{_E(pdf)}">附件：2024年应急演练计划.pdf</a></li>',
             f'<li><a href="{_E(dead)}">已撤销的通知</a></li>',
             f'<li><a href="{DISALLOWED}">内部预览</a></li>']
    per_page, real_pages, claimed_pages = 3, 4, 6  # the pager claims 6 pages; 4 and 5 are stale copies
    for n in range(claimed_pages):
        chunk = items[min(n, real_pages - 1) * per_page:][:per_page]
        body = (f'<div class="list-box"><div class="list-title">{TRS_LOOK.column}</div><ul class="list">'
                + "".join(chunk) + ("".join(extra) if n == 0 else "") + "</ul>"
                + f'<div class="page">{TRS_VAR_PAGER.format(current=n, count=claimed_pages)}</div></div>')
        path = f"{col}index.html" if n == 0 else f"{col}index_{n}.html"
        site.routes[path] = Resource(_shell(f"{TRS_LOOK.column}_{TRS_LOOK.site_name}", body).encode(), UTF8)
        site.list_paths.append(path)
        if n >= real_pages:
            site.stale_paths.append(path)
    site.routes["/"] = site.routes[f"{col}index.html"]
    return site


DISALLOWED = "/admin/draft.html"


# --- hanweb: datastore records and dataproxy.jsp ----------------------------------------

HANWEB_LOOK = SiteLook(site_name="江苏省应急管理厅", agency="江苏省应急管理厅", site_code="3200000064",
                       icp="苏ICP备05005234号", police="苏公网安备 32010602010123号", column="通知公告",
                       column_path="/col/col1229/")
_HANWEB_PARAMS = {"col": "1", "appid": "1", "webid": "64", "path": "/", "columnid": "1229",
                  "sourceContentType": "1", "unitid": "4045445", "webname": "江苏省应急管理厅", "permissiontype": "0"}


def _datastore(records: list[str], total: int, per_page: int, *, nextgroup: str = "") -> str:
    recs = "".join(f"<record><![CDATA[{r}]]></record>\n" for r in records)
    return (f"<datastore><nextgroup><![CDATA[{nextgroup}]]></nextgroup><totalrecord>{total}</totalrecord>"
            f"<totalpage>{-(-total // per_page)}</totalpage><recordset>\n{recs}</recordset></datastore>")


def build_hanweb(crawl_delay: float) -> Site:
    site = Site("hanweb", "江苏省应急管理厅(大汉)", "utf-8", crawl_delay, ["/col/col1229/index.html"],
                article_patterns=[], list_patterns=[], dialect="hanweb")
    site.add_robots()
    records = []
    for a in _articles(HANWEB_LOOK.agency, "hanweb"):
        d = a.published
        path = f"/art/{d.year}/{d.month}/{d.day}/art_1229_{3300000 + a.index}.html"
        page = hanweb_article_page(HANWEB_LOOK, title=a.title, published=d, source=HANWEB_LOOK.agency,
                                   paragraphs=list(a.paragraphs), charset="utf-8")
        site.routes[path] = Resource.article(page.encode(), UTF8, d)
        site.article_paths.append(path)
        site.truth[path] = _truth(a)
        records.append(f'<li class="cf"><a target="_blank" href="{path}" title="{_E(a.title)}">{_E(a.title)}</a>'
                       f"<span>{d:%Y-%m-%d}</span></li>")
    per_page, group = 3, 2
    total = len(records)
    params_js = ", ".join(f"{k}: '{v}'" for k, v in _HANWEB_PARAMS.items())
    nextgroup = f'<a href="/module/web/jpage/dataproxy.jsp?page=1&{urlencode(_HANWEB_PARAMS)}"></a>'
    embedded = _datastore(records[:per_page * group], total, per_page, nextgroup=nextgroup)
    body = f"""<div class="main-fr-box"><div class="bt-box">{HANWEB_LOOK.column}</div>
<div id="4045445"><script type="text/xml">{embedded}</script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script type="text/javascript">
$(document).ready(function() {{
    $('#4045445').jpage({{
        containerEl: '#4045445', proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: {per_page},
        totalRecord: '{total}', groupSize: {group}, barPosition: 'bottom', isHidePageBar: false,
        ajaxParam: {{{params_js}}}
    }});
}});
</script><div class="links"><a href="{DISALLOWED}">内部预览</a></div></div>"""
    site.routes["/col/col1229/index.html"] = Resource(_shell(HANWEB_LOOK.column, body).encode(), UTF8)
    site.list_paths.append("/col/col1229/index.html")

    def dataproxy(req: Request) -> Response:
        p = req.params
        if p.get("columnid") != "1229" or p.get("unitid") != "4045445":
            return Response(200, [("Content-Type", "text/xml; charset=utf-8")],
                            b'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>0</totalrecord>'
                            b"<recordset></recordset></datastore>")
        try:
            start, end = int(p.get("startrecord", "1")), int(p.get("endrecord", str(per_page * group)))
        except ValueError:
            return Response(400, [("Content-Type", "text/plain")], b"bad startrecord/endrecord")
        xml = '<?xml version="1.0" encoding="UTF-8"?>' + _datastore(records[start - 1:end], total, per_page)
        return Response(200, [("Content-Type", "text/xml; charset=utf-8")], xml.encode())

    site.routes["/module/web/jpage/dataproxy.jsp"] = dataproxy
    site.routes["/"] = site.routes["/col/col1229/index.html"]
    return site


# --- govcn: home.htm / home_N.htm ----------------------------------------------------------

GOVCN_AGENCY = "国务院办公厅"


def _govcn_article(a: GeneratedArticle, *, body: str | None = None) -> str:
    paras = "".join(f'<p style="text-indent: 2em;">{_E(p)}</p>' for p in a.paragraphs)
    inner = body if body is not None else f'<div class="pages_content" id="UCAP-CONTENT">{paras}</div>'
    return _shell(f"{a.title}_中国政府网", f"""<div class="article oneColumn pub_border">
<h1>{_E(a.title)}</h1>
<div class="pages-date">{a.published:%Y-%m-%d %H:%M}<span class="font">来源：{GOVCN_AGENCY}</span></div>
{inner}
<div class="editor">【我要纠错】 责任编辑：王洋</div></div>""",
                  head=f'<meta name="ArticleTitle" content="{_E(a.title)}"/>'
                       f'<meta name="PubDate" content="{a.published:%Y-%m-%d %H:%M}"/>')


def build_govcn(crawl_delay: float) -> Site:
    site = Site("govcn", "中国政府网(政策)", "utf-8", crawl_delay, ["/zhengce/zuixin/home.htm"],
                article_patterns=[], list_patterns=[], dialect="govcn")
    site.add_robots()
    items = []
    arts = _articles(GOVCN_AGENCY, "govcn")
    for k, a in enumerate(arts):
        path = f"/zhengce/content/{a.published:%Y-%m}/{a.published:%d}/content_{3400000 + a.index}.htm"
        site.article_paths.append(path)
        if k == 2:  # saved as UTF-16 with a BOM, served without a charset
            page = _govcn_article(a).replace('charset="utf-8"', 'charset="utf-16"')
            site.routes[path] = Resource.article(codecs.BOM_UTF16_LE + page.encode("utf-16-le"), "text/html",
                                                 a.published)
            site.truth[path] = _truth(a)
        elif k == 5:  # body filled in by script from a JSON API the page names
            api = f"/zhengce/api/content_{3400000 + a.index}.json"
            filled = (f'<div class="pages_content" id="UCAP-CONTENT"></div>\n<script type="text/javascript">\n'
                      f'$.get("{api}", function (res) {{ $("#UCAP-CONTENT").html(res.data.content); }});\n</script>')
            site.routes[path] = Resource.article(_govcn_article(a, body=filled).encode(), UTF8, a.published)
            content = "".join(f"<p>{_E(p)}</p>" for p in a.paragraphs)
            answer = {"code": 200, "msg": "ok", "data": {"title": a.title, "content": content,
                                                          "publishTime": f"{a.published:%Y-%m-%d %H:%M}",
                                                          "source": GOVCN_AGENCY}}
            site.routes[api] = Resource(json.dumps(answer, ensure_ascii=False).encode(),
                                        "application/json; charset=utf-8")
            site.truth[api] = _truth(a)
            site.fault_paths["script_filled"] = path
        else:
            site.routes[path] = Resource.article(_govcn_article(a).encode(), UTF8, a.published)
            site.truth[path] = _truth(a)
        if k == 2:
            site.fault_paths["utf16"] = path
        items.append(f'<li><h4><a href="../..{path}" target="_blank">{_E(a.title)}</a>'
                     f'<span class="date">{a.published:%Y-%m-%d}</span></h4></li>')
    per_page = 3
    pages = -(-len(items) // per_page)
    name = lambda n: "home.htm" if n == 0 else f"home_{n}.htm"
    for n in range(pages):
        pager = [f'<a href="{name(0)}">首页</a>']
        if n > 0:
            pager.append(f'<a href="{name(n - 1)}">上一页</a>')
        pager += [f"<span>{i + 1}</span>" if i == n else f'<a href="{name(i)}">{i + 1}</a>' for i in range(pages)]
        if n + 1 < pages:
            pager.append(f'<a href="{name(n + 1)}">下一页</a>')
        pager.append(f'<a href="{name(pages - 1)}">尾页</a>')
        extra = f'<li><a href="{DISALLOWED}">内部预览</a></li>' if n == 0 else ""
        body = (f'<div class="list list_1 list_2"><ul>{"".join(items[n * per_page:(n + 1) * per_page])}{extra}</ul>'
                f'</div><div class="page">{" ".join(pager)}</div>')
        path = f"/zhengce/zuixin/{name(n)}"
        site.routes[path] = Resource(_shell("最新政策_中国政府网", body).encode(), UTF8)
        site.list_paths.append(path)
    site.routes["/"] = site.routes["/zhengce/zuixin/home.htm"]
    return site


# --- gkmlpt: JSON API behind a Vue list page -------------------------------------------------

GKMLPT_SID = "755041"
GKMLPT_AGENCY = "广州市规划和自然资源局"


def build_gkmlpt(crawl_delay: float) -> Site:
    site = Site("gkmlpt", "广州市规划和自然资源局(政府信息公开目录)", "utf-8", crawl_delay, ["/gzjg/gkmlpt/index"],
                article_patterns=[], list_patterns=[], dialect="gkmlpt")
    site.add_robots()
    rows: list[tuple[str, GeneratedArticle]] = []
    for a in _articles(GKMLPT_AGENCY, "gkmlpt"):
        post = 963100 + a.index
        path = f"/gzjg/gkmlpt/content/0/{post // 1000}/post_{post}.html"
        meta = "".join(f"<tr><td class='first'>{k}：</td><td>{_E(v)}</td></tr>" for k, v in (
            ("索引号", f"11440100MB2C9{post}/2024-{post}"), ("分类", "通知公告"), ("发布机构", GKMLPT_AGENCY),
            ("成文日期", f"{a.published:%Y-%m-%d}"), ("名称", a.title), ("发布日期", f"{a.published:%Y-%m-%d}")))
        paras = "".join(f"<p>{_E(p)}</p>" for p in a.paragraphs)
        page = _shell(f"{a.title}_{GKMLPT_AGENCY}", f"""<div class="content"><table class="introduce">{meta}</table>
<h1 class="title">{_E(a.title)}</h1><div class="article-content">{paras}</div></div>""")
        site.routes[path] = Resource.article(page.encode(), UTF8, a.published)
        site.article_paths.append(path)
        site.truth[path] = _truth(a)
        rows.append((path, a))
    config = json.dumps({"SID": GKMLPT_SID, "TREE": [{"id": 721, "name": "通知公告", "children": []}]},
                        ensure_ascii=False)
    index = _shell(f"政府信息公开目录_{GKMLPT_AGENCY}", f"""<div id="app"></div>
<script>window._CONFIG = {config.replace('"SID"', 'SID', 1)};</script>
<script type="text/javascript" src="/gkmlpt/gkml/pc/js/chunk-vendors.js"></script>
<script type="text/javascript" src="/gkmlpt/gkml/pc/js/app.js"></script>
<p><a href="{DISALLOWED}">内部预览</a></p>""")
    site.routes["/gzjg/gkmlpt/index"] = Resource(index.encode(), UTF8)
    site.list_paths.append("/gzjg/gkmlpt/index")
    per_page = 4

    def api(req: Request) -> Response:
        p = req.params
        if p.get("sid") != GKMLPT_SID:
            return Response(404, [("Content-Type", "application/json")], b'{"error": "unknown sid"}')
        n = max(1, int(p.get("page", "1") or 1)) if (p.get("page") or "1").isdigit() else 1
        chunk = rows[(n - 1) * per_page:n * per_page]
        articles = [{"id": int(path.rsplit("_", 1)[1].split(".")[0]), "title": a.title,
                     "url": req.origin + path, "created_at": f"{a.published:%Y-%m-%d %H:%M:%S}",
                     "publisher": GKMLPT_AGENCY} for path, a in chunk]
        body = {"total": len(rows), "articles": articles, "classify": {"id": 0, "post_count": len(rows)}}
        return Response(200, [("Content-Type", "application/json; charset=utf-8")],
                        json.dumps(body, ensure_ascii=False).encode())

    site.routes["/gzjg/gkmlpt/api/all/0"] = api
    site.routes["/"] = site.routes["/gzjg/gkmlpt/index"]
    return site


# --- jsonapi: a column rendered from a list API ----------------------------------------------

JSONAPI_LOOK = SiteLook(site_name="杭州市应急管理局", agency="杭州市应急管理局", site_code="3301000041",
                        icp="浙ICP备05002345号", police="浙公网安备 33010302001234号", column="通知公告",
                        column_path="/xxgk/tzgg/", apps=())


def build_jsonapi(crawl_delay: float) -> Site:
    site = Site("jsonapi", "杭州市应急管理局(列表接口)", "utf-8", crawl_delay, ["/xxgk/tzgg/index.html"],
                article_patterns=[], list_patterns=[], dialect="jsonapi")
    site.add_robots()
    rows = []
    for a in _articles(JSONAPI_LOOK.agency, "jsonapi"):
        path = f"/xxgk/tzgg/{a.published:%Y%m}/t{a.published:%Y%m%d}_{3500000 + a.index}.html"
        page = article_page(JSONAPI_LOOK, title=a.title, published=a.published, source=JSONAPI_LOOK.agency,
                            paragraphs=list(a.paragraphs), latest=[])
        site.routes[path] = Resource.article(page.encode(), UTF8, a.published)
        site.article_paths.append(path)
        site.truth[path] = _truth(a)
        rows.append({"title": a.title, "linkUrl": path, "publishTime": f"{a.published:%Y-%m-%d}"})
    size = 4
    index = _shell(f"{JSONAPI_LOOK.column}_{JSONAPI_LOOK.site_name}", f"""<div class="list-box"><ul id="list"></ul>
<div id="pager"></div></div>
<script type="text/javascript">
$.ajax({{
    url: '/api/cms/list?columnId=27&pageNo=1&pageSize={size}',
    type: 'GET', dataType: 'json',
    success: function (res) {{
        var html = '';
        $.each(res.data.list, function (i, item) {{
            html += '<li><a href="' + item.linkUrl + '">' + item.title + '</a><span>' + item.publishTime + '</span></li>';
        }});
        $('#list').html(html);
    }}
}});
</script><p><a href="{DISALLOWED}">内部预览</a></p>""")
    site.routes["/xxgk/tzgg/index.html"] = Resource(index.encode(), UTF8)
    site.list_paths.append("/xxgk/tzgg/index.html")

    def api(req: Request) -> Response:
        p = req.params
        try:
            n, per = int(p.get("pageNo", "1")), int(p.get("pageSize", str(size)))
        except ValueError:
            return Response(400, [("Content-Type", "application/json")], b'{"code": 400}')
        if p.get("columnId") != "27":
            return Response(200, [("Content-Type", "application/json")], b'{"code": 0, "data": {"list": []}}')
        body = {"code": 0, "msg": "success", "data": {"list": rows[(n - 1) * per:n * per], "total": len(rows),
                                                      "pageNo": n, "pageSize": per,
                                                      "totalPage": -(-len(rows) // per)}}
        return Response(200, [("Content-Type", "application/json; charset=utf-8")],
                        json.dumps(body, ensure_ascii=False).encode())

    site.routes["/api/cms/list"] = api
    site.routes["/"] = site.routes["/xxgk/tzgg/index.html"]
    return site


# --- feeds: sitemaps and RSS only -----------------------------------------------------------

FEEDS_LOOK = SiteLook(site_name="成都市人民政府", agency="成都市应急管理局", site_code="5101000001",
                      icp="蜀ICP备05003409号", police="川公网安备 51010402000123号", column="工作动态",
                      column_path="/gkml/gzdt/", apps=())


def build_feeds(crawl_delay: float) -> Site:
    site = Site("feeds", "成都市应急管理局(站点地图与RSS)", "utf-8", crawl_delay, ["/index.html"],
                article_patterns=[], list_patterns=[], dialect="sitemap")
    site.add_robots(sitemap="/sitemap_index.xml")
    arts = _articles(FEEDS_LOOK.agency, "feeds")
    paths = []
    for a in arts:
        path = f"/gkml/gzdt/{a.published:%Y%m}/t{a.published:%Y%m%d}_{3600000 + a.index}.shtml"
        page = article_page(FEEDS_LOOK, title=a.title, published=a.published, source=FEEDS_LOOK.agency,
                            paragraphs=list(a.paragraphs), latest=[])
        site.routes[path] = Resource.article(page.encode(), UTF8, a.published)
        site.article_paths.append(path)
        site.truth[path] = _truth(a)
        paths.append((path, a))
    half = len(paths) // 2

    def xml(body: Callable[[str], str], ctype: str = "application/xml; charset=utf-8") -> Callable[[Request], Response]:
        return lambda req: Response(200, [("Content-Type", ctype)],
                                    ('<?xml version="1.0" encoding="UTF-8"?>\n' + body(req.origin)).encode())

    site.routes["/sitemap_index.xml"] = xml(lambda o: (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{o}/sitemap_gzdt.xml</loc><lastmod>2024-12-01</lastmod></sitemap></sitemapindex>"))
    site.routes["/sitemap_gzdt.xml"] = xml(lambda o: (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
            f"<url><loc>{o}{p}</loc><lastmod>{a.published:%Y-%m-%d}</lastmod></url>" for p, a in paths[:half])
        + "</urlset>"))
    site.routes["/rss.xml"] = xml(lambda o: (
        '<rss version="2.0"><channel><title>工作动态</title>' f"<link>{o}/index.html</link>" + "".join(
            f"<item><title>{_E(a.title)}</title><link>{o}{p}</link>"
            f"<pubDate>{a.published:%a, %d %b %Y %H:%M:%S} +0800</pubDate></item>" for p, a in paths[half:])
        + "</channel></rss>"), "application/rss+xml; charset=utf-8")
    home = _shell(FEEDS_LOOK.site_name, f'<div class="banner">{FEEDS_LOOK.column}</div>'
                  f'<p><a href="{DISALLOWED}">内部预览</a></p>',
                  head='<link rel="alternate" type="application/rss+xml" title="工作动态" href="/rss.xml"/>')
    site.routes["/index.html"] = Resource(home.encode(), UTF8)
    site.list_paths.append("/index.html")
    site.routes["/"] = site.routes["/index.html"]
    return site


DIALECT_BUILDERS: dict[str, Callable[[float], Site]] = {
    "trs-var": build_trs_var, "hanweb": build_hanweb, "govcn": build_govcn, "gkmlpt": build_gkmlpt,
    "jsonapi": build_jsonapi, "feeds": build_feeds,
}

__all__ = ["DIALECT_BUILDERS"]
