# spicefet: `make reproduce` (paper reproduction report) and `make test` install what is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: reproduce test test-slow bench netlists deps system-deps clean

# Debian packages: the ngspice CLI and libngspice (loaded by PySpice). Needs root or sudo.
system-deps:
	@scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

deps: $(STAMP)

reproduce: $(STAMP)
	$(PY) -m spicefet reproduce --out report

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) -m benchmarks

netlists: $(STAMP)
	$(PY) -m spicefet netlists --out netlists

clean:
	rm -rf $(VENV) report .pytest_cache
