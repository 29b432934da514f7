"""Attachments: text of real-looking files, and hostile files ending as recorded states.

The real-looking files (tests/fixtures/attachments, made with LibreOffice: see its
README) carry a notice with an embedded subset CJK font; the hostile ones are built
here: a compression bomb, a ZIP bomb inside a DOCX, a 500-page PDF, cut and garbled
files. Every hostile file must end as a ParseError with a kind (what the URL records),
quickly, inside the test process: nothing may crash or hang a worker.
"""
from __future__ import annotations

import io
import time
import zipfile
import zlib

import pytest

from govingest.parsers.attachments import Limits, attachment_format, extract_attachment
from govingest.parsers.attachments.doc import converter
from govingest.parsers.attachments.reflow import reflow
from govingest.parsers.model import ParseError
from govingest.parsers.pipeline import parse
from govingest.parsers.timeout import parse_with_timeout
from tests.conftest import FIXTURES

FILES = FIXTURES / "attachments"
NOTICE_LINES = [
    "厦门市思明区应急管理局关于开展2024年安全生产月活动的通知",
    "厦思应急〔2024〕15号",
    "（一）开展隐患排查整治。全区检查企业1200家，发现隐患356处，整改率达到100%。",
    "厦门市思明区应急管理局",
]


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize("name", ["notice.pdf", "notice.docx", "notice.doc"])
def test_the_notice_reads_the_same_from_pdf_docx_and_doc(name: str) -> None:
    body = (FILES / name).read_bytes()
    if name.endswith(".doc") and converter() is None:
        with pytest.raises(ParseError) as err:  # no catdoc/antiword: a recorded state naming the fix
            parse(body)
        assert err.value.kind == "attachment_unsupported" and "catdoc" in err.value.reason
        return
    doc = parse(body, url=f"https://example.gov.cn/{name}")
    assert doc.kind == "attachment"
    lines = doc.text.splitlines()
    for line in NOTICE_LINES:
        assert line in lines, f"{name}: {line!r} not a line of {lines}"
    assert doc.title == NOTICE_LINES[0]  # a PDF's wrapped title line is joined back
    assert (doc.disclosure.doc_number, doc.disclosure.issuer, doc.disclosure.written_at) == (
        "厦思应急〔2024〕15号", "厦门市思明区应急管理局", "2024-05-28")
    assert [(f.indicator, f.value, f.unit) for f in doc.facts][:2] == [("检查企业", 1200, "家"), ("发现隐患", 356, "处")]
    assert [n.marker for n in doc.outline] == ["一、", "二、", "三、"]
    assert {(c.title, c.doc_number) for c in doc.citations} >= {
        ("福建省安全生产条例", None), ("国务院安委会办公室关于开展2024年全国“安全生产月”活动的通知", "安委办〔2024〕3号")}
    assert all(c.doc_number != "厦思应急〔2024〕15号" for c in doc.citations)  # its own number is no citation


@pytest.mark.parametrize("name", ["table.xlsx", "table.xls"])
def test_spreadsheets_become_tab_separated_rows(name: str) -> None:
    doc = parse((FILES / name).read_bytes())
    assert doc.kind == "attachment" and doc.title is None  # a header row is no title
    assert "嘉莲街道 215 63 12.5" in doc.text.splitlines()
    extracted = extract_attachment((FILES / name).read_bytes())
    assert extracted.paragraphs[1] == "嘉莲街道\t215\t63\t12.5"


def test_a_scanned_pdf_is_flagged_not_stored_as_text() -> None:
    with pytest.raises(ParseError) as err:
        parse((FILES / "scanned.pdf").read_bytes())
    assert err.value.kind == "needs_ocr" and "needs OCR" in err.value.reason


def test_formats_are_known_by_their_bytes_not_their_names() -> None:
    assert [attachment_format((FILES / n).read_bytes()) for n in
            ("notice.pdf", "notice.docx", "notice.doc", "table.xlsx", "table.xls")] == ["pdf", "docx", "doc", "xlsx", "xls"]
    assert attachment_format(b"<html><body>page</body></html>") is None
    assert attachment_format(b"PK\x03\x04" + b"\x00" * 100) is None  # a broken ZIP is no DOCX


def test_a_pdf_compression_bomb_is_refused_quickly() -> None:
    comp = zlib.compressobj(9)
    chunk = b"q Q " * 262144  # 1 MiB of no-op operators
    stream = b"".join(comp.compress(chunk) for _ in range(1024)) + comp.flush()  # 1 GiB inflated
    bomb = _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                 b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"])
    started = time.monotonic()
    with pytest.raises(ParseError) as err:
        parse(bomb)
    assert time.monotonic() - started < 10
    assert err.value.kind in ("needs_ocr", "attachment_corrupt")  # no text comes out of it either way


