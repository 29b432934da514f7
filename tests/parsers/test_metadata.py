"""metadata: gov meta tags first, then trafilatura/htmldate, then in-page labels."""
from __future__ import annotations

import pytest

from govingest.parsers.decode import decode
from govingest.parsers.extract import extract
from govingest.parsers.metadata import clean_title, extract_metadata, normalize_date
from govingest.parsers.model import Decoded, Metadata
from tests.conftest import REAL

HTML = REAL / "html"


def _meta_of(name: str) -> Metadata:
    decoded = decode((HTML / name).read_bytes())
    return extract_metadata(decoded, extract(decoded))


def _page(html: str) -> Metadata:
    decoded = Decoded(text=html, encoding="utf-8", is_html=True)
    return extract_metadata(decoded, extract(decoded))


def test_gov_meta_tags_come_first() -> None:
    meta = _meta_of("gne-shanxi__1.html")
    assert meta.title == "山西品牌丝路行（南美站）正式启动"
    assert meta.published_at == "2019-09-18T06:23"
    assert meta.source == "山西日报"
    assert meta.site_name == "山西省人民政府门户网站"
    assert meta.column == "山西要闻"


def test_markup_inside_a_meta_value_is_removed() -> None:
    # the site's ArticleTitle carries a literal <div>…</div> around its subtitle
    meta = _meta_of("ia__500b350d-d38d-4fb0-9e81-75e0c95e95a8.html")
    assert meta.title == "为现代化巴彦淖尔建设凝聚强大智慧和力量——热烈祝贺市政协五届一次会议开幕"


def test_pages_without_gov_tags_use_title_and_in_page_labels() -> None:
    meta = _meta_of("ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e.html")
    assert meta.title == "农机专家李金泽：为农机行业搭建现代化信息平台"  # "_振兴东北" suffix gone
    assert meta.published_at == "2005-08-16"  # truth/…meta.json
    assert meta.source == "新华网"  # not the 凡本网注明“来源：…” copyright notice further down


def test_a_bare_date_under_the_headline_is_found() -> None:
    meta = _meta_of("ia__b26fbb82-9d98-42f0-af75-7439c1706bcd.html")
    assert meta.published_at == "2022-02-13T07:48"  # truth/…meta.json: 2022-02-13 07:48
    assert meta.source == "新华日报"  # not "新华日报 小" (the font-size widget follows it)


def test_empty_source_label_is_not_filled_with_the_next_label() -> None:
    meta = _page("""<html><head><title>县人大常委会召开代表约见会议_绥滨县人民政府</title></head><body>
      <div>信息来源: 发布日期：2024-07-05 13:57</div>
      <div class="TRS_Editor"><p>7月4日，县人大常委会召开人大代表约见国家机关负责人会议，听取有关部门工作情况汇报。</p></div>
      </body></html>""")
    assert meta.source is None
    assert meta.published_at == "2024-07-05T13:57"
    assert meta.title == "县人大常委会召开代表约见会议"


def test_an_empty_source_is_not_filled_with_a_label_of_any_wording() -> None:
    # 江西 集约化 info bar: "来源：" left empty, then 访问量 and 发布日期 (not a known label word)
    meta = _page("""<html><head><title>统计公报</title></head><body>
      <div class="article-attr"><span>来源：<b></b></span> <span>访问量：<b>199</b></span>
      <span>发布日期：<b>2017-05-15 10:49:00</b></span></div>
      <div id="zoomcon"><p>2015年，全县人民在县委、县政府的正确领导下，国民经济保持平稳增长，民生持续改善。</p></div>
      </body></html>""")
    assert meta.source is None
    assert meta.published_at == "2017-05-15T10:49"


def test_a_source_followed_by_the_next_label_keeps_its_value() -> None:
    meta = _page("""<html><head><title>统计公报</title></head><body>
      <div class="article-attr"><span>来源：万载县统计局</span> <span>访问量：199</span></div>
      <div id="zoomcon"><p>2015年，全县人民在县委、县政府的正确领导下，国民经济保持平稳增长，民生持续改善。</p></div>
      </body></html>""")
    assert meta.source == "万载县统计局"



def test_a_source_label_padded_with_a_space_is_a_source_label() -> None:
    # creatorCMS (湘潭): 来 源 and 责任编辑 under the article, no ContentSource tag
    meta = _page("""<html><head><title>书画展亮相澳门_湘潭市人民政府网站</title></head><body>
      <div id="zoom"><p>9月29日，由湘潭市文化产业协会带来的书画名家作品展成为展会上的一大亮点，广获好评。</p></div>
      <div class="ffxar2-1"><span>来 源：湘潭日报·新湘潭客户端</span> <em>责任编辑：欧阳予慧</em></div>
      </body></html>""")
    assert meta.source == "湘潭日报·新湘潭客户端"



