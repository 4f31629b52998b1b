# Loupe: the two commands are `make demo` and `make test` (see README.md).
# Every install step lives here and in scripts/; nothing is assumed on the machine but
# Python 3.11, Node.js/npm and (for system packages) apt-get.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.loupe-installed
EXTRAS ?= ml,test

.PHONY: demo test install system-deps npm-deps lint bench clean help

help:
	@echo "make demo   - set everything up and run the demo (harvest, serve)"
	@echo "make test   - set everything up and run the whole test suite"
	@echo "make bench  - run the benchmarks (harvest, embed, search)"
	@echo "make lint   - static checks (ruff)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<25" "setuptools<81" wheel

# Reinstall when the dependency declarations change.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests talk to for real: redis-server (dramatiq broker), chromium and
# chromium-driver (lens and viewer plugin in a headless browser).
system-deps:
	bash scripts/install-system-deps.sh

npm-deps:
	bash scripts/install-npm-deps.sh

# MODEL=loupe-tiny runs the demo with the tiny test model when the default's weights are absent.
demo: install npm-deps
	$(if $(MODEL),LOUPE_MODEL=$(MODEL) )$(BIN)/loupe demo

test: install system-deps npm-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Static checks (ruff: pyflakes, pycodestyle, isort, annotations, blind excepts; see pyproject.toml).
lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/loupe bench harvest --json
	$(BIN)/loupe bench embed --json --random-weights
	$(BIN)/loupe bench search --json --random-weights

clean:
	rm -rf $(VENV) var .pytest_cache
