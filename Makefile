# The two commands of the README: `make demo` (options: make demo ARGS="--port 8080") and
# `make test`. Both install what they need
# into .venv from the pinned requirements first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/test.txt | sha1sum | cut -c1-12)

.PHONY: install demo test lint stack bench-ingest

$(STAMP): requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/test.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python manage.py demo $(ARGS)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The production processes on this machine (Procfile, honcho), with DATABASE_URL, REDIS_URL and
# the production variables set (README "Production"). Metrics of all processes meet in var/metrics.
stack: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	rm -rf var/metrics && mkdir -p var/metrics
	PATH="$(CURDIR)/$(BIN):$$PATH" PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/var/metrics" $(BIN)/honcho start

lint: install
	$(BIN)/ruff check .
