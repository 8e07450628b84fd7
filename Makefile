# The two commands: `make run` and `make test`. Both set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint compose browser install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Lint, format and types first: a lint or type error fails `make test` (and so CI) before any test runs.
test: $(STAMP) lint compose browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# tests/test_deployment_files.py checks docker-compose.yml with Compose itself: the `docker compose`
# plugin or the standalone `docker-compose`. Where neither works (a `docker` binary without the plugin
# is common), Debian's docker-compose is installed once (root here and in CI).
compose:
	@docker compose version >/dev/null 2>&1 || docker-compose version >/dev/null 2>&1 || { \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends docker-compose; } >/dev/null 2>&1 \
		|| { echo "make: neither docker compose nor docker-compose works, and apt-get could not install docker-compose" >&2; exit 1; }; }

# The browser tests drive Debian's Chromium; installed once when missing (root here and in CI).
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }

run: $(STAMP)
	$(BIN)/baton run

# The pure rules alone: no Temporal server, no database, no network (tests marked `unit`).
.PHONY: unit coverage
unit: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

# Branch coverage of domain/ from the unit tests alone. pytest-cov, not `coverage run`: the suite ends
# with os._exit (tests/conftest.py), which would lose coverage's data. The data file stays in .venv.
coverage: $(STAMP)
	COVERAGE_FILE=$(VENV)/.coverage $(BIN)/python -m pytest -q -m unit --cov=domain --cov-branch \
		--cov-report=term-missing --cov-fail-under=90

# A benchmark, not a test: `make bench ARGS=--quick` for about a minute of small counts.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .baton
