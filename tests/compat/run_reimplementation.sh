#!/usr/bin/env bash
# Runs the normalization tests with opencc-python-reimplemented instead of the official
# `opencc` binding, in a venv of its own (the two packages install the same module
# `opencc` and must never share an environment). `make test` runs this after pytest.
# The venv installs from uv.lock (the `compat-opencc-reimpl` dependency group, hashed),
# never from whatever the index serves today.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-opencc-reimpl
PY=${PY:-python3}
UV=${UV:-.venv-tools/bin/uv}
if [ ! -x "$UV" ]; then
  echo "run_reimplementation.sh: $UV not found; run \`make install\` first (it bootstraps uv)" >&2
  exit 1
fi
if [ ! -f "$VENV/.installed" ] || [ uv.lock -nt "$VENV/.installed" ]; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  reqs=$(mktemp)
  trap 'rm -f "$reqs"' EXIT
  "$UV" export --frozen --quiet --format requirements-txt --only-group compat-opencc-reimpl \
      --no-emit-project --output-file "$reqs"
  "$UV" pip install --quiet --python "$VENV/bin/python" --require-hashes -r "$reqs"
  touch "$VENV/.installed"
fi
PYTHONPATH=. "$VENV/bin/python" -c "
from govingest.parsers.normalize import opencc_binding
assert opencc_binding() == 'reimplementation', 'expected opencc-python-reimplemented in $VENV, found ' + opencc_binding()
"
PYTHONPATH=. "$VENV/bin/python" -m pytest -q -p no:cacheprovider -o addopts= tests/parsers/test_normalize.py
