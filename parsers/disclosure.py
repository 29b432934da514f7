"""disclosure: the 政府信息公开 fields of a page (索引号, 文号, 发文机关, 成文日期, 主题分类, 有效性).

Government CMSes print them above the article in every layout there is: a table with
the label in one cell and the value in the next, `<li><span>索引号：</span>…</li>`
pairs, one line "索引号：… 发布机构：…", labels padded with ideographic spaces
(`索　引　号`, `名&nbsp;&nbsp;称`), or a value written by a script literal
(`<td><script>document.write("国办发〔2024〕12号")</script></td>`). So the page is read
as one sequence of text chunks in document order (each text node, each script's
string literals), and a label chunk takes its value from the rest of its own chunk or,
when that is empty, from the next chunk that is not itself a label.

Pure: takes the parsed tree (or lines of a text file), returns a `Disclosure`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice

from lxml.html import HtmlElement

from govingest.parsers.citations import canonical_doc_number
from govingest.parsers.dates import normalize_date
from govingest.parsers.model import Disclosure

# label (with every space removed) -> field; the first label found for a field wins.
LABELS: dict[str, str] = {
    "索引号": "index_number", "信息索引号": "index_number", "信息索引": "index_number", "索取号": "index_number",
    "文号": "doc_number", "发文字号": "doc_number", "文件编号": "doc_number", "发文文号": "doc_number",
    "发文号": "doc_number", "文件字号": "doc_number",
    "发文机关": "issuer", "发布机构": "issuer", "办文部门": "issuer", "发文单位": "issuer",
    "发文机构": "issuer", "制发机关": "issuer", "发布单位": "issuer", "公开主体": "issuer",
    "成文日期": "written_at", "生成日期": "written_at", "发文日期": "written_at", "印发日期": "written_at",
    "主题分类": "subject", "信息分类": "subject", "信息类别": "subject", "分类": "subject", "主题类别": "subject",
    "有效性": "validity", "时效性": "validity", "效力状态": "validity", "时效": "validity",
    "标题": "title", "文件名称": "title", "名称": "title", "信息名称": "title",
}
# Labels of the same tables that are not ours: they end a value search (so an empty
# 主题分类 cell does not take the next cell's 发布日期 label as its value).
_OTHER_LABELS = frozenset({
    "发布日期", "发布时间", "公开日期", "公开方式", "公开范围", "公开形式", "公开时限", "公开属性", "主题词",
    "关键词", "体裁分类", "组配分类", "服务对象分类", "来源", "信息来源", "所属机构", "公文种类",
    "实施日期", "废止日期", "有效期", "统一编号", "登记号", "内容概述", "浏览次数", "字号", "报送单位",
})
_SPACE = re.compile(r"[\s\u00a0\u3000]+")
_LABEL_AT_START = re.compile(
    "^(" + "|".join(sorted((re.escape(k) for k in {*LABELS, *_OTHER_LABELS}), key=len, reverse=True)) + ")[:：]?"
)
_COLON = re.compile(r"^[:：]\s*")
_SCRIPT_LITERAL = re.compile(r"""(["'])((?:(?!\1)[^\\<>\n]){1,120})\1""")
# A value that merely says "none".
_EMPTY_VALUES = frozenset({"", "无", "/", "-", "—", "暂无", "null", "undefined"})
_DOCNO = re.compile(
    r"[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*第?\s*\d{1,6}\s*号|第?\s*\d{1,6}\s*号$|^\S{1,12}令第\S{1,6}号$")
_INDEX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-_.－—]{4,60}$")
_VALIDITY = re.compile(r"有效|失效|废止|废除|修订|修改|暂停|部分|宣布|全文|试行|已|未")
_MAX_VALUE = 120
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_TITLE_MIN_CJK = 5
_MAX_CHUNKS = 4000  # disclosure tables sit near the top: never walk a megabyte page whole


