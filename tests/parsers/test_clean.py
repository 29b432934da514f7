"""clean: chrome lines out (and listed), body sentences kept, counts per named rule."""
from __future__ import annotations

import re

import pytest

from govingest.parsers.boilerplate_rules import RULES, Rule
from govingest.parsers.clean import clean

BODY = "区委区政府召开常委会、常务会，全力推进安全生产治本攻坚三年行动。"


def test_seed_000_footer_block_removed_in_order() -> None:
    chrome = ["扫一扫在手机上查看当前页面", "重要", "通知", "i厦门微信", "闽政通APP", "思明快报微信", "厦门思明微博", "网上办事微信"]
    out = clean([BODY, *chrome])
    assert out.paragraphs == [BODY]
    assert out.removed == chrome
    assert out.rules_hit == {"qr_mobile": 1, "nav_word": 2, "app_social_row": 5}


def test_body_sentences_mentioning_notice_or_wechat_are_kept() -> None:
    body = [
        "印发《关于进一步强化重大节日期间安全防范工作的通知》，要求各级党组织提高政治站位。",
        "群发短信微信88万余条，启动LED宣传屏20余块。",
        "通过AAA公众号、微博等新媒体矩阵推送节日安全提醒文章5篇。",
    ]
    assert clean(body).paragraphs == body


def test_body_sentences_about_reprinting_are_kept() -> None:
    body = [
        "网站转载新闻信息，应当注明新闻信息来源、原作者、原标题、编辑真实姓名等，不得歪曲篡改标题原意。",
        "会议要求，各网站转载请注明出处的规定要落实到位，对违规转载行为依法处理，切实维护著作权人合法权益。",
    ]
    assert clean(body).paragraphs == body


def test_lone_nav_words_outside_a_chrome_block_are_kept() -> None:
    # "通知" as a one-word line between body paragraphs is a heading, not chrome.
    out = clean([BODY, "通知", BODY])
    assert out.paragraphs == [BODY, "通知", BODY]
    assert out.removed == []


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("掃一掃在手機打開當前頁", "qr_mobile"),
        ("扫一扫在手机打开当前页", "qr_mobile"),
        ("【打印本页】【关闭窗口】", "toolbar"),
        ("字号：大 中 小", "toolbar"),
        ("【信息发布：区退役军人事务局】 【内容纠错】 【打印文章】 【关闭窗口】", "bracket_toolbar"),
        ("分享到：", "toolbar"),
        ("网站标识码：3502030001 闽ICP备05005225号", "site_id_footer"),
        ("闽公网安备 35020302000123号", "police_record_footer"),
        ("版权所有：中华人民共和国教育部 中文域名：教育部.政务", "copyright_footer"),
        ("版权所有，转载请注明出处。", "reprint_notice"),
        ("（本文为原创稿件，未经授权谢绝转载）", "reprint_notice"),
        ("当前位置：首页 > 政务公开 > 通知公告", "breadcrumb"),
        ("相关链接：", "related_header"),
        ("发布时间：2017-05-02", "date_line"),
        ("【责任编辑：任禹西】", "editor_credit"),
        ("作者：风云 责任编辑：孙慧", "editor_credit"),
        ("责任编辑：待二审", "editor_credit"),
        ("（责编：萧潇、张妍）", "editor_credit"),
        ("发布日期：2024年5月30日 10:10", "date_line"),
        ("浏览次数：", "view_count"),
        ("首页 | 上一页 1 下一页 | 尾页", "pager"),
        ("武汉市人民政府微信公众号", "app_social_row"),
        ("下面是小编为大家整理的全区安全生产工作情况汇报,供大家参考。", "aggregator_intro"),
        ("推荐访问:", "recommend_links"),
        ("更新时间:2024-11 来源:网友投稿", "ugc_upload_meta"),
        ("---此处隐藏2296字,下载后查看---", "hidden_text"),
        ("---此處隱藏2296字,下載後查看---", "hidden_text"),
    ],
)
def test_rule_removes_line(line: str, rule: str) -> None:
    out = clean([BODY, line])
    assert out.paragraphs == [BODY]
    assert out.removed == [line]
    assert out.rules_hit == {rule: 1}


def test_footer_words_removed_only_next_to_a_footer() -> None:
    out = clean([BODY, "主办单位：厦门市思明区人民政府办公室", "网站标识码：3502030001"])
    assert out.paragraphs == [BODY]
    assert out.rules_hit == {"host_footer": 1, "site_id_footer": 1}
    notice = ["活动安排如下。", "主办单位：教育部", "承办单位：上海交通大学", BODY]
    assert clean(notice).paragraphs == notice


def test_prefix_and_suffix_cut_keep_the_body() -> None:
    out = clean(["下面是小编为大家整理的工作总结，供大家参考。一、工作开展情况", BODY + "扫一扫在手机上查看当前页面"])
    assert out.paragraphs == ["一、工作开展情况", BODY]
    assert out.removed == ["下面是小编为大家整理的工作总结，供大家参考。", "扫一扫在手机上查看当前页面"]


def test_empty_lines_and_whitespace_dropped_without_being_listed() -> None:
    out = clean(["", "  ", f"  {BODY}\n\n{BODY}  "])
    assert out.paragraphs == [BODY, BODY]
    assert out.removed == []


def test_rules_are_named_data() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)), "rule names must be unique: rules_hit is keyed by them"
    assert all(isinstance(r, Rule) and isinstance(r.regex, re.Pattern) for r in RULES)
    assert {r.scope for r in RULES} <= {"line", "prefix", "suffix", "block"}


def test_long_adversarial_lines_finish() -> None:
    # Nested quantifiers would backtrack exponentially on these; each must return at once.
    vocab = ["上一页 ", "1" * 40, "打印", "大中小", "扫一扫", "此处隐藏", "9" * 30, "微信", "版权所有", "·", "x"]
    for word in vocab:
        line = (word * (4000 // len(word)))[:4000] + "。尾"
        out = clean([line, "上一页" + "1" * 60 + "x"])
        assert len(out.paragraphs) + len(out.removed) >= 1