def test_a_zip_bomb_inside_a_docx_is_refused_before_it_is_inflated() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as f:  # 300 MiB of spaces, ~300 KB compressed
            for _ in range(300):
                f.write(b" " * (1 << 20))
    started = time.monotonic()
    with pytest.raises(ParseError) as err:
        parse(buf.getvalue())
    assert err.value.kind == "attachment_too_large" and "ZIP bomb" in err.value.reason
    assert time.monotonic() - started < 5


def test_a_zip_member_that_lies_about_its_size_is_cut_at_the_cap() -> None:
    body = (FILES / "notice.docx").read_bytes()
    with pytest.raises(ParseError) as err:
        extract_attachment(body, limits=Limits(max_member_bytes=2000))
    assert err.value.kind == "attachment_too_large"


def test_a_500_page_pdf_is_cut_at_the_page_limit_and_flagged_truncated() -> None:
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(FILES / "notice.pdf").pages[0]
    writer = PdfWriter()
    for _ in range(500):
        writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    started = time.monotonic()
    doc = parse_with_timeout(buf.getvalue(), seconds=30)
    assert doc.flags.truncated and doc.kind == "attachment"
    assert doc.text.count("全区检查企业1200家") == Limits().max_pages
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("damage", ["cut", "garbage", "page_loop"])
def test_corrupt_pdfs_end_as_recorded_states(damage: str) -> None:
    real = (FILES / "notice.pdf").read_bytes()
    body = {
        "cut": real[: len(real) // 3],
        "garbage": b"%PDF-1.4\n" + bytes(range(256)) * 200,
        "page_loop": _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]),
    }[damage]
    with pytest.raises(ParseError) as err:
        parse(body)
    assert err.value.kind in ("attachment_corrupt", "needs_ocr")


@pytest.mark.parametrize("name", ["notice.docx", "table.xlsx", "table.xls", "notice.doc"])
def test_cut_office_files_end_as_recorded_states(name: str) -> None:
    body = (FILES / name).read_bytes()
    with pytest.raises(ParseError) as err:
        extract_attachment(body[: len(body) // 2] if not name.endswith("x") else body[:200] + body[-400:])
    assert err.value.kind in ("attachment_corrupt", "attachment_unsupported")


def test_reflow_joins_wrapped_lines_and_keeps_headings() -> None:
    lines = ["为深入贯彻安全生产法，落实国务院安委会办公室关于开展全国安全生产月活动的",
             "通知要求，现将有关事项通知如下。", "一、活动主题", "人人讲安全、个个会应急。", "- 2 -"]
    assert reflow(lines)[:3] == [lines[0] + lines[1], "一、活动主题", "人人讲安全、个个会应急。"]


def _ofd(pages: list[list[tuple[float, str]]]) -> bytes:
    """An OFD laid out as GB/T 33190 describes: OFD.xml → Document.xml → Pages/Page_N/Content.xml."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<ofd:OFD {ns} Version="1.1"><ofd:DocBody><ofd:DocInfo><ofd:DocID>1</ofd:DocID>'
                              "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        refs = "".join(f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
        z.writestr("Doc_0/Document.xml", f"<ofd:Document {ns}><ofd:Pages>{refs}</ofd:Pages></ofd:Document>")
        for i, lines in enumerate(pages):
            objs = "".join(
                f'<ofd:TextObject ID="{i}{j}" Boundary="20 {y} 170 6" Font="3" Size="4.2">'
                f'<ofd:TextCode X="0" Y="4">{text}</ofd:TextCode></ofd:TextObject>'
                for j, (y, text) in enumerate(lines))
            z.writestr(f"Doc_0/Pages/Page_{i}/Content.xml",
                       f"<ofd:Page {ns}><ofd:Content><ofd:Layer ID=\"1\">{objs}</ofd:Layer></ofd:Content></ofd:Page>")
    return buf.getvalue()


def test_ofd_text_is_read_page_by_page_in_line_order() -> None:
    body = _ofd([[(40, "二、工作安排"), (20, "关于开展安全生产月活动的通知"), (30, "厦思应急〔2024〕15号")],
                 [(20, "（一）全区检查企业1200家。")]])
    doc = parse(body)
    assert doc.kind == "attachment"
    assert doc.text.splitlines() == ["关于开展安全生产月活动的通知", "厦思应急〔2024〕15号", "二、工作安排",
                                     "（一）全区检查企业1200家。"]
    assert doc.disclosure.doc_number == "厦思应急〔2024〕15号"
    with pytest.raises(ParseError) as err:
        parse(_ofd([[]]))
    assert err.value.kind == "needs_ocr"