def test_a_source_written_by_an_inline_script_is_the_source() -> None:
    # 广东 NFCMS (深圳): the 来源 value is written by a script, no ContentSource tag
    meta = _page("""<html><head><title>作品展举行</title></head><body>
      <h4><span>日期：2023-11-16 10:32</span> <span> 来源： <script>
        var   csource = "深圳特区报"; var  chntime = "2023-11-16";
        if(csource){ document.write(csource); }else{ document.write("市文化广电旅游体育局"); }
      </script></span> <i>字号：【大 中 小】</i></h4>
      <div class="TRS_Editor"><p>南国披锦绣，鹏城又金秋。市民文化节优秀美术、书法作品展日前在罗湖美术馆开幕。</p></div>
      </body></html>""")
    assert meta.source == "深圳特区报"
    assert meta.published_at == "2023-11-16T10:32"


@pytest.mark.parametrize("title,logo", [
    ("佛山市人民政府门户网站", ""),  # a short name ending like a site's
    ("广西壮族自治区人民政府门户网站 - www.gxzf.gov.cn", "<h1>广西壮族自治区人民政府门户网站</h1>"),  # the domain
])
def test_a_title_tag_naming_only_the_site_yields_to_the_headline(title: str, logo: str) -> None:
    # no ArticleTitle tag; the logo sits in an h1, the headline in an h3, 相关稿件： in an h2
    meta = _page(f"""<html><head><title>{title}</title>
      <meta name="SiteName" content="广西壮族自治区人民政府门户网站"></head><body>{logo}
      <h3 class="conetent-title">顺德容桂首届规范汉字现场书写大赛收官</h3>
      <div class="TRS_Editor"><p>近日，容桂街道首届规范汉字现场书写大赛圆满落幕，三百余名选手参加了比赛。</p></div>
      <h2>相关稿件：</h2></body></html>""")
    assert meta.title == "顺德容桂首届规范汉字现场书写大赛收官"

def test_a_data_source_note_in_the_article_is_not_the_page_source() -> None:
    # the info bar's 来源 is empty; the 统计公报's 资料来源 note credits its figures
    meta = _page("""<html><head><title>统计公报</title></head><body>
      <div class="article-attr"><span>来源：<b></b></span> <span>访问量：<b>199</b></span></div>
      <div id="zoomcon"><p>2022年，全县生产总值增长4.5%，民生持续改善，经济运行总体平稳。</p>
      <p>资料来源：本公报中财政数据来自县财政局，其余数据来自县统计局。</p></div>
      </body></html>""")
    assert meta.source is None

def test_in_page_labels_index_and_document_numbers() -> None:
    meta = _page("""<html><head><title>关于印发实施方案的通知</title></head><body>
      <table><tr><td>索引号：</td><td>11370200004609373M/2024-00123</td><td>发布机构：</td><td>青岛市人民政府办公厅</td></tr>
      <tr><td>文号：</td><td>青政办字〔2024〕12号</td><td>发布日期：</td><td>2024年5月13日</td></tr></table>
      <div id="zoom"><p>各区、市人民政府，市政府各部门，市直各单位：现将实施方案印发给你们，请认真贯彻执行。</p></div>
      </body></html>""")
    assert meta.disclosure.index_number == "11370200004609373M/2024-00123"
    assert meta.disclosure.doc_number == "青政办字〔2024〕12号"
    assert meta.disclosure.issuer == "青岛市人民政府办公厅"
    assert meta.source == "青岛市人民政府办公厅"
    assert meta.published_at == "2024-05-13"


@pytest.mark.parametrize("raw,want", [
    ("2024-03-03 15:54:07", "2024-03-03T15:54"),
    ("2023-08-19 10∶08", "2023-08-19T10:08"),  # the ratio sign some sites print as a colon
    ("2024年6月13日", "2024-06-13"),
    ("2022年02月13日07:48", "2022-02-13T07:48"),
    ("2019/9/8", "2019-09-08"),
    ("2024-13-40", None),
    ("昨天", None),
    (None, None),
])
def test_normalize_date(raw: str | None, want: str | None) -> None:
    assert normalize_date(raw) == want


