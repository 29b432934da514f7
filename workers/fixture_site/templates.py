"""HTML of the fixture sites: article and list pages shaped like real district gov sites.

Why so much chrome: the parser's job is to find the body among navigation, breadcrumb
(当前位置), the QR block (扫一扫在手机上查看当前页面), app rows (i厦门微信, 闽政通APP),
"最新公开" sidebars and footers (网站标识码, ICP备, 公网安备, 主办单位). A fixture page
without them would test nothing. Two CMS styles are modelled: TRS (meta tags
ArticleTitle/PubDate/ContentSource, body in `div.TRS_Editor`, pager written by
`createPageHTML(...)`) and a Hanweb-like one (body in `div#zoom`, plain 下一页 links).
Links are absolute paths, so pages are built before the server knows its port.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SiteLook:
    """What the chrome of one site says: names, codes, column, script."""

    site_name: str  # SiteName meta and <title> suffix
    agency: str  # 主办单位
    site_code: str  # 网站标识码
    icp: str
    police: str  # 公网安备
    column: str  # ColumnName
    column_path: str  # e.g. /zwgk/gzdt/
    apps: tuple[str, ...] = ("i厦门微信", "闽政通APP", "思明快报微信", "厦门思明微博", "网上办事微信")
    traditional: bool = False


# The chrome text in Simplified and in Traditional (a 繁體版 page translates its chrome too).
_LABELS = {
    False: {"home": "首页", "here": "当前位置：", "qr": "扫一扫在手机上查看当前页面", "latest": "最新公开",
            "print": "打印本页", "close": "关闭窗口", "source": "来源：", "date": "发布时间：",
            "font": "字号：", "big": "大", "mid": "中", "small": "小", "sitemap": "网站地图",
            "contact": "联系我们", "host": "主办单位：", "code": "网站标识码：", "nav": ["首页", "政务公开", "政务服务", "互动交流", "专题专栏"],
            "important": ["重要", "通知"], "share": "分享到：", "views": "浏览次数：", "version": "繁体版",
            "related": "相关链接"},
    True: {"home": "首頁", "here": "當前位置：", "qr": "掃一掃在手機打開當前頁", "latest": "最新公開",
           "print": "打印本頁", "close": "關閉窗口", "source": "來源：", "date": "發布時間：",
           "font": "字號：", "big": "大", "mid": "中", "small": "小", "sitemap": "網站地圖",
           "contact": "聯繫我們", "host": "主辦單位：", "code": "網站標識碼：", "nav": ["首頁", "政務公開", "政務服務", "互動交流", "專題專欄"],
           "important": ["重要", "通知"], "share": "分享到：", "views": "瀏覽次數：", "version": "简体版",
           "related": "相關鏈接"},
}

_E = html.escape


def _header(look: SiteLook, lab: dict) -> str:
    nav = "".join(f'<li><a href="{"/" if i == 0 else look.column_path}">{_E(n)}</a></li>' for i, n in enumerate(lab["nav"]))
    return f"""<div class="top-bar"><div class="w1200"><span class="date-box"></span>
<a href="javascript:void(0)" class="jt-ft">{lab["version"]}</a> | <a href="javascript:void(0)">无障碍</a> | <a href="javascript:void(0)">长者模式</a></div></div>
<div class="header"><div class="w1200"><a href="/" class="logo"><img src="/images/logo.png" alt="{_E(look.site_name)}"/></a>
<form class="search" action="/search/" method="get"><input type="text" name="q" placeholder="请输入关键字"/><button>搜索</button></form></div></div>
<div class="nav" role="navigation"><ul class="w1200">{nav}</ul></div>"""


def _breadcrumb(look: SiteLook, lab: dict) -> str:
    return (f'<div class="breadcrumb w1200"><span>{lab["here"]}</span><a href="/">{lab["home"]}</a> &gt; '
            f'<a href="{look.column_path}">{_E(look.column)}</a></div>')


def _sidebar(lab: dict, latest: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{_E(href)}" title="{_E(t)}">{_E(t)}</a></li>' for href, t in latest)
    return f'<div class="side-box"><div class="side-title">{lab["latest"]}</div><ul class="side-list">{items}</ul></div>'


def _apps(look: SiteLook, lab: dict) -> str:
    rows = "".join(f'<li><img src="/images/ewm{i}.jpg" alt=""/><p>{_E(a)}</p></li>' for i, a in enumerate(look.apps))
    imp = "".join(f"<span>{_E(x)}</span>" for x in lab["important"])
    return f'<div class="app-row"><div class="tip">{imp}</div><ul class="apps">{rows}</ul></div>'


def _footer(look: SiteLook, lab: dict) -> str:
    return f"""<div class="footer"><div class="w1200">
