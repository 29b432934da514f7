# The two quick-start commands: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,flower]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/govingest demo

test: $(STAMP)
	$(BIN)/python -m pytest -q
	tests/compat/run_reimplementation.sh

clean:
	rm -rf $(VENV)
