"""Pages whose article body is not in the HTML: it is filled in by script or an API call.

Why a detector of its own: such a page still has a title, a navigation bar and a footer
(主办单位, ICP备, 网站标识码), so extraction finds *something* and, without this check,
the footer would be stored as the document. The tell is structural: the element that
should hold the body (a known CMS container, or one a script writes into) is empty or
holds an unrendered template (`{{ content }}`), and a script fills it — by `.html(…)`,
`innerHTML`, or an Ajax/fetch call. When the script names the URL that returns the body
(`$.get("/api/article?id=123")`, `fetch('/detail/123.json')`), that URL is returned so
the crawler can fetch it instead.

Pure: a decoded page and its lxml tree in, a verdict out. `govingest parse` and the crawl
both call `detect_script_filled`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml.html import HtmlElement

# Containers that hold an article body on gov CMS templates (ids and class tokens).
_BODY_IDS = frozenset({"zoom", "Zoom", "zoomcon", "UCAP-CONTENT", "content", "Content", "js_content",
                       "info_content", "printContent", "articleContent", "ArticleContent", "detail-editor",
                       "fontzoom", "BodyLabel", "news_content", "newsContent", "article", "detail",
                       "details", "artibody", "mainText", "zwnr", "zw"})
_BODY_CLASS_PARTS = ("TRS_Editor", "TRS_UEDITOR", "article-content", "article_content", "pages_content",
                     "xl_content", "ccontent", "j-fontContent", "content-container-text", "zwnr", "news_content",
                     "detail-content", "detail_content", "article-body", "view TRS")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TEMPLATE = re.compile(r"\{\{[^{}]{1,80}\}\}|\$\{[^{}]{1,80}\}")
_FILLS = re.compile(r"\.html\s*\(|innerHTML\s*=|\.append\s*\(|v-html\s*=|dangerouslySetInnerHTML")
_AJAX = re.compile(r"\$\.(?:ajax|get|getJSON|post)\s*\(|\bfetch\s*\(|\baxios(?:\.get|\.post)?\s*\(|XMLHttpRequest")
# A URL an Ajax call asks for: the first string argument, or a `url:` option; an optional
# `+ name` suffix whose value a `var name = "…"` in the page gives.
_CALL_URL = re.compile(
    r"""(?:\$\.(?:get|getJSON|post)\s*\(|\bfetch\s*\(|\baxios(?:\.get|\.post)?\s*\(|\burl\s*:|\.open\s*\(\s*['"](?:GET|POST)['"]\s*,)"""
    r"""\s*(['"])([^'"\s]{2,300})\1(?:\s*\+\s*([A-Za-z_$][\w$]*))?""")
_VAR = r"""(?:var|let|const)\s+{name}\s*=\s*(['"]?)([\w\-.]{{1,80}})\1"""
# An element a fetching script writes into by id: `$("#mainContent").html(…)`,
# `document.getElementById("mainContent").innerHTML = …`. Such an element holds the body
# when its id says so (mainContent, zoom, detail …), not when it is a counter or a list.
_INJECT = re.compile(
    r"""\$\(\s*["']#([\w\-:.]+)["']\s*\)\s*\.(?:html|append|load)\s*\("""
    r"""|getElementById\(\s*["']([\w\-:.]+)["']\s*\)\s*\.innerHTML\s*=""")
_BODY_ID = re.compile(r"content|article|detail|zoom|text|body|main|zhengwen|zw|news|info|con$|wz", re.I)
_NOT_BODY_ID = re.compile(r"count|hit|view|click|visit|num|fujian|attach|xgwz|related|list|share|comment|nav", re.I)
# An empty body container is one with fewer CJK characters than this.
EMPTY_CJK = 20


@dataclass(frozen=True)
class ScriptFilled:
    """Verdict: the body is filled in by script; `reason` is the sentence recorded on the URL."""

    reason: str
    api_url: str | None  # absolute URL the page's script fetches the body from, if named
    container: str  # which element was empty, e.g. "div#zoom"


def _describe(el: HtmlElement) -> str:
    ident = el.get("id")
    if ident:
        return f"{el.tag}#{ident}"
    classes = (el.get("class") or "").split()
    return f"{el.tag}.{classes[0]}" if classes else el.tag


def _is_body_container(el: HtmlElement) -> bool:
    ident = el.get("id") or ""
    if ident in _BODY_IDS:
        return True
    classes = el.get("class") or ""
    return any(part in classes for part in _BODY_CLASS_PARTS)


def _empty(el: HtmlElement) -> bool:
    text = "".join(t for t in el.itertext() if not isinstance(t, bytes))
    return len(_CJK.findall(_TEMPLATE.sub("", text))) < EMPTY_CJK


def _scripts(tree: HtmlElement) -> list[str]:
    return [s.text or "" for s in tree.iter("script") if (s.text or "").strip()]


def _named_in(el: HtmlElement, script: str) -> bool:
    ident = el.get("id")
    if ident and re.search(rf"""['"#]{re.escape(ident)}['"\s.\[]""", script):
        return True
    return any(f".{c}" in script or f"'{c}'" in script or f'"{c}"' in script
               for c in (el.get("class") or "").split())


def api_url(scripts: list[str], base_url: str | None) -> str | None:
    """The URL a page's script fetches its body from, when written in the page."""
    text = "\n".join(scripts)
    for m in _CALL_URL.finditer(text):
        url, var = m.group(2), m.group(3)
        if url.startswith(("javascript:", "#", "data:")) or url.endswith((".js", ".css")):
            continue
        if var:
            value = re.search(_VAR.format(name=re.escape(var)), text)
            if value is None:
                continue  # built from something we cannot read statically
            url += value.group(2)
        return urljoin(base_url, url) if base_url else url
    return None


def _injected_targets(tree: HtmlElement, scripts: list[str]) -> list[HtmlElement]:
    """Body-like elements that a data-fetching script writes into by id."""
    found: list[HtmlElement] = []
    for code in scripts:
        if not _AJAX.search(code):
            continue
        for m in _INJECT.finditer(code):
            ident = m.group(1) or m.group(2)
            if not _BODY_ID.search(ident) or _NOT_BODY_ID.search(ident):
                continue  # a view counter or a related-links list filled by script is normal
            found += [el for el in tree.xpath("//*[@id=$id]", id=ident) if el not in found]
    return found


def detect_script_filled(tree: HtmlElement, base_url: str | None = None) -> ScriptFilled | None:
    """A verdict when the page's body container is empty and a script fills it, else None.

    Conservative on purpose: an empty container alone is common (a second, unused
    template slot), so a script must also fill something — write into that container, or
    fetch data — and no body container on the page may hold real text.
    """
    scripts = _scripts(tree)
    containers = [el for el in tree.iter() if isinstance(el.tag, str) and _is_body_container(el)]
    containers += [el for el in _injected_targets(tree, scripts) if el not in containers]
    if not containers or any(not _empty(el) for el in containers):
        return None
    joined = "\n".join(scripts)
    templated = [el for el in containers if _TEMPLATE.search(el.text_content() or "")]
    filled = [el for el in containers if any(_named_in(el, s) for s in scripts if _FILLS.search(s))]
    ajax = bool(_AJAX.search(joined))
    if not (filled or templated or (ajax and _FILLS.search(joined))):
        return None
    target = (filled or templated or containers)[0]
    url = api_url(scripts, base_url) if ajax else None
    where = _describe(target)
    if url:
        reason = (f"the article body is not in the HTML: {where} is empty and the page's script fills it "
                  f"from {url}; that URL is fetched instead")
    else:
        reason = (f"the article body is not in the HTML: {where} is empty and filled in by script, and the "
                  "page does not name the URL the script reads; not stored (its text would be the footer)")
    return ScriptFilled(reason=reason, api_url=url, container=where)
