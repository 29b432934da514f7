"""DOC (Word 97–2003, WPS) text with Debian's catdoc, or antiword when only it is installed.

No maintained Python library reads DOC; catdoc reads Chinese DOCs correctly and
`-w` keeps each paragraph on one line. The converter is a local program run on the
bytes (stdin to stdout, no files, no network) under its own time limit.
"""
from __future__ import annotations

import shutil
import subprocess

from govingest.parsers.attachments.limits import Limits
from govingest.parsers.model import ParseError
from govingest.states import ErrorKind

_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("catdoc", "-w", "-d", "utf-8", "-"),
    ("antiword", "-w", "0", "-m", "UTF-8.txt", "-"),
)


def converter() -> tuple[str, ...] | None:
    """The first DOC converter on PATH, or None."""
    for cmd in _COMMANDS:
        if shutil.which(cmd[0]):
            return cmd
    return None


def doc_paragraphs(body: bytes, limits: Limits) -> tuple[list[str], bool]:
    cmd = converter()
    if cmd is None:
        raise ParseError("DOC attachment: no converter installed (install the Debian package catdoc)",
                         kind=ErrorKind.ATTACHMENT_UNSUPPORTED)
    try:
        done = subprocess.run(cmd, input=body, capture_output=True, timeout=limits.doc_seconds, check=False)
    except subprocess.TimeoutExpired:
        raise ParseError(f"DOC attachment: {cmd[0]} took longer than {limits.doc_seconds:g}s",
                         kind=ErrorKind.ATTACHMENT_CORRUPT) from None
    text = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or not text.strip():
        err = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ParseError(f"corrupt DOC: {cmd[0]} exit {done.returncode}: {err[-1][:200] if err else 'no text'}",
                         kind=ErrorKind.ATTACHMENT_CORRUPT)
    truncated = len(text) > limits.max_chars
    return [line for line in text[: limits.max_chars].splitlines() if line.strip()], truncated
