"""`govingest parse`: the DESIGN.md contract, run as a user runs it (a real subprocess)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL

PAGE = REAL / "html" / "gne-shanxi__1.html"
GBK_PAGE = REAL / "html" / "ia__a0cb0242-d33a-4a90-b0c4-f27d791e0a9e.html"
KEYS = {"url", "kind", "title", "published_at", "source", "site_name", "index_number", "doc_number", "issuer",
        "written_at", "subject", "validity", "script", "text", "outline", "facts", "citations", "flags", "removed"}


def _govingest(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "govingest", "parse", *args], input=stdin,
                          capture_output=True, timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_json_is_the_design_object() -> None:
    p = _govingest("--url", "https://www.shanxi.gov.cn/a.html", str(PAGE))
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc) == KEYS
    assert doc["url"] == "https://www.shanxi.gov.cn/a.html"
    assert doc["title"] == "山西品牌丝路行（南美站）正式启动"
    assert doc["published_at"] == "2019-09-18T06:23"
    assert "山西品牌丝路行" in doc["text"]
    assert "网站标识码" not in doc["text"]


def test_stdin_and_text_format() -> None:
    p = _govingest("--format", "text", "-", stdin=GBK_PAGE.read_bytes())
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode("utf-8")
    assert "李金泽同志现任黑龙江省勃农机械有限责任公司" in out  # GBK decoded, printed as UTF-8
    assert not out.lstrip().startswith("{")


def test_jsonl_goes_on_after_a_failing_file(tmp_path: Path) -> None:
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"   \n")
    p = _govingest("--format", "jsonl", str(PAGE), str(binary), str(empty), str(tmp_path / "missing.html"), str(GBK_PAGE))
    assert p.returncode == 1
    lines = [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]
    assert [line["file"] for line in lines] == [str(PAGE), str(binary), str(empty), str(tmp_path / "missing.html"),
                                                str(GBK_PAGE)]
    assert "text" in lines[0] and "text" in lines[4]
    assert lines[1]["error"].startswith("corrupt PDF")  # read as an attachment, and found broken
    assert lines[2]["error"].startswith("empty input")
    assert lines[3]["error"].startswith("cannot read")
    assert b"Traceback" not in p.stderr


def test_a_failing_file_exits_non_zero_with_one_line() -> None:
    p = _govingest("-", stdin=b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert p.returncode == 1
    assert p.stdout == b""
    err = p.stderr.decode("utf-8").strip()
    assert len(err.splitlines()) == 1
    assert "binary input" in err and "PNG" in err


def test_json_refuses_many_files() -> None:
    p = _govingest(str(PAGE), str(GBK_PAGE))
    assert p.returncode == 2
    assert "jsonl" in p.stderr.decode("utf-8")


def test_jsonl_goes_on_after_a_parser_crash(tmp_path: Path, monkeypatch, capsys) -> None:
    """A parser bug on one file becomes that file's error line; the next file still parses."""
    import govingest.workers.cli.commands.parse as cmd
    from govingest.workers.cli import main

    real = cmd.parse_with_timeout
    bad, good = tmp_path / "bad.txt", tmp_path / "good.txt"
    bad.write_text("一、总体情况\n坏", encoding="utf-8")
    good.write_text("一、总体情况\n全市检查企业29136家。", encoding="utf-8")

    def crashing(body: bytes, **kw):
        if "坏".encode() in body:
            raise KeyError("boom")
        return real(body, **kw)

    monkeypatch.setattr(cmd, "parse_with_timeout", crashing)
    assert main(["parse", "--format", "jsonl", str(bad), str(good)]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["file"] == str(bad) and "parser error KeyError" in lines[0]["error"]
    assert lines[1]["file"] == str(good) and "检查企业29136家" in lines[1]["text"]
