# One command sets up, one serves, one tests. The venv uses Debian's /usr/bin/python3 when
# there is one: sandboxed children run as other uids and must be able to read the stdlib.
VENV ?= .venv
PY := $(VENV)/bin/python
SYSTEM_PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
# Where `make serve` listens: `make serve PORT=8100`, `make serve HOST=0.0.0.0`.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install test check serve bench docker-smoke clean

$(VENV)/.installed: pyproject.toml
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	chmod -R a+rX $(VENV)
	touch $@

install: $(VENV)/.installed

check: install
	$(PY) -m ruff check grader tests exercises reference
	$(PY) -m mypy

test: check
	$(PY) -m pytest
	VENV=$(VENV) bash scripts/test-unprivileged

serve: install
	$(VENV)/bin/grader serve --host $(HOST) --port $(PORT)

bench: install
	$(VENV)/bin/grader bench --http

docker-smoke:
	bash scripts/docker-smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
