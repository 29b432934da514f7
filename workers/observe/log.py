"""Structured logging: one JSON object per line on stderr.

Why JSON lines: the fleet's logs are read by machines (Loki, CloudWatch), and a
`task_id`/`url_id` field is worth more than a formatted sentence. Pass context with
`log.info("fetched", extra={"url_id": 7, "status": 200})`. Secrets never reach a log
line: every string of a record (message, extra fields at any depth, traceback) goes
through `govingest.redact.redact`, which masks the passwords of URLs and DSNs in every
form and the values of secret settings wherever they appear.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from govingest.redact import redact

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _redacted(value: Any) -> Any:
    """`value` with `redact` applied to every string inside it (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redacted(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                out[k] = _redacted(v)
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in record.__dict__.items() if k not in _STD and not k.startswith("_")}
        tail = " ".join(f"{k}={v}" for k, v in extra.items())
        return redact(f"{record.levelname.lower():7} {record.name}: {record.getMessage()} {tail}".rstrip())


def setup_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Configure the root logger once per process (CLI start, worker start)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "trafilatura", "htmldate", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
