# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed
WEB    := server/web
WEBSTAMP := $(WEB)/node_modules/.installed

.PHONY: setup build run test clean

setup: $(STAMP) $(WEBSTAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The query editor (YASGUI) and other front-end libraries come from the npm registry, pinned by the lock file.
$(WEBSTAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEBSTAMP)

build: setup
	$(BIN)/kg build

run: build
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

# One pytest worker per CPU, each test file on one worker: a file's module fixtures (the grown KG's import and
# build, the servers a file starts) are made once, and the session's builds once per worker.
test: setup
	$(BIN)/python -m pytest -n auto --dist loadfile

clean:
	rm -rf $(VENV) var .pytest_cache $(WEB)/node_modules