<p><a href="/wzdt/">{lab["sitemap"]}</a> | <a href="/lxwm/">{lab["contact"]}</a></p>
<p>{lab["host"]}{_E(look.agency)}　　{lab["code"]}{look.site_code}</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">{_E(look.icp)}</a>　　<img src="/images/ga.png" alt=""/>{_E(look.police)}</p>
<p><span id="_ideConac"></span><script type="text/javascript">document.write(unescape("%3Cspan id='_ideConac' %3E%3C/span%3E"));</script></p>
</div></div>"""


def article_page(look: SiteLook, *, title: str, published: datetime, source: str, paragraphs: list[str],
                 latest: list[tuple[str, str]], attachments: Sequence[tuple[str, str]] = (), charset: str = "utf-8") -> str:
    """A TRS-style article page: meta tags, chrome around a `div.TRS_Editor` body."""
    lab = _LABELS[look.traditional]
    body = "\n".join(f'<p style="text-indent:2em;">{_E(p)}</p>' for p in paragraphs)
    att = ""
    if attachments:
        links = "".join(f'<li><a href="{_E(href)}" target="_blank">{_E(name)}</a></li>' for href, name in attachments)
        att = f'<div class="fujian"><span>附件：</span><ul>{links}</ul></div>'
    pub = published.strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="{'zh-Hant' if look.traditional else 'zh-CN'}">
<head>
<meta charset="{charset}"/>
<meta http-equiv="X-UA-Compatible" content="IE=edge"/>
<meta name="SiteName" content="{_E(look.site_name)}"/>
<meta name="SiteDomain" content="www.example.gov.cn"/>
<meta name="SiteIDCode" content="{look.site_code}"/>
<meta name="ColumnName" content="{_E(look.column)}"/>
<meta name="ColumnType" content="{_E(look.column)}"/>
<meta name="ArticleTitle" content="{_E(title)}"/>
<meta name="PubDate" content="{pub}"/>
<meta name="ContentSource" content="{_E(source)}"/>
<meta name="Keywords" content="{_E(look.column)}"/>
<title>{_E(title)}_{_E(look.site_name)}</title>
<link rel="stylesheet" href="/css/style.css"/>
<script src="/js/jquery.min.js"></script>
</head>
<body>
{_header(look, lab)}
{_breadcrumb(look, lab)}
<div class="main w1200 clearfix">
<div class="left-box">
<div class="article">
<h1 class="article-title">{_E(title)}</h1>
<div class="article-info"><span>{lab["date"]}{pub}</span><span>{lab["source"]}{_E(source)}</span>
<span>{lab["views"]}<em id="views"></em></span><span class="font">{lab["font"]}<a href="javascript:doZoom(18)">{lab["big"]}</a> <a href="javascript:doZoom(16)">{lab["mid"]}</a> <a href="javascript:doZoom(14)">{lab["small"]}</a></span></div>
<div class="article-content" id="zoom">
<div class="TRS_Editor">
{body}
</div>
</div>
{att}
<div class="article-tools"><span class="share">{lab["share"]}<a class="bds_weixin" href="javascript:void(0)">微信</a><a class="bds_tsina" href="javascript:void(0)">微博</a></span>
<a href="javascript:window.print()">{lab["print"]}</a> <a href="javascript:window.close()">{lab["close"]}</a></div>
<div class="qr-code"><img src="/images/qrcode.png" alt=""/><p>{lab["qr"]}</p></div>
</div>
</div>
<div class="right-box">{_sidebar(lab, latest)}</div>
</div>
{_apps(look, lab)}
{_footer(look, lab)}
</body>
</html>
"""


PAGER_SCRIPT = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount <= 1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  if(nCurrIndex == 0) document.write("<span>首页</span>&nbsp;");
  else document.write("<a href=\\"" + _sPageName + "." + _sPageExt + "\\">首页</a>&nbsp;");
  if(nCurrIndex > 0){
    var prev = nCurrIndex == 1 ? _sPageName + "." + _sPageExt : _sPageName + "_" + (nCurrIndex - 1) + "." + _sPageExt;
    document.write("<a href=\\"" + prev + "\\">上一页</a>&nbsp;");
  }
  if(nCurrIndex + 1 < _nPageCount)
    document.write("<a href=\\"" + _sPageName + "_" + (nCurrIndex + 1) + "." + _sPageExt + "\\">下一页</a>&nbsp;");
  document.write("<a href=\\"" + _sPageName + "_" + (_nPageCount - 1) + "." + _sPageExt + "\\">尾页</a>");
}
</script>"""


def trs_list_page(look: SiteLook, *, items: list[tuple[str, str, datetime]], page: int, pages: int,
                  extra_links: Sequence[tuple[str, str]] = (), charset: str = "utf-8") -> str:
    """A TRS column list page: plain article links, pager written only by script."""
    lab = _LABELS[look.traditional]
    rows = "\n".join(f'<li><a href="{_E(href)}" target="_blank" title="{_E(t)}">{_E(t)}</a><span>{d:%Y-%m-%d}</span></li>'
                     for href, t, d in items)
    extra = "".join(f'<li><a href="{_E(href)}">{_E(t)}</a></li>' for href, t in extra_links)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}"/>
<meta name="SiteName" content="{_E(look.site_name)}"/>
<meta name="SiteIDCode" content="{look.site_code}"/>
<meta name="ColumnName" content="{_E(look.column)}"/>
<title>{_E(look.column)}_{_E(look.site_name)}</title>
{PAGER_SCRIPT}
</head>
<body>
{_header(look, lab)}
{_breadcrumb(look, lab)}
<div class="main w1200 clearfix">
<div class="left-box"><div class="list-title">{_E(look.column)}</div>
<ul class="news-list">
{rows}
</ul>
<div class="page"><script type="text/javascript">createPageHTML({pages}, {page}, "index", "html");</script></div>
</div>
<div class="right-box"><div class="side-box"><div class="side-title">{lab["related"]}</div><ul>{extra}</ul></div></div>
</div>
{_apps(look, lab)}
{_footer(look, lab)}
</body>
</html>
"""


