# Boundary's everyday commands. `make run` needs only Python 3.11: SQLite and an
# embedded Celery broker under var/. `make test` needs PostgreSQL and Redis.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of packages, so `make run` installs only what running needs:
# .installed-run (the app), -test (+ pytest, Playwright), -lint (+ ruff, djLint, mypy,
# import-linter, pre-commit), -dev (all of them: `make venv`).
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint
AUDIT_STAMP := $(VENV)/.installed-audit
DEV_STAMP := $(VENV)/.installed-dev
# `make run`'s port (PORT=8001 make run, or make run PORT=8001).
PORT ?= 8000

# Production-like values for `make check-deploy`; nothing connects to them.
DEPLOY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/boundary
DEPLOY_BROKER_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv install system-packages system-packages-run run test lint audit check-deploy clean bench-export bench-reminders bench-hr bench-data bench load

help:
	@echo "make run           start Boundary with demo data at http://127.0.0.1:$(PORT)/"
	@echo "make test          run the test suite (needs PostgreSQL and Redis)"
	@echo "make lint          ruff, djLint, formatting, types (mypy), import layers, and missing migrations"
	@echo "make check-deploy  Django's deployment checks with production settings"
	@echo "make audit         bandit over the code, pip-audit over the locked dependencies"
	@echo "make bench-export  export and verification timings on a 100,000-event record"
	@echo "make bench-reminders  the reminder sweep on 1,000,000 rows, in its own database"
	@echo "make bench-hr      HR's dashboard on 20,000 employees and 100,000 requests"
	@echo "make load          locust at the highest rate 2 gunicorns and 2 Celery workers hold"
	@echo "make bench-data    the benchmark data set (template database), built once"
	@echo "make bench         every page against a bare floor on the big data set: var/bench/"
	@echo "make venv          create or update .venv (make install is the same)"
	@echo "make clean         remove .venv, caches and build output (keeps var/ data)"

venv install: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.3"

# Re-installs only when the dependencies or their pins change.
$(VENV)/.installed-%: pyproject.toml requirements/constraints.txt requirements/build-constraints.txt | $(BIN)/python
	@echo "Installing Boundary's Python packages ($*) into $(VENV)"
	$(BIN)/pip install --quiet --build-constraint requirements/build-constraints.txt \
		-c requirements/constraints.txt -e ".$(if $(filter run,$*),,[$*])"
	touch $@

# Debian packages: psycopg2 builds against libpq-dev (every stamp); the tests need
# Chromium, Pango, redis-server and more (scripts/system-packages.sh says which).
$(RUN_STAMP) $(LINT_STAMP) $(AUDIT_STAMP): | system-packages-run
$(TEST_STAMP) $(DEV_STAMP): | system-packages

system-packages-run:
	scripts/system-packages.sh run

system-packages:
	scripts/system-packages.sh test

run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(RUN_STAMP)
	mkdir -p var
	@$(BIN)/python -c 'import socket; socket.create_server(("127.0.0.1", $(PORT))).close()' \
		2>/dev/null || { echo "Port $(PORT) is in use: try make run PORT=8001"; exit 1; }
	@# Migrate and load the demo data in one process: Django starts once, not twice.
	@echo "Migrating the database and loading the demo data"
	@$(BIN)/python manage.py shell -c "from django.core.management import call_command; \
		call_command('migrate', interactive=False); call_command('load_demo')"
	@echo
	@echo "  Boundary: http://127.0.0.1:$(PORT)/"
	@echo "  Demo login: maya@example.com / boundary-demo"
	@echo "  Ctrl-C stops the web server, the Celery worker and Celery beat."
	@echo "  To watch a reminder go out: $(BIN)/python manage.py demo_reminder --in 20"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) RUN_VAR="$(CURDIR)/var" RUN_UID="$$(id -u)" \
		$(BIN)/supervisord -c supervisord.dev.conf

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/boundary
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test: export DJANGO_ALLOW_ASYNC_UNSAFE = true
test: system-packages $(TEST_STAMP)
	$(BIN)/python scripts/check_services.py
	$(BIN)/pytest -n 2 --cov $(PYTEST_ARGS)

lint: $(LINT_STAMP)
	mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates/ --lint
	$(BIN)/djlint templates/ --check
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

# Bandit at medium severity and above over our code (each `# nosec` says why on its line),
# then pip-audit over requirements/constraints.txt (scripts/audit_dependencies.py): it exits
# 2, saying so, when the vulnerability database cannot be reached, as from a machine that
# reaches only a package index; it never reports "no known vulnerability" it did not check.
audit: $(AUDIT_STAMP)
	$(BIN)/bandit --recursive boundary requests_log --exclude '*/migrations/*' \
		--severity-level medium --quiet
	@echo "bandit: no issue of medium severity or above in boundary/ and requests_log/;" \
		"$$(grep -rl '# nosec' boundary requests_log | wc -l) file(s) waive one inline, with the reason"
	$(BIN)/python scripts/audit_dependencies.py

check-deploy: $(RUN_STAMP)
	DJANGO_ENV=production \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(45))')" \
	DJANGO_ALLOWED_HOSTS=boundary.example.com \
	DATABASE_URL="$(DEPLOY_DATABASE_URL)" \
	CELERY_BROKER_URL="$(DEPLOY_BROKER_URL)" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Drops, creates and fills its own database (BENCH_DATABASE_URL, default
# boundary_bench_export) and prints a table of figures; exits 1 if a target is missed.
bench-export: $(RUN_STAMP)
	$(BIN)/python scripts/bench_export.py

# Drops, creates and fills its own database (BENCH_DATABASE_URL, default
# boundary_bench_reminders) and prints a table of figures; exits 1 if a target is missed.
bench-reminders: $(RUN_STAMP)
	$(BIN)/python scripts/bench_reminders.py

# HR's dashboard and pattern lists on generated data, in its own database
# (BENCH_DATABASE_URL, default boundary_bench_hr): medians and query counts.
bench-hr: $(RUN_STAMP)
	$(BIN)/python scripts/bench_hr_dashboard.py

# The benchmark's data set, built once as the template database boundary_bench_template
# (20,000 people, 400,000 requests, 4,000,000 chained events; up to 15 minutes) with its
# cast in var/bench/cast.json; does nothing when the template is up to date.
bench-data: $(RUN_STAMP)
	$(BIN)/python scripts/bench/dataset.py

# Every page against its bare floor (gunicorn, production settings, wrk) and the in-process
# measures, on a fresh copy of the template: var/bench/results.md, .json and ratios.png
# (docs/performance.md). Under 5 minutes once the template exists; exits 1 on a missed target.
$(VENV)/.installed-bench: | system-packages-run
bench: bench-data $(VENV)/.installed-bench
	scripts/system-packages.sh bench
	$(BIN)/python scripts/bench/measure.py

# A 60-second locust run of a realistic mix against 2 gunicorn processes and 2 Celery workers
# (production settings, loopback only) at the highest rate held with zero errors and p95 of
# pages under 250 ms, found by a short ramp; in its own database (boundary_load: a clone of
# the bench template if it exists, else seeded in ~40 s). var/load/results.md and .json.
load: $(VENV)/.installed-bench
	$(BIN)/python scripts/load/run.py

clean:
	rm -rf $(VENV) staticfiles test-artifacts build .ruff_cache .pytest_cache *.egg-info
	rm -f var/celerybeat-schedule var/celerybeat-schedule.* var/supervisord.pid
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
