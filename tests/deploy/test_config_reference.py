"""The configuration reference cannot drift from `workers/settings.py`.

docs/operations.md embeds the output of `govingest config --markdown` and
deploy/settings.env is `govingest config --env-example`; both are compared with what the
code generates now, and every setting must be documented well enough to operate.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from govingest.workers.cli.commands.config import (
    BEGIN_MARKER,
    END_MARKER,
    problems,
    render_env_example,
    render_markdown,
    replace_section,
)
from govingest.workers.settings import SETTINGS, Setting
from tests.conftest import ROOT

OPERATIONS = ROOT / "docs" / "operations.md"
ENV_EXAMPLE = ROOT / "deploy" / "settings.env"
REGENERATE = ".venv/bin/govingest config --update docs/operations.md"


def _section(text: str) -> str:
    start, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
    assert start >= 0 and end > start, f"docs/operations.md lost its settings markers; run {REGENERATE}"
    return text[start:end + len(END_MARKER)] + "\n"


def test_every_setting_is_documented() -> None:
    assert problems(SETTINGS) == []


def test_operations_md_section_equals_generated_reference() -> None:
    in_docs = _section(OPERATIONS.read_text(encoding="utf-8"))
    assert in_docs == render_markdown(), f"docs/operations.md settings section is stale: run {REGENERATE}"


def test_reference_lists_every_env_variable_with_default() -> None:
    table = render_markdown()
    for s in SETTINGS:
        row = next((line for line in table.splitlines() if line.startswith(f"| `{s.env}` |")), None)
        assert row is not None, s.env
        assert (f"`{s.default}`" if s.default is not None else "*(unset)*") in row


def test_env_example_is_generated_and_names_only_real_settings() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert text == render_env_example(), "deploy/settings.env is stale: run .venv/bin/govingest config --env-example > deploy/settings.env"
    known = {s.env for s in SETTINGS if not s.secret}
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    assert named == known, f"unknown: {named - known}, missing: {known - named}"


@pytest.mark.parametrize("bad, complaint", [
    (Setting("x", "GOVINGEST_X", "1", ""), "missing or too short"),
    (Setting("x", "GOVINGEST_X", None, "Number of widgets per gadget, as an integer."), "unset"),
    (Setting("x", "govingest_x", "1", "Number of widgets per gadget, as an integer."), "UPPER_CASE"),
    (Setting("x", "GOVINGEST_X", "1", "Number of widgets per gadget as an integer"), "period"),
])
def test_check_fails_for_an_undocumented_setting(bad: Setting, complaint: str) -> None:
    found = problems([*SETTINGS, bad])
    assert len(found) == 1 and complaint in found[0] and bad.env in found[0]


def test_duplicate_env_is_reported() -> None:
    assert any("declared twice" in p for p in problems([*SETTINGS, SETTINGS[0]]))


def test_cli_check_exit_code_and_update_rewrites_only_the_section(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "govingest", "config"]
    assert subprocess.run([*cli, "--check"], cwd=ROOT, capture_output=True).returncode == 0
    doc = tmp_path / "ops.md"
    doc.write_text(f"# Ops\n\nintro\n\n{BEGIN_MARKER}\nold table\n{END_MARKER}\n\n## After\n", encoding="utf-8")
    done = subprocess.run([*cli, "--update", str(doc)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    new = doc.read_text(encoding="utf-8")
    assert new.startswith("# Ops\n\nintro\n\n") and new.endswith("\n\n## After\n")
    assert "old table" not in new and _section(new) == render_markdown()
    doc.write_text("no markers here\n", encoding="utf-8")
    failed = subprocess.run([*cli, "--update", str(doc)], cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode == 1 and "markers" in failed.stderr and "Traceback" not in failed.stderr


def test_markdown_cells_escape_pipes() -> None:
    table = render_markdown([Setting("x", "GOVINGEST_X", "a|b", "Either a | b, nothing else.")])
    row = next(line for line in table.splitlines() if "GOVINGEST_X" in line)
    assert row.count(" | ") == 3 and "a \\| b" in row  # variable | default | accepted | meaning
    with pytest.raises(ValueError):
        replace_section("no markers", table)
