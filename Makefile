# The two commands of the quick start: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.12+: the interpreter .python-version names (through pyenv) or the first one on PATH.
PYTHON ?= $(shell for p in "$$HOME/.pyenv/versions/$$(cat .python-version 2>/dev/null)/bin/python" python3.13 python3.12 python3; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v "$$p"; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run worker test lint bench clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Set up and serve the demo on http://$(HOST):$(PORT), with one Celery worker (and beat) on the
# embedded broker serving every queue: deadlines enforced and e-mail sent in the background.
# Links in e-mails point at this server unless SITE_URL (in the environment or on the command
# line) names another.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@mkdir -p var/celery/queue var/celery/processed
	@$(BIN)/celery -A config worker --beat --pool=solo --loglevel=WARNING & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# One Celery worker with beat serving every queue (deadlines, email, webhooks), for a machine
# where CELERY_BROKER_URL points at Redis. In production the Procfile runs a worker per queue.
worker: install
	$(BIN)/celery -A config worker --beat --loglevel=INFO

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# The deadline sweep's throughput on PostgreSQL against pgbench, and its cost beside a million
# rows not yet due (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/disputes_bench,
# is dropped and re-created); then each money-moving sweep kind against pgbench, on rows built
# through the services, and two sweep processes splitting one backlog (BENCH_KINDS_DATABASE_URL,
# default .../disputes_bench_kinds); then the pages under load, served by gunicorn and driven by
# wrk (Debian's package wrk; BENCH_WEB_DATABASE_URL, default .../disputes_bench_web). Prints
# figures and ends each part with lines for scripts to read.
bench: install
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench.kinds
	$(BIN)/python -m bench.web

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
