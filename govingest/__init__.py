"""govingest: streaming ingestion of Chinese government documents into PostgreSQL.

One namespace over the repository's top-level folders: `govingest.parsers` is
`parsers/`, `govingest.crawler` is `crawler/`, `govingest.db` is `db/` and
`govingest.workers` is `workers/` (symbolic links in this folder, followed when the
wheel is built). Why not four top-level packages: `import db` or `import workers`
would collide with any other software that picked the same generic name.
"""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("govingest")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
