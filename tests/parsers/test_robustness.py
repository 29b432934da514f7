"""Bad input never crashes a worker: random bytes, truncated or mangled HTML, slow pages.

The only exception `parse` may raise is ParseError, with a one-line reason.
"""
from __future__ import annotations

import signal
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govingest.parsers.model import ParsedDocument, ParseError
from govingest.parsers.pipeline import parse
from govingest.parsers.timeout import parse_with_timeout, run_with_timeout
from tests.conftest import REAL

PAGES = sorted((REAL / "html").glob("*.html"))
BODIES = [p.read_bytes() for p in PAGES]
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parses_or_says_why(body: bytes) -> ParsedDocument | None:
    try:
        doc = parse(body)
    except ParseError as exc:
        assert exc.reason and "\n" not in exc.reason
        return None
    assert isinstance(doc.text, str) and doc.text.strip()
    doc.to_json()  # the JSON contract holds for whatever came out
    return doc


@FAST
@given(st.binary(max_size=4000))
def test_random_bytes(body: bytes) -> None:
    _parses_or_says_why(body)


@FAST
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abdiplhtmyr&#;\n中文正政府通知")), max_size=600))
def test_tag_soup(text: str) -> None:
    for encoding in ("utf-8", "gb18030", "utf-16"):
        _parses_or_says_why(text.encode(encoding))


@FAST
@given(st.sampled_from(range(len(BODIES))), st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_and_sliced_real_pages(index: int, a: float, b: float) -> None:
    body = BODIES[index]
    start, end = sorted((int(a * len(body)), int(b * len(body))))
    _parses_or_says_why(body[:end])  # truncated download
    _parses_or_says_why(body[start:end])  # a slice: cut multibyte characters, unclosed tags


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"<html></html>", b"<html><body><script>x()</script></body></html>",
                                  b"\xef\xbb\xbf", b"\xff\xfe", b"<", b"<!--", b"<?xml version='1.0' encoding='gbk'?>"])
def test_empty_and_bodiless_pages_are_parse_errors(body: bytes) -> None:
    with pytest.raises(ParseError) as err:
        parse(body)
    assert err.value.reason.split(":")[0] in ("empty input", "no body")


def test_an_xml_prolog_with_an_encoding_does_not_break_the_tree() -> None:
    body = ("<?xml version='1.0' encoding='gb2312'?><html><body><div id='zoom'><p>"
            "各区、市人民政府，市政府各部门，市直各单位：现将实施方案印发给你们，请认真贯彻执行。</p></div></body></html>")
    doc = parse(body.encode("gb18030"))
    assert "请认真贯彻执行" in doc.text


def test_timeout_ends_a_slow_parse_with_a_parse_error() -> None:
    started = time.perf_counter()
    with pytest.raises(ParseError) as err:
        run_with_timeout(lambda: time.sleep(5), 0.2)
    assert err.value.reason.startswith("timeout:")
    assert time.perf_counter() - started < 2


def test_timeout_is_not_swallowed_by_tolerant_stage_code() -> None:
    def tolerant() -> str:
        while True:
            try:
                time.sleep(0.05)
            except Exception:  # what stage code does around third-party heuristics
                pass

    with pytest.raises(ParseError):
        run_with_timeout(tolerant, 0.2)


def test_parse_with_timeout_parses_normally_and_leaves_no_timer_behind() -> None:
    doc = parse_with_timeout(BODIES[0], url="https://example.gov.cn/a.html", seconds=30)
    assert doc.url == "https://example.gov.cn/a.html" and doc.text
    time.sleep(0.05)  # a leftover timer would fire SIGALRM here


def test_outside_the_main_thread_the_parse_still_runs() -> None:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(parse_with_timeout(BODIES[0], seconds=0.001)))
    thread.start()
    thread.join(60)
    assert results and isinstance(results[0], ParsedDocument)


def test_an_outer_timer_survives_a_parse() -> None:
    fired: list[bool] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        parse_with_timeout(BODIES[0], seconds=30)
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.5  # re-armed with what was left
        deadline = time.monotonic() + 5
        while not fired and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