def hanweb_article_page(look: SiteLook, *, title: str, published: datetime, source: str, paragraphs: list[str],
                        charset: str) -> str:
    """A Hanweb-style article (the GBK site): table layout, body in `div#zoom`, no TRS metas."""
    lab = _LABELS[False]
    body = "\n".join(f"<p>　　{_E(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}"/>
<meta name="SiteName" content="{_E(look.site_name)}"/>
<meta name="ArticleTitle" content="{_E(title)}"/>
<meta name="PubDate" content="{published:%Y-%m-%d %H:%M}"/>
<meta name="ContentSource" content="{_E(source)}"/>
<title>{_E(title)} - {_E(look.site_name)}</title>
</head>
<body>
<table width="1000" align="center" cellpadding="0" cellspacing="0" class="top"><tr><td><img src="/images/banner.jpg" alt=""/></td></tr>
<tr><td class="nav">{" | ".join(f'<a href="{look.column_path}">{_E(n)}</a>' for n in lab["nav"])}</td></tr></table>
<table width="1000" align="center"><tr><td class="weizhi">{lab["here"]}<a href="/">{lab["home"]}</a> &gt;&gt; <a href="{look.column_path}">{_E(look.column)}</a> &gt;&gt; 正文</td></tr></table>
<table width="1000" align="center" class="content"><tr><td>
<div class="title" align="center"><b>{_E(title)}</b></div>
<div class="info" align="center">信息来源：{_E(source)}　发布日期：{published:%Y-%m-%d}　【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</div>
<div id="zoom">
{body}
</div>
<div class="tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</td></tr></table>
<table width="1000" align="center" class="bottom"><tr><td>
<p>{lab["host"]}{_E(look.agency)}　{lab["code"]}{look.site_code}</p>
<p>{_E(look.icp)}　{_E(look.police)}</p>
</td></tr></table>
</body>
</html>
"""


def hanweb_list_page(look: SiteLook, *, items: list[tuple[str, str, datetime]], page: int, pages: int,
                     charset: str, extra_links: Sequence[tuple[str, str]] = ()) -> str:
    """A Hanweb-style list page whose pager is plain 上一页/下一页 links (no script)."""
    rows = "\n".join(f'<tr><td>·<a href="{_E(h)}" target="_blank">{_E(t)}</a></td><td>{d:%Y-%m-%d}</td></tr>'
                     for h, t, d in items)
    name = lambda n: "index.htm" if n == 0 else f"index_{n}.htm"
    pager = [f"共{pages}页 第{page + 1}页"]
    if page > 0:
        pager.append(f'<a href="{name(page - 1)}">上一页</a>')
    if page + 1 < pages:
        pager.append(f'<a href="{name(page + 1)}">下一页</a>')
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}"/>
<title>{_E(look.column)} - {_E(look.site_name)}</title>
</head>
<body>
<table width="1000" align="center"><tr><td class="weizhi">当前位置：<a href="/">首页</a> &gt;&gt; {_E(look.column)}</td></tr></table>
<table width="1000" align="center" class="list">
{rows}
</table>
<div class="pager" align="center">{" ".join(pager)}</div>
<div class="links">{"".join(f'<a href="{_E(h)}">{_E(t)}</a> ' for h, t in extra_links)}</div>
<table width="1000" align="center" class="bottom"><tr><td>主办单位：{_E(look.agency)}　网站标识码：{look.site_code}　{_E(look.icp)}</td></tr></table>
</body>
</html>
"""


def simple_index(title: str, links: list[tuple[str, str]], charset: str = "utf-8") -> str:
    """A bare list of links: the home pages and the fault list."""
    rows = "\n".join(f'<li><a href="{_E(h)}">{_E(t)}</a></li>' for h, t in links)
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"/><title>{_E(title)}</title></head>
<body><h1>{_E(title)}</h1><ul>
{rows}
</ul></body></html>
"""
