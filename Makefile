# Shortcuts for developers; each target is one documented command.
# The README's two commands need no make: scripts/run.sh and scripts/test.sh.
VENV := $(or $(MONASSURANCE_VENV),.venv)
PY := $(VENV)/bin/python
TRANSLATIONS := app/translations
# A benchmark sends hundreds of API requests a minute from one caller: with the shipped
# limit (RATELIMIT_API, 600/minute) it measured 429s. The limiter still counts every
# request; only the budget is raised, for the bench process alone.
BENCH_ENV := RATELIMIT_API=1000000/minute

.PHONY: help venv run test lint format bench bench-documents bench-dashboard bench-lists bench-reports bench-renewals bench-startup bench-load bench-bare babel ci

help:
	@echo "make run     start MonAssurance (scripts/run.sh: .venv, migrations, demo data, web + worker)"
	@echo "make test    both test legs: SQLite, then PostgreSQL + Redis (scripts/test.sh)"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make format  ruff format + ruff check --fix"
	@echo "make bench   FAB list API vs hand-written endpoint (bench/api_list.py)"
	@echo "make bench-documents  PDF engines, 1,000 documents through the queue, 100k-row XLSX"
	@echo "make bench-dashboard  the manager dashboard on PostgreSQL at 100k policies (SIZE=1000000 for 1M)"
	@echo "make bench-lists      the HTML list screens on PostgreSQL at 100k policies: statements, server time"
	@echo "make bench-reports    the portfolio report job on PostgreSQL at 1M policies (SIZE=200000 for less)"
	@echo "make bench-renewals   renewal cycles opened and 1,000 avis as one batch, PostgreSQL, 100k policies"
	@echo "make bench-startup    python run.py: first start on a fresh database, then a restart"
	@echo "make bench-load       1, 10 and 50 concurrent API clients on gunicorn: FAB vs hand-written (PostgreSQL)"
	@echo "make bench-bare       the list and create API next to a bare Flask app (bench/bare.py), 8 clients"
	@echo "make babel   extract messages, update the French catalogue, compile it"
	@echo "make ci      what CI runs (.ci/run)"

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(PYTEST_ARGS)

# Creates .venv or updates it when a requirements file changed (a no-op otherwise).
venv:
	@bash -c '. scripts/lib.sh && ensure_venv requirements-dev.txt'

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	$(BENCH_ENV) $(PY) bench/api_list.py $(BENCH_ARGS)

bench-documents: venv
	$(BENCH_ENV) $(PY) bench/documents.py

bench-dashboard: venv
	$(BENCH_ENV) $(PY) bench/dashboard.py --size $(or $(SIZE),100000)

bench-lists: venv
	$(BENCH_ENV) $(PY) bench/list_pages.py --size $(or $(SIZE),100000)

bench-reports: venv
	$(BENCH_ENV) $(PY) bench/reports.py --size $(or $(SIZE),1000000)

bench-renewals: venv
	$(BENCH_ENV) $(PY) bench/renewals.py --size $(or $(SIZE),100000)

bench-startup: venv
	$(BENCH_ENV) $(PY) bench/startup.py --rounds 3

bench-load: venv
	$(BENCH_ENV) $(PY) bench/load.py --clients 1,10,50 --settings conf --redis-url $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

# Issue 19 goal 1: CPU per request and throughput at 8 clients, FAB's API next to
# bench/bare.py (its own Flask + SQLAlchemy app, same SQL, bodies compared byte for byte).
BARE_ARGS = --targets fab,bare --clients 8 --rounds 2 --redis-url $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
bench-bare: venv
	$(BENCH_ENV) $(PY) bench/load.py $(BARE_ARGS) --mix list=1 --output bare-list $(BENCH_ARGS)
	$(BENCH_ENV) $(PY) bench/load.py $(BARE_ARGS) --mix create=1 --output bare-create $(BENCH_ARGS)

babel: venv
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l fr
	$(VENV)/bin/pybabel compile -d $(TRANSLATIONS)

ci:
	bash .ci/run