@pytest.mark.parametrize("raw,site,column,want", [
    ("第七届武汉设计双年展闭幕 - 武汉市人民政府门户网站", None, None, "第七届武汉设计双年展闭幕"),
    ("我国首届养老专业本科生迎来毕业季_新闻频道_中国青年网", None, None, "我国首届养老专业本科生迎来毕业季"),
    ("2024年鄠邑区第十一届国家网络安全宣传周启动-西安市人民政府", None, None, "2024年鄠邑区第十一届国家网络安全宣传周启动"),
    ("【组团式帮扶】北京教育专家团赴青海玉树-相关工作-北京市发展和改革委员会", "北京市发展和改革委员会", "相关工作",
     "【组团式帮扶】北京教育专家团赴青海玉树"),
    ("1-10月德清县固定资产投资结构趋稳趋优", None, None, "1-10月德清县固定资产投资结构趋稳趋优"),
    ("短讯_某某市人民政府", None, None, "短讯"),
    ("辽宁省第十四届运动会青少年组现代五项比赛在弓长岭区开幕-辽阳网站欢迎您!", None, None,
     "辽宁省第十四届运动会青少年组现代五项比赛在弓长岭区开幕"),
    ("新竹尖石_美樹營地賞楓 (2) @ 史蒂文的家_藍天 :: 痞客邦 PIXNET ::", None, None,
     "新竹尖石_美樹營地賞楓 (2) @ 史蒂文的家_藍天 :: 痞客邦 PIXNET ::"),
    ("  ", None, None, None),
    # site and column leading (Hanweb 济南, 江苏): cut where a separator follows them
    ("济南市文化和旅游局 文旅快讯 市文化和旅游局到南部山区开展帮包服务", "济南市文化和旅游局", "文旅快讯",
     "市文化和旅游局到南部山区开展帮包服务"),
    ("万载县人民政府 | 万载县2015年国民经济和社会发展统计公报", "万载县人民政府", "统计公报",
     "万载县2015年国民经济和社会发展统计公报"),
    ("市政府召开常务会议研究部署防汛工作", "市政府", None, "市政府召开常务会议研究部署防汛工作"),
])
def test_clean_title_strips_site_and_column_suffixes(raw: str, site: str | None, column: str | None,
                                                      want: str | None) -> None:
    assert clean_title(raw, site, column) == want


def test_a_period_in_the_body_is_not_the_publication_date() -> None:
    meta = _page("""<html><head><title>关于举办宣传教育活动的通知</title></head><body>
      <div id="zoom"><p>三、活动时间：2024年6月至12月</p><p>各地各高校根据通知精神，结合实际制定工作方案，做好动员部署。</p></div>
      <div class="info">发布日期：2024-06-13</div></body></html>""")
    assert meta.published_at == "2024-06-13"


def test_a_year_only_guess_is_not_a_publication_date() -> None:
    """htmldate turns the 1997 of "1997年6月21日…逝世" into 1997-01-01 on a page that prints
    no date of its own (a city portal's museum page); the page never says 1月1日, so the
    date is unknown rather than wrong."""
    assert _meta_of("mhxqwer-dyqtaiyuan.gov.cn__index.html").published_at is None


def test_labels_of_pages_without_gov_tags() -> None:
    # Zving ZCMS (河北) and the cac.gov.cn 网站群 CMS: no ArticleTitle/PubDate tags
    hebei = _meta_of("mhxqwer-tqjwhly.hebei.gov.cn__index.html")
    assert (hebei.title, hebei.published_at, hebei.source) == (
        "青春心向党 启航新征程——河北青年优秀美术作品展启幕", "2022-05-07T00:00", "河北省文化和旅游厅机关党委")
    cac = _meta_of("mhxqwer-gjbcac.gov.cn__index.html")
    assert (cac.title, cac.published_at, cac.source) == ("从信息社会迈向智能社会", "2020-02-18T09:15", "人民日报")
    # scio.gov.cn (国务院新闻办公室): site name, date and 来源 in one info bar, no label before the date
    scio = _meta_of("lixj-zj-www.scio.gov.cn__news.html")
    assert (scio.title, scio.published_at, scio.source) == (
        "“2019感知中国——中意友好音乐会”在罗马举办（组图）", "2019-03-22", "国新网")


def test_lower_case_gov_meta_names() -> None:
    # Hanweb (济南) writes name="pubdate" and name="contentSource"
    meta = _meta_of("mhxqwer-ypljnwl.jinan.gov.cn__index.html")
    assert (meta.published_at, meta.source) == ("2019-07-10T10:43", "济南市文化和旅游局（原市文广新局）")


