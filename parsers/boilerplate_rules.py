"""The boilerplate rule set, kept as data: each rule named, so `rules_hit` can say why a line went.

A rule's `pattern` is matched against a line's *match key*: the line in Simplified
characters with fullwidth ASCII folded to ASCII and ideographic spaces made plain
(so one pattern covers 扫一扫/掃一掃 and `：`/`:`). Scopes:

* `line`   — the whole line matches (re.fullmatch): the line is removed.
* `prefix` — the pattern matches at the start: that part is cut, the rest kept.
* `suffix` — the pattern matches at the end (use a trailing `$`): that part is cut.
* `block`  — the whole line matches, but it is removed only inside a chrome block:
  next to (or in a run of block lines touching) a line some `line` rule removed.
  For words like 重要 / 通知 / 主办单位 that are chrome in a footer and body text
  elsewhere.

Patterns never match a body sentence that merely mentions 通知 or 微信: line rules
are anchored to short lines without sentence punctuation. To add a rule, append a
`Rule(...)` row; the order matters only in that the first matching rule is counted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["line", "prefix", "suffix", "block"]

# Words a print/share/font-size toolbar is made of; a line made only of these (and at
# least one verb among them) is a toolbar.
_TOOLBAR_WORD = (
    r"打印本页|打印此页|打印文章|打印|关闭窗口|关闭本页|关闭|收藏本页|加入收藏|收藏|分享到|分享|"
    r"保存本页|返回顶部|返回|我要纠错|纠错|字号|字体|文字|大|中|小|默认|[Tt]|微信|微博|QQ空间|QQ|"
    r"朋友圈|复制链接|人人网|豆瓣|[\[\]【】()（）:|/·、,]|\s"
)
_TOOLBAR = rf"(?=.*(?:打印|关闭|分享|收藏|字号|字体|纠错|返回顶部))(?:{_TOOLBAR_WORD})+"
_NO_SENTENCE = r"[^。;!?,]"  # characters of a short chrome line: no sentence punctuation


@dataclass(frozen=True)
class Rule:
    """`needles`: optional lowercase substrings, one of which the key must contain for the
    rule to be tried — a cheap `in` test that spares the regex on most body lines."""

    name: str
    pattern: str
    scope: Scope = "line"
    needles: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))

    def may_match(self, lowered_key: str) -> bool:
        return not self.needles or any(n in lowered_key for n in self.needles)


RULES: list[Rule] = [
    # QR codes and "open on your phone" blocks
    Rule("qr_mobile", rf"{_NO_SENTENCE}{{0,16}}(?:扫一扫|扫描二维码|手机扫码|微信扫码){_NO_SENTENCE}{{0,24}}", needles=("扫",)),
    Rule("qr_mobile_suffix", r"\s*(?:扫一扫在手机上?(?:查看|打开|浏览)当前页面?)\s*$", "suffix", needles=("扫一扫",)),
    Rule("mobile_version", rf"{_NO_SENTENCE}{{0,10}}(?:手机版|移动版|在手机上?(?:查看|打开|浏览)){_NO_SENTENCE}{{0,10}}", needles=("手机", "移动版")),
    Rule("wechat_browser_hint", r"(?:选择在浏览器中打开|点击右上角.{0,20}|在浏览器中打开.{0,10})", needles=("浏览器", "右上角")),
    # print / close / font-size / share bars
    Rule("toolbar", _TOOLBAR, needles=("打印", "关闭", "分享", "收藏", "字号", "字体", "纠错", "返回顶部")),
    # a row of bracketed labels holding a toolbar verb: 【信息发布：区退役军人事务局】【内容纠错】【关闭窗口】
    Rule("bracket_toolbar", r"(?=.*【[^】]{0,6}(?:打印|关闭|纠错|收藏)[^】]{0,4}】)(?:\s*【[^】]{1,30}】)+\s*",
         needles=("打印", "关闭", "纠错", "收藏")),
    # app and social rows: i厦门微信, 闽政通APP, 厦门思明微博, 武汉市人民政府微信公众号
    Rule(
        "app_social_row",
        r"[^\s,。;:!?、]{0,16}(?:微信公众号|微信|微博|APP|客户端|公众号|小程序|抖音号?|头条号|视频号|快手号|WeChat)",
        needles=("微信", "微博", "app", "客户端", "公众号", "小程序", "抖音", "头条号", "视频号", "快手号", "wechat"),
    ),
    # site footers
    Rule("site_id_footer", r".{0,120}(?:网站标识码|网站识别码).{0,120}", needles=("标识码", "识别码")),
    Rule("icp_footer", r".{0,120}ICP\s*[备证].{0,120}", needles=("icp",)),
    Rule("police_record_footer", r".{0,120}公网安备.{0,120}", needles=("公网安备",)),
    Rule("copyright_footer", r"[^。]{0,60}(?:版权所有|copyright\s|©)[^。]{0,120}", needles=("版权所有", "copyright", "©")),
    # a reprint notice closing the body: 版权所有，转载请注明出处。 / （本文为原创，谢绝转载）
    Rule(
        "reprint_notice",
        r"[^。]{0,30}(?:转载请注明|转载请标明|请注明出处|禁止转载|谢绝转载)[^。]{0,20}[。.!]?[)]?",
        needles=("转载", "出处"),
    ),
    Rule("breadcrumb", r"(?:当前位置|您当前的位置|您现在的位置|您的位置|当前所在位置|所在位置)\s*[:>].{0,100}", needles=("位置",)),
    Rule("pager", r"(?=.*(?:上一页|下一页|尾页))(?:首页|上一页|下一页|尾页|共\s*\d+\s*页|\d|[|>\s])+", needles=("上一页", "下一页", "尾页")),
    Rule("prev_next", r"(?:上一篇|下一篇)\s*[:].{0,80}", needles=("上一篇", "下一篇")),
    Rule("view_count", rf"{_NO_SENTENCE}{{0,80}}(?:浏览次数|点击数|点击量|阅读次数|访问量|浏览量|阅读量)\s*:?\s*\d*{_NO_SENTENCE}{{0,20}}", needles=("浏览", "点击", "阅读", "访问量")),
    # an editor's credit closing the body: 责任编辑：任禹西 / 【责任编辑：常宁】 / 作者：风云 责任编辑：孙慧
    Rule("editor_credit",
         r"[\[【(]?\s*(?:(?:作者|记者|通讯员|摄影|审核|校对|编审)\s*:\s*[^\s:。,;!?]{1,12}\s+)*"
         r"(?:责任编辑|责编|编辑|值班编辑|审核|校对)\s*:\s*[^:。,;!?]{1,16}?\s*[\]】)]?",
         needles=("编辑", "责编", "审核", "校对")),
    # a lone publication-time label, left in the body by a template (the metadata stage reads it from the page)
    Rule("date_line", r"(?:发布时间|发布日期|更新时间|发稿时间)\s*:\s*\d{4}(?:[-/.年月]\d{1,2}){2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?",
         needles=("时间", "日期")),
    Rule("related_header", r"(?:相关链接|相关文章|相关阅读|相关新闻|相关稿件|相关附件|相关文件|相关信息|相关解读|延伸阅读|推荐阅读|热点推荐|猜你喜欢)\s*[:]?", needles=("相关", "阅读", "推荐", "喜欢")),
    Rule("search_box", r"(?:搜索|高级搜索|政务全搜索|站内搜索|全站搜索|全文检索|请输入关键[字词])", needles=("搜索", "检索", "关键")),
    Rule("empty_table_row", r"[|\s]+"),
    # document-sharing (aggregator) wrappers
    Rule("aggregator_intro", r"[^。]{0,12}小编为大家(?:精心)?(?:整理|收集|搜集|准备|带来|分享)[^。]{0,120}[。!.]?", needles=("小编",)),
    Rule(
        "aggregator_intro_prefix",
        r"(?:下面|以下)是小编为大家[^。]{0,100}?(?:供大家参考|仅供参考|欢迎阅读|希望对大家有所帮助|希望对你有所帮助)[^。]{0,10}?[。!.]",
        "prefix",
        needles=("小编",),
    ),
    Rule("recommend_links", r"(?:推荐访问|相关热词搜索|热门推荐|猜你感兴趣)\s*[:].{0,300}", needles=("推荐", "热词", "感兴趣")),
    Rule("ugc_upload_meta", r".{0,40}(?:网友投稿|网友上传|用户上传|会员上传).{0,20}", needles=("上传", "投稿")),
    Rule("hidden_text", r"-*\s*此处隐藏\s*[:]?\s*\d+\s*字.{0,20}?-*", needles=("隐藏",)),
    Rule("download_prompt", r"(?:点击下载|下载文档|全文下载|文档下载|免费下载|下载全文|下载后查看)[^。]{0,20}", needles=("下载",)),
    Rule("ugc_disclaimer", r".{0,20}(?:本文内容由互联网用户|本站不拥有所有权|如有侵权请联系|如有侵权,请联系).{0,120}", needles=("互联网用户", "所有权", "侵权")),
    # chrome words, removed only inside a chrome block (see module docstring)
    Rule("nav_word", r"(?:重要|通知|公告|首页|更多|更多>>|>>|返回|网站地图|联系我们|无障碍|无障碍浏览|长者模式|关怀版|English|繁体|简体|登录|注册|RSS|政务公开|政务服务|互动交流)", "block"),
    Rule("host_footer", r"(?:主办单位|主办|承办单位|承办|技术支持|运维单位|维护单位)\s*[:].{0,80}", "block"),
]
