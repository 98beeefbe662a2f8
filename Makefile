# Two commands matter (see README.md): `make demo` and `make test`.
# Everything else is a step they use, or a tool for developers.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup test unit demo conformance lint typecheck bench deb cassandra-start cassandra-stop clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

# Every test, Cassandra included: the launcher is idempotent, so a running
# node is reused and a fresh machine gets one.
test: setup cassandra-start lint
	CLIO_TEST_CASSANDRA=127.0.0.1:9042 scripts/run-tests tests

# The fast subset: no Cassandra.
unit: setup
	scripts/run-tests tests

lint: setup
	$(VENV)/bin/ruff check clio_twisted tests bench twisted
	$(VENV)/bin/mypy

cassandra-start:
	scripts/cassandra start

cassandra-stop:
	scripts/cassandra stop

demo: setup
	scripts/demo

# Replays every recorded rippled 3.1.1 request through the real ETL and port and
# prints a table per method; CASSANDRA=127.0.0.1:9042 runs it on Cassandra too.
conformance: setup
	$(PY) -m clio_twisted.testing.conformance
	$(if $(CASSANDRA),$(PY) -m clio_twisted.testing.conformance --cassandra $(CASSANDRA))

# The benchmarks print ratios measured side by side in one run (docs/benchmarks.md).
# -P: bench/http.py must not shadow the standard library's http package.
bench: setup
	$(PY) -P bench/codec.py
	$(PY) -P bench/forge.py --ledgers 50
	$(PY) -P bench/backend.py
	$(PY) -P bench/etl.py
	$(PY) -P bench/feeds.py
	$(PY) -P bench/api.py --quick
	$(PY) -P bench/http.py

deb:
	scripts/build-deb

clean:
	rm -rf $(VENV) build dist *.egg-info _trial_temp*
