"""The URL lifecycle's vocabulary is complete and documented for v_urls readers."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import psycopg

from govingest.states import CLAIMABLE, ErrorKind, UrlState

ROOT = Path(__file__).resolve().parents[2]


def _documented(kind: str) -> set[str]:
    """Backquoted names in the docs/consumers.md table of `v_urls.<kind>` values."""
    text = (ROOT / "docs" / "consumers.md").read_text(encoding="utf-8")
    section = text.split(f"<!-- {kind} -->", 2)[1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def test_docs_list_every_state_and_error_kind_and_no_other() -> None:
    assert _documented("states") == {s.value for s in UrlState}
    internal = {ErrorKind.REDIRECT, ErrorKind.LEASE_LOST, ErrorKind.DEFERRED}  # never stored
    assert _documented("error kinds") == {k.value for k in ErrorKind} - internal


def test_every_error_kind_the_crawler_returns_is_an_error_kind() -> None:
    """`crawler/fetch.py` names its failures as strings; the fetch stage turns them into
    `ErrorKind`, so each one must exist there (found by reading the source)."""
    tree = ast.parse((ROOT / "crawler" / "fetch.py").read_text(encoding="utf-8"))
    returned: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("end", "_Stop") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                returned.add(first.value)
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
            first = node.value.elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and re.fullmatch(r"[a-z_]+", first.value):
                returned.add(first.value)
    assert returned, "no error kinds found: has crawler/fetch.py changed shape? update this test"
    assert returned <= {k.value for k in ErrorKind}, returned - {k.value for k in ErrorKind}


def test_the_schema_allows_exactly_the_states(migrated_database_url: str) -> None:
    with psycopg.connect(migrated_database_url) as conn:
        check = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conname = 'urls_state_check'").fetchone()
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'urls_due_by_host_idx'").fetchone()
    assert check is not None and index is not None
    assert set(re.findall(r"'([a-z_]+)'", check[0])) == {s.value for s in UrlState}
    assert set(re.findall(r"'([a-z_]+)'", index[0])) == {s.value for s in CLAIMABLE}
