"""scripted: pages whose article body is filled in by a script after load.

Some gov CMS templates ship an empty body element and a script that asks an API for
the article and writes it in (`$.ajax({url: …, success: … $("#mainContent").html(data.content)})`).
Saved or fetched without running scripts, such a page holds only its chrome: any
extractor then returns the footer (ICP备, 网站标识码, 主办单位) as the "article".
Recognising it lets the parse say so instead of storing footer text, and lets the
crawl fetch the API the script names.

Pure: reads the parsed tree, returns what it found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

# A request for data…
_FETCH = re.compile(r"\$\.(?:ajax|get|post|getJSON)\s*\(|\bfetch\s*\(|XMLHttpRequest|\baxios[.(]|\.load\s*\(")
# …whose answer is written into an element: jQuery $("#id").html(…) / document.getElementById("id").innerHTML
_INJECT = re.compile(
    r"""\$\(\s*["']#([\w\-:.]+)["']\s*\)\s*\.(?:html|append|load)\s*\("""
    r"""|getElementById\(\s*["']([\w\-:.]+)["']\s*\)\s*\.innerHTML\s*="""
)
_URL_IN_CALL = re.compile(
    r"""(?:url\s*:\s*|\$\.(?:get|post|getJSON)\s*\(\s*|\bfetch\s*\(\s*|\.open\s*\(\s*["'](?:GET|POST)["']\s*,\s*)"""
    r"""["']([^"'\s]{2,300})["']""", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Ids of elements that hold an article (mainContent, zoom, detail…), not a counter or a list.
_BODY_ID = re.compile(r"content|article|detail|zoom|text|body|main|zhengwen|zw|news|info|con$|wz", re.I)
_NOT_BODY_ID = re.compile(r"count|hit|view|click|visit|num|fujian|attach|xgwz|related|list|share|comment|nav", re.I)
# An element holding fewer CJK characters than this is empty for our purpose.
_EMPTY_CJK = 20


@dataclass(frozen=True)
class ScriptFilled:
    """The empty element a script fills and the URL its request names (None when computed)."""

    target: str
    api_url: str | None

    def reason(self) -> str:
        api = f" from {self.api_url}" if self.api_url else ""
        return (f"body filled by script: element #{self.target} is empty in the page and a script loads "
                f"its content{api}; the article is not in the HTML (fetch the API the page names)")


def detect_script_filled(tree: HtmlElement) -> ScriptFilled | None:
    """The script-filled body of a page, or None when the page carries its own text."""
    for script in tree.iter("script"):
        code = script.text or ""
        if not code or _FETCH.search(code) is None:
            continue
        for m in _INJECT.finditer(code):
            target = m.group(1) or m.group(2)
            if not _BODY_ID.search(target) or _NOT_BODY_ID.search(target):
                continue  # a view counter or a related-links list filled by script is normal
            found = tree.xpath("//*[@id=$id]", id=target)
            if not found:
                continue
            el = found[0]
            if len(_CJK.findall(el.text_content())) >= _EMPTY_CJK:
                continue  # the element already holds text: the script only refreshes it
            url = _URL_IN_CALL.search(code)
            return ScriptFilled(target=target, api_url=url.group(1) if url else None)
    return None
