#!/usr/bin/env bash
# Runs the normalization tests with opencc-python-reimplemented instead of the official
# `opencc` binding, in a venv of its own (the two packages install the same module
# `opencc` and must never share an environment). `make test` runs this after pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-opencc-reimpl
PY=${PY:-python3}
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  # only what parsers/normalize.py and its tests import; never the official `opencc`
  "$VENV/bin/pip" install -q opencc-python-reimplemented "pytest>=8" pytest-timeout "hypothesis>=6.100"
  touch "$VENV/.installed"
fi
PYTHONPATH=. "$VENV/bin/python" -c "
from govingest.parsers.normalize import opencc_binding
assert opencc_binding() == 'reimplementation', 'expected opencc-python-reimplemented in $VENV, found ' + opencc_binding()
"
PYTHONPATH=. "$VENV/bin/python" -m pytest -q -p no:cacheprovider -o addopts= tests/parsers/test_normalize.py
