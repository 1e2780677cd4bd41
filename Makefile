# Boundary's everyday commands. `make run` needs only Python 3.11: SQLite and an
# embedded Celery broker under var/. `make test` needs PostgreSQL and Redis.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Production-like values for `make check-deploy`; nothing connects to them.
DEPLOY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/boundary
DEPLOY_BROKER_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv install run test lint check-deploy clean bench-export bench-reminders

help:
	@echo "make run           start Boundary with demo data at http://127.0.0.1:8000/"
	@echo "make test          run the test suite (needs PostgreSQL and Redis)"
	@echo "make lint          ruff, djLint, formatting, types (mypy), import layers, and missing migrations"
	@echo "make check-deploy  Django's deployment checks with production settings"
	@echo "make bench-export  export and verification timings on a 100,000-event record"
	@echo "make bench-reminders  the reminder sweep on 1,000,000 rows, in its own database"
	@echo "make venv          create or update .venv (make install is the same)"
	@echo "make clean         remove .venv, caches and build output (keeps var/ data)"

venv install: $(STAMP)

# Re-installs only when the dependencies or their pins change.
$(STAMP): pyproject.toml requirements/constraints.txt requirements/build-constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.3"
	$(BIN)/pip install --build-constraint requirements/build-constraints.txt \
		-c requirements/constraints.txt -e ".[dev]"
	touch $@

run: $(STAMP)
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	@echo
	@echo "  Boundary: http://127.0.0.1:8000/"
	@echo "  Demo login: maya@example.com / boundary-demo"
	@echo "  Ctrl-C stops the web server, the Celery worker and Celery beat."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/boundary
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test: export DJANGO_ALLOW_ASYNC_UNSAFE = true
test: $(STAMP)
	$(BIN)/python scripts/check_services.py
	$(BIN)/pytest -n 2 --cov $(PYTEST_ARGS)

lint: $(STAMP)
	mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates/ --lint
	$(BIN)/djlint templates/ --check
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: $(STAMP)
	DJANGO_ENV=production \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(45))')" \
	DJANGO_ALLOWED_HOSTS=boundary.example.com \
	DATABASE_URL="$(DEPLOY_DATABASE_URL)" \
	CELERY_BROKER_URL="$(DEPLOY_BROKER_URL)" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Drops, creates and fills its own database (BENCH_DATABASE_URL, default
# boundary_bench_export) and prints a table of figures; exits 1 if a target is missed.
bench-export: $(STAMP)
	$(BIN)/python scripts/bench_export.py

# Drops, creates and fills its own database (BENCH_DATABASE_URL, default
# boundary_bench_reminders) and prints a table of figures; exits 1 if a target is missed.
bench-reminders: $(STAMP)
	$(BIN)/python scripts/bench_reminders.py

clean:
	rm -rf $(VENV) staticfiles test-artifacts build .ruff_cache .pytest_cache *.egg-info
	rm -f var/celerybeat-schedule var/celerybeat-schedule.*
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
