# The handful of targets a newcomer needs: run, test, bench, lint.
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PYTHON ?= python3
INDEX ?= var/index
BIND ?= 127.0.0.1:8000

.PHONY: run test test-fast install install-run index browser-deps replica-deps bench relevance soak lint format clean

# What serving needs (make run), then the development extras on top (tests,
# benchmarks, lint: pytest, Playwright, schemathesis, hypothesis, ruff).
$(VENV)/.installed-run: pyproject.toml
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install-run: $(VENV)/.installed-run

install: $(VENV)/.installed

index: install-run
	$(BIN)/article-search index demo/articles --index $(INDEX)

run: index
	$(BIN)/article-search serve --index $(INDEX) --bind $(BIND)

# The browser tests drive Debian's chromium; install it when it is missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium >/dev/null; }

# The read-replica tests copy the index with Debian's rsync; install it when it is missing.
replica-deps:
	@command -v rsync >/dev/null 2>&1 || { \
	  echo "Installing Debian's rsync for the replica tests"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq rsync >/dev/null; }

test: install browser-deps replica-deps
	$(BIN)/pytest

# The core of the suite in under a minute: no browser, no server, nothing slow (pyproject.toml).
test-fast: install
	$(BIN)/pytest -m "not browser and not server and not slow"

bench: install
	$(BIN)/python bench/bench.py

# Ranking quality on every judged collection (Cranfield, CACM, Reuters news) beside SQLite FTS5.
relevance: install
	$(BIN)/python bench/relevance.py

# 60 s of concurrent clients against a real server on loopback.
soak: install
	$(BIN)/python bench/soak.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
