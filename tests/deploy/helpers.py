"""Helpers shared by the deploy tests: the entrypoint's role table."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from tests.conftest import ROOT

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent
ROLE_LINE = re.compile(r'^\s+([a-z][a-z-]*)\)\s+set -- (.+?) "\$@" ;;\s*$')


def role_table() -> dict[str, list[str]]:
    """ROLE -> command, parsed from the block between the role-table markers."""
    text = ENTRYPOINT.read_text(encoding="utf-8")
    block = text.split("# --- role table", 1)[1].split("# --- end role table ---", 1)[0]
    roles = {}
    for line in block.splitlines():
        m = ROLE_LINE.match(line)
        if m:
            roles[m.group(1)] = shlex.split(m.group(2))
    return roles
