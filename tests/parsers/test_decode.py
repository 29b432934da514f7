"""decode: BOMs, HTTP and meta charsets, the GB family as GB18030, stale declarations."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from govingest.parsers.decode import canonical_charset, charset_from_content_type, charset_from_meta, decode
from govingest.parsers.model import ParseError
from tests.conftest import REAL, SEEDS

HTML = REAL / "html"


def _first_truth_line(stem: str) -> str:
    text = (REAL / "truth" / f"{stem}.txt").read_text(encoding="utf-8")
    return next(line.strip() for line in text.splitlines() if len(line.strip()) >= 12)


@pytest.mark.parametrize("stem", ["ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e", "ia__b26fbb82-9d98-42f0-af75-7439c1706bcd"])
def test_gbk_pages_decode_as_gb18030_with_the_article_readable(stem: str) -> None:
    body = (HTML / f"{stem}.html").read_bytes()
    decoded = decode(body)
    assert decoded.encoding == "gb18030"
    assert decoded.is_html
    assert "\ufffd" not in decoded.text
    line = _first_truth_line(stem)
    assert line[:12] in decoded.text


def test_declared_gb2312_but_utf8_bytes_decode_as_utf8() -> None:
    body = (HTML / "magichtml__9c642bd57e7c44cd.html").read_bytes()
    assert charset_from_meta(body) == "gb18030"  # the stale declaration is really there
    decoded = decode(body)
    assert decoded.encoding == "utf-8"
    assert _first_truth_line("magichtml__9c642bd57e7c44cd")[:12] in decoded.text


@pytest.mark.parametrize("codec,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                       ("utf-8", codecs.BOM_UTF8)])
def test_byte_order_mark_wins_over_everything(codec: str, bom: bytes) -> None:
    page = (HTML / "gne-shanxi__1.html").read_text(encoding="utf-8")
    # a lying header must not matter when the BOM is there
    decoded = decode(bom + page.encode(codec), content_type="text/html; charset=gbk")
    assert decoded.encoding == codec
    assert decoded.text == page
    assert decoded.is_html


def test_http_charset_is_used_when_the_page_declares_nothing() -> None:
    text = "<html><body><p>臺灣的政府公告：臺北市政府發布新聞稿，說明颱風期間的防災措施。</p></body></html>"
    body = text.encode("big5")
    decoded = decode(body, content_type="text/html; charset=Big5")
    assert decoded.encoding == "big5"
    assert decoded.text == text


def test_meta_charset_is_used_without_a_header() -> None:
    text = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"></head><body><p>臺北市政府發布新聞稿，說明颱風期間的防災措施。</p></body></html>'
    decoded = decode(text.encode("big5"))
    assert decoded.encoding == "big5"
    assert "颱風" in decoded.text


def test_gb2312_declaration_decodes_characters_only_gb18030_has() -> None:
    # 镕 is outside GB2312 and 䶮 outside GBK; pages declaring gb2312 use both
    text = '<html><head><meta charset="gb2312"></head><body><p>朱镕基同志与刘䶮的史料展览开幕。</p></body></html>'
    decoded = decode(text.encode("gb18030"))
    assert decoded.encoding == "gb18030"
    assert "朱镕基" in decoded.text and "刘䶮" in decoded.text


def test_undeclared_gbk_falls_back_to_gb18030() -> None:
    text = "<html><body><p>关于做好春节期间安全生产工作的通知</p></body></html>"
    decoded = decode(text.encode("gbk"))
    assert decoded.encoding == "gb18030"
    assert decoded.text == text


def test_charset_normalizer_guesses_what_neither_utf8_nor_gb18030_reads() -> None:
    text = "Le café est très bon à Paris, près de la Seine. " * 20
    decoded = decode(text.encode("cp1252"))
    assert "café" in decoded.text and "très" in decoded.text
    assert not decoded.is_html


def test_charset_labels_are_canonical() -> None:
    assert canonical_charset("GB2312") == "gb18030"
    assert canonical_charset("x-gbk") == "gb18030"
    assert canonical_charset("ISO-8859-1") == "cp1252"
    assert canonical_charset("UTF8") == "utf-8"
    assert canonical_charset("no-such-charset") is None
    assert charset_from_content_type('text/html; charset="GBK"') == "gb18030"
    assert charset_from_content_type("text/html") is None


@pytest.mark.parametrize("body,what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
    (bytes(range(256)) * 8, "binary"),
])
def test_binary_input_is_a_parse_error_naming_what_it_is(body: bytes, what: str) -> None:
    with pytest.raises(ParseError) as err:
        decode(body)
    assert err.value.reason.startswith("binary input")
    assert what in err.value.reason or what == "binary"
    assert "\n" not in err.value.reason


def test_seed_text_files_are_text_not_html() -> None:
    for path in sorted(Path(SEEDS).glob("*.txt")):
        decoded = decode(path.read_bytes())
        assert not decoded.is_html, path.name
        assert decoded.text.strip()


def test_every_real_page_decodes_without_replacement_characters_where_the_source_has_none() -> None:
    for path in sorted(HTML.glob("*.html")):
        body = path.read_bytes()
        decoded = decode(body)
        assert decoded.is_html, path.name
        if b"\xef\xbf\xbd" not in body:  # the saved page itself carries no U+FFFD
            assert "\ufffd" not in decoded.text, path.name


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised(codec: str) -> None:
    page = (HTML / "gne-gzggw__1.html").read_text(encoding="utf-8")
    decoded = decode(page.encode(codec))
    assert decoded.encoding == codec
    assert decoded.text == page


@pytest.mark.parametrize("text,is_html", [
    ("<p>关于做好春节期间安全生产工作的通知</p>", True),
    ("<div class='TRS_Editor'>正文</div>", True),
    ("一、总体要求\n<注：本文件自发布之日起施行>\n二、工作措施", False),
    ("检查企业29136家，a<b 且 c>d。", False),
])
def test_html_fragments_versus_text_with_angle_brackets(text: str, is_html: bool) -> None:
    assert decode(text.encode("utf-8")).is_html is is_html


def test_a_utf16_meta_declaration_on_ascii_compatible_bytes_means_utf8() -> None:
    body = b'<html><head><meta charset="utf-16"></head><body><p>Notice of the city government</p></body></html>'
    decoded = decode(body)
    assert decoded.encoding == "utf-8"
    assert "Notice of the city government" in decoded.text
