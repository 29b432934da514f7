"""Write a sites file (crawler/config.py's TOML format) for running fixture sites.

Why generated, not checked in: fixture sites listen on free ports chosen at start, so
the start URLs and allowed hosts are only known then. Every fixture site is marked
`local = true` — the one thing that lets the crawler's SSRF guard allow 127.0.0.1.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from govingest.workers.fixture_site.server import FixtureSite


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table: headers = { Referer = "…" }
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} to TOML")


def site_tables(fixture: FixtureSite, *, sites: Iterable[str] | None = None, rate: float = 5.0,
                concurrency: int = 2, max_pages: int = 2000, recrawl_list_seconds: int = 3600,
                recrawl_article_seconds: int = 30 * 86400, user_agent: str | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One `[[site]]` table per running fixture site (or the ones named in `sites`)."""
    if not fixture.sites:
        raise ValueError("the fixture site is not running: call FixtureSite.start() before writing its sites file")
    wanted = None if sites is None else set(sites)
    tables = []
    for info in fixture.sites:
        if wanted is not None and info.name not in wanted:
            continue
        table: dict[str, Any] = {
            "name": info.name,
            "start_urls": list(info.start_urls),
            "allowed_hosts": [info.host],
            "article_patterns": list(info.article_patterns),
            "list_patterns": list(info.list_patterns),
            "max_pages": max_pages,
            "recrawl_list_seconds": recrawl_list_seconds,
            "recrawl_article_seconds": recrawl_article_seconds,
            "rate": float(rate),
            "concurrency": concurrency,
            "local": True,
        }
        if user_agent:
            table["user_agent"] = user_agent
        if info.body_selector:
            table["body_selector"] = info.body_selector
        table.update((overrides or {}).get(info.name, {}))
        tables.append(table)
    if wanted is not None and len(tables) != len(wanted):
        missing = wanted - {t["name"] for t in tables}
        raise ValueError(f"fixture site(s) {sorted(missing)} are not running; running: "
                         f"{', '.join(i.name for i in fixture.sites)}")
    return tables


def write_sites_toml(path: str | Path, fixture: FixtureSite, **options: Any) -> Path:
    """Write the sites file for `fixture`'s running sites; options as in `site_tables`."""
    out = Path(path)
    lines = [f"# fixture sites served on 127.0.0.1 (access log: {fixture.access_log})"]
    for table in site_tables(fixture, **options):
        lines.append("")
        lines.append("[[site]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
    out.parent.mkdir(parents=True, exist_ok=True)
    # write then rename: a process polling for the file (bench/crawl.py) never reads half of it
    partial = out.with_name(out.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(out)
    return out
