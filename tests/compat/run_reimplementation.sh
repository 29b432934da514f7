#!/usr/bin/env bash
# Runs the normalization tests with opencc-python-reimplemented instead of the official
# `opencc` binding, in a venv of its own (the two packages install the same module
# `opencc` and must never share an environment).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-opencc-reimpl
if [ ! -f "$VENV/.installed" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q opencc-python-reimplemented pytest hypothesis trafilatura lxml_html_clean charset-normalizer datasketch beautifulsoup4
  touch "$VENV/.installed"
fi
"$VENV/bin/python" -c "import opencc, sys; assert 'reimplement' in (opencc.__file__ + str(getattr(opencc,'__version__',''))).lower() or not hasattr(opencc, '_opencc') , opencc.__file__"
PYTHONPATH=. "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/parsers/test_normalize.py