def test_a_title_tag_holding_the_whole_body_is_no_headline() -> None:
    """Seen as a storage failure (the title's index key past the btree row limit): a page
    whose <title> carries its body. No headline runs to hundreds of characters; the page's
    <h1> names the document instead."""
    body = "为做好安全生产工作，全市共检查企业29136家，整改隐患1.2万处。" * 40
    meta = _page(f"""<html><head><title>{body}</title></head><body><h1>关于开展安全检查的通知</h1>
      <div class="TRS_Editor"><p>{body}</p></div></body></html>""")
    assert meta.title == "关于开展安全检查的通知"
    short = _page("""<html><head><title>关于开展安全检查的通知_某市人民政府</title></head><body>
      <div class="TRS_Editor"><p>各区县：为做好安全生产工作，全市共检查企业29136家。</p></div></body></html>""")
    assert short.title == "关于开展安全检查的通知"
def test_a_content_source_that_repeats_the_title_is_no_source() -> None:
    # some templates fill ContentSource with the article title; the 发布机构 cell of the
    # disclosure table (no colon, so not an in-page label) names the publisher instead
    body = """<table><tr><td><strong>索 引 号</strong></td><td>&nbsp;Whgs-16-02-010</td></tr>
      <tr><td><strong>发布机构</strong></td><td>&nbsp;某市工商局</td></tr></table>
      <div class="TRS_Editor"><p>第一条　为了促进社会主义市场经济健康发展，鼓励和保护公平竞争，制定本法。</p></div>"""
    meta = _page(f"""<html><head><meta name="ArticleTitle" content="某某竞争法">
      <meta name="ContentSource" content="某某 竞争法"></head><body>{body}</body></html>""")
    assert meta.title == "某某竞争法"
    assert meta.source == "某市工商局"
    # a real ContentSource stays first
    meta = _page(f"""<html><head><meta name="ArticleTitle" content="某某竞争法">
      <meta name="ContentSource" content="某市市场监督管理局"></head><body>{body}</body></html>""")
    assert meta.source == "某市市场监督管理局"
    # no ContentSource, no source label and no disclosure table: no source
    meta = _page("""<html><head><meta name="ArticleTitle" content="某某竞争法"></head><body>
      <div class="TRS_Editor"><p>第一条　为了促进社会主义市场经济健康发展，制定本法。</p></div></body></html>""")
    assert meta.source is None


def _rendered(pubdate: str, generated: str, printed: str) -> Metadata:
    return _page(f"""<html><head><meta name="ArticleTitle" content="关于印发若干措施的通知">
      <meta name="PubDate" content="{pubdate}"><meta name="others" content="页面生成时间 {generated}"></head>
      <body><h1>关于印发若干措施的通知</h1><p>{printed}</p>
      <div class="TRS_Editor"><p>各市、自治州人民政府：《若干措施》已经省政府同意，现印发你们，请认真贯彻落实。</p></div>
      </body></html>""")


def test_a_pubdate_stamped_at_render_time_yields_to_the_printed_date() -> None:
    # PubDate equal to the page's 页面生成时间 is when the page was last rebuilt; the date
    # the page prints, on another day, is the publication
    assert _rendered("2025-03-27 09:36:38", "2025-03-27 09:36:38", "日期：2025-02-26 11:54 来源：").published_at \
        == "2025-02-26T11:54"
    # the same day: the tag is kept (the first render is the publication)
    assert _rendered("2024-07-05 14:01:14", "2024-07-05 14:01:14", "发布日期：2024-07-05 13:57").published_at \
        == "2024-07-05T14:01"
    # nothing printed: the tag is all there is
    assert _rendered("2025-03-27 09:36:38", "2025-03-27 09:36:38", "").published_at == "2025-03-27T09:36"
    # a document date that differs (发文日期, 成文日期, 生成日期) is no sign of a rebuild: a
    # document is often written weeks before the page that publishes it
    for label in ("发文日期", "成文日期", "生成日期"):
        assert _rendered("2023-05-16 12:34:05", "2023-05-16 12:34:05", f"{label}： 2023-04-18").published_at \
            == "2023-05-16T12:34"
    # a PubDate unlike the generation time is the site's statement and comes first
    assert _rendered("2025-02-27 08:00:00", "2025-03-27 09:36:38", "日期：2025-02-26 11:54").published_at \
        == "2025-02-27T08:00"


def test_real_pages_rendered_after_publication() -> None:
    gansu = _meta_of("jas0no7-fzgg.gansu.gov.cn__1.html")  # 日期：2025-02-26 11:54 in the info bar
    assert (gansu.published_at, gansu.source) == ("2025-02-26T11:54", "产业处")
    sctcm = _meta_of("mhxqwer-lysctcm.sc.gov.cn__index.html")  # 发布日期：2023-07-19 19:21:00, re-rendered 2024
    assert sctcm.published_at == "2023-07-19T19:21"