def _chunks(tree: HtmlElement) -> Iterator[tuple[str, str]]:
    """("text", s) for each text node in document order, ("script", literal) for script strings."""
    body = tree.find("body")
    root = body if body is not None else tree
    n = 0
    for el in root.iter():
        if n > _MAX_CHUNKS:
            return
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("script",):
            for m in _SCRIPT_LITERAL.finditer(el.text or ""):
                yield "script", m.group(2)
        elif tag not in ("style", "noscript", "template", "option", "select", "textarea") and el.text:
            yield "text", el.text
            n += 1
        if el is not root and el.tail:
            yield "text", el.tail
            n += 1


def _split(kind_chunks: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Text chunks with spaces folded; a chunk holding several "label：value" pairs is split."""
    out: list[tuple[str, str]] = []
    for kind, raw in kind_chunks:
        text = raw.strip()
        if not text:
            continue
        if kind == "script":
            out.append((kind, text))
            continue
        # "索引号：0001/2024 发布机构：某局" in one text node: cut before each later label
        parts = _INLINE_LABEL.split(text)
        out.extend(("text", p.strip()) for p in parts if p.strip())
    return out


_INLINE_LABEL = re.compile(
    r"\s+(?=(?:" + "|".join(sorted((re.escape(k) for k in {*LABELS, *_OTHER_LABELS} if len(k) >= 2),
                                  key=len, reverse=True)) + r")\s*[:：])"
)


def _label_of(chunk: str) -> tuple[str, str] | None:
    """(label, rest) when the chunk starts with a known label followed by a colon or nothing else."""
    squeezed = _SPACE.sub("", chunk[:40])
    m = _LABEL_AT_START.match(squeezed)
    if m is None:
        return None
    label = m.group(1)
    has_colon = m.group(0) != label
    if not has_colon and squeezed != label:
        return None  # "分类管理办法…" is text that starts with a label word, not a label
    # the rest in the original chunk: skip the label's characters (spaces between them allowed)
    i = 0
    for ch in label:
        while i < len(chunk) and chunk[i] != ch:
            i += 1
        i += 1
    rest = _COLON.sub("", chunk[i:].lstrip(" \u00a0\u3000"))
    return label, rest.strip()


# A table of these labels inside the article container (上海卫健委's 索取号/发布机构/文件编号
# header row over its value row, or label/value cell pairs) is the page's metadata, read
# from the tree by disclosure_from_tree, not body text. A data table that only has a 文号
# or 发布机构 column has more rows than a disclosure table, or few label cells among its values.
_TABLE_MAX_ROWS = 6
_TABLE_MIN_LABEL_SHARE = 0.4


def is_disclosure_table(rows: list[list[str]]) -> bool:
    """Whether a table's cells (text per row) are disclosure labels and their values."""
    cells = [cell for row in rows for cell in row if cell.strip()]
    if not cells or len(rows) > _TABLE_MAX_ROWS:
        return False
    labels = [found[0] for cell in cells if (found := _label_of(cell)) is not None]
    own = {label for label in labels if label in LABELS}
    return len(own) >= 2 and len(labels) >= _TABLE_MIN_LABEL_SHARE * len(cells)


def _value(chunks: list[tuple[str, str]], i: int, rest: str) -> str | None:
    """The value of the label at chunk i: the rest of its chunk, else the next value chunk."""
    if rest:
        return rest
    for kind, text in chunks[i + 1: i + 4]:
        if kind == "script":
            if _SPACE.sub("", text) not in _EMPTY_VALUES and not text.startswith(("http", "/", ".", "#")):
                return text
            continue
        if _label_of(text) is not None:
            return None  # the next cell is the next label: this one is empty
        return text
    return None


def _clean(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACE.sub(" ", value).strip(" ：:;；,，")
    if value in _EMPTY_VALUES or len(value) > _MAX_VALUE:
        return None
    if field == "written_at":
        date = normalize_date(value)
        return date[:10] if date else None
    if field == "doc_number":
        value = value.replace(" ", "")
        return canonical_doc_number(value) if _DOCNO.search(value) else None
    if field == "index_number":
        value = value.replace(" ", "")
        return value if _INDEX.match(value) else None
    if field == "validity":
        return value if len(value) <= 12 and _VALIDITY.search(value) else None
    if field == "subject":
        return value if len(value) <= 60 else None
    if field == "issuer":
        return value if len(value) <= 60 else None
    if field == "title":
        # a document's name, not a cell of a 名称 | 数量 | 单价 list (数量, 办公桌)
        return value if len(_CJK_CHAR.findall(value)) >= _TITLE_MIN_CJK else None
    return value


def _from_chunks(chunks: list[tuple[str, str]]) -> Disclosure:
    found: dict[str, str] = {}
    for i, (kind, text) in enumerate(chunks):
        if kind != "text":
            continue
        labelled = _label_of(text)
        if labelled is None:
            continue
        label, rest = labelled
        field = LABELS.get(label)
        if field is None or field in found:
            continue
        value = _clean(field, _value(chunks, i, rest))
        if value is not None:
            found[field] = value
    return Disclosure(**found)


_HEADER_MAX_TABLES = 20  # disclosure tables sit near the top: never scan a page of data tables
_HEADER_LABEL_SHARE = 0.6
_HEADER_MAX_ROWS = 40


def _own_rows(table: HtmlElement) -> list[HtmlElement]:
    """The table's own rows (under thead/tbody, even tbody > thead), not a nested table's."""
    return [row for row in table.xpath("./tr|./*/tr|./*/*/tr") if isinstance(row, HtmlElement)]


def _cells(row: HtmlElement) -> list[str]:
    """The cell texts (spaces folded) of a row."""
    return [_SPACE.sub(" ", cell.text_content()).strip() for cell in row
            if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th")]


def _header_tables(tree: HtmlElement) -> Iterator[tuple[list[str | None], list[list[str]]]]:
    """(field per column, rows of values) of each table headed by a row of labels (上海's
    索取号 | 发布时间 | 发布机构 | 文件编号 | 备注): a label and its value share a column."""
    for table in islice(tree.iter("table"), _HEADER_MAX_TABLES):
        own = _own_rows(table)
        if len(own) > _HEADER_MAX_ROWS:  # counted before any text is read: layout tables skip cheaply
            continue
        rows = [cells for cells in map(_cells, own) if any(cells)]
        fields = _header_fields(rows[0]) if len(rows) >= 2 else None
        if fields is not None:
            yield fields, rows[1:]


def _apply_header_tables(found: Disclosure, tree: HtmlElement) -> None:
    """Correct the chunk walk where a table states its labels in a header row.

    The walk looks for a value after its label, so under a header it takes the first cell
    of the next row for the last label. One row of values under the header is a disclosure
    table: its columns give the fields. More rows list other documents (文件名称 | 文号 |
    发布机构 …): a value the walk took from them is not this page's."""
    for fields, rows in _header_tables(tree):
        cells = {cell for row in rows for cell in row}
        for name in filter(None, fields):
            if getattr(found, name) in cells:
                setattr(found, name, None)
        if len(rows) == 1 and len(rows[0]) == len(fields):
            for column, value in zip(fields, rows[0], strict=True):
                cleaned = _clean(column, value) if column else None
                if column and cleaned is not None:
                    setattr(found, column, cleaned)


def _header_fields(row: list[str]) -> list[str | None] | None:
    """The field of each cell of a header row: bare labels, two of them ours, making most
    of the row (a 备注 column is no label of ours), else None."""
    labelled = [_label_of(cell) for cell in row]
    bare = [lab for lab in labelled if lab is not None and not lab[1]]
    if len(bare) != sum(lab is not None for lab in labelled) or len(bare) < _HEADER_LABEL_SHARE * len(row):
        return None
    fields = [LABELS.get(lab[0]) if lab else None for lab in labelled]
    return fields if sum(field is not None for field in fields) >= 2 else None


# <meta name=…> names some CMSes use for the same fields (lower-cased).
META_NAMES: dict[str, str] = {
    "indexnumber": "index_number", "index_number": "index_number", "syh": "index_number",
    "docnumber": "doc_number", "document_number": "doc_number", "fwzh": "doc_number", "wh": "doc_number",
    "publishorg": "issuer", "fwjg": "issuer",
    "cwrq": "written_at", "writtendate": "written_at",
    "ztfl": "subject",
    **{k: v for k, v in LABELS.items() if v != "title"},  # <meta name="索引号" content="…">
}


# Literal pieces of the labels every disclosure table has at least one of (索引号, 文号,
# 发文机关/发文字号, 发布机构, 成文日期, 主题分类 …), spacing variants included: a page
# without any (most news pages) skips the walk over every text node. Literals only, so
# the scan of a 400 KB page costs a fraction of a millisecond.
_ANY_LABEL = re.compile(
    "索引|索 引|索&nbsp;引|索　引|文号|文　号|文 号|文&nbsp;号|发文|发布机构|成文|主题分类|信息分类|有效性|"
    "生成日期|办文|公开主体|文件编号")


def disclosure_from_tree(tree: HtmlElement, meta_tags: dict[str, str] | None = None,
                         html_text: str | None = None) -> Disclosure:
    """The disclosure fields of an HTML page: its label/value pairs, then its meta tags.

    `html_text` (the decoded page) lets a page without any label skip the walk.
    """
    if html_text is not None and _ANY_LABEL.search(html_text) is None:
        found = Disclosure()
    else:
        found = _from_chunks(_split(_chunks(tree)))
        _apply_header_tables(found, tree)
    for name, field in META_NAMES.items():
        value = (meta_tags or {}).get(name)
        if value and getattr(found, field) is None:
            setattr(found, field, _clean(field, value))
    return found


def disclosure_from_lines(lines: list[str]) -> Disclosure:
    """The same fields from a text file or an attachment's text (label lines near the top)."""
    return _from_chunks(_split(("text", line) for line in lines[:200]))


# The 文号 line under a document's title: the whole line is one document number.
_HEAD_DOCNO = re.compile(
    r"^[（(]?([\u4e00-\u9fffA-Za-z]{1,12}\s*[〔\[［(（【﹝]\s*(?:19|20)\d{2}\s*[〕\]］)）】﹞]\s*第?\s*\d{1,5}\s*号)[）)]?$")
# The 落款 (signature block) at the end: the issuing body on one line, the date on the next.
_ISSUER_LINE = re.compile(
    r"^[\u4e00-\u9fff（）()\s]{3,40}(?:局|委员会|政府|办公室|办公厅|厅|部|院|委|中心|会|处|所|队|街道办事处|街道|镇|乡|署|司)$")
_DATE_LINE = re.compile(r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")


def complete_from_body(disclosure: Disclosure, paragraphs: list[str]) -> None:
    """Fill what the page's table did not state from the document's own text.

    A document prints its number on a line of its own under the title (国发〔2018〕43号)
    and ends with its 落款: the issuing body, then the date it was written. Attachments
    have no disclosure table, so these are all they state.
    """
    if disclosure.doc_number is None:
        for line in paragraphs[:8]:
            m = _HEAD_DOCNO.match(line.strip())
            if m:
                disclosure.doc_number = canonical_doc_number(m.group(1))
                break
    if disclosure.written_at is None or disclosure.issuer is None:
        tail = [p.strip() for p in paragraphs[-6:]]
        for i in range(len(tail) - 1, 0, -1):
            if _DATE_LINE.match(tail[i]) and _ISSUER_LINE.match(tail[i - 1]):
                if disclosure.written_at is None:
                    disclosure.written_at = (normalize_date(tail[i]) or "")[:10] or None
                if disclosure.issuer is None:
                    disclosure.issuer = _SPACE.sub("", tail[i - 1])
                break
