# The two quick-start commands: `make demo` and `make test`. Both need only Python >= 3.11:
# they bootstrap uv (pinned by hash in tools/uv-requirements.txt) and install every
# environment from the committed uv.lock, so a new release on the index changes nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test check install lock serve clean

$(UV): tools/uv-requirements.txt
	rm -rf $(TOOLS)
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --require-hashes -r tools/uv-requirements.txt

$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --python $(PY) --all-extras
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/govingest demo
	@echo "browse the demo's documents: make serve   (then open http://$(HOST):$(PORT)/)"

# The web app and JSON API over the same database as `make demo` (read-only role)
HOST ?= 127.0.0.1
PORT ?= 8080
serve: $(STAMP)
	$(BIN)/govingest serve --host $(HOST) --port $(PORT)

# ruff, mypy and import-linter (the layer contracts of the README), then the whole suite
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: check
	$(BIN)/python -m pytest -q
	tests/compat/run_reimplementation.sh

# After editing dependencies in pyproject.toml: re-resolve, then derive the image's lock.
lock: $(UV)
	$(UV) lock
	$(UV) export --frozen --format requirements-txt --no-dev --extra flower --no-emit-project \
	    --output-file deploy/requirements.lock --quiet
	$(UV) pip compile --generate-hashes --python-version 3.11 --quiet deploy/build-requirements.in \
	    --output-file deploy/build-requirements.lock

clean:
	rm -rf $(VENV) $(TOOLS) .venv-opencc-reimpl
