# The workbook's commands. `make run` and `make test` set up everything they need first.
SHELL := /bin/bash
include runtime/versions.env

VENV := .venv
PY := $(VENV)/bin/python
DAPR_HOME ?= $(HOME)/.dapr
export PATH := $(CURDIR)/$(VENV)/bin:$(DAPR_HOME)/bin:$(PATH)

.PHONY: setup venv runtime run test scheduler stop lab notebooks bench lint format clean

setup: venv runtime

# The Python environment, rebuilt only when pyproject.toml or the lock file change.
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (python3 is $$(python3 --version))"; exit 1; }
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Dapr $(DAPR_RUNTIME_VERSION) built from its Go modules into $(DAPR_HOME)/bin (reused when it matches).
runtime:
	@bash runtime/install.sh

# The droid quickstart: scheduler, both apps and their sidecars; all stopped at the end or on Ctrl-C.
run: setup
	workbook run -f . --exit-with job-scheduler

test: setup
	ruff check .
	pytest

# A scheduler in the background (for notebooks and `workbook run`), and its stop.
scheduler: setup
	workbook scheduler start
stop:
	-workbook stop -f . 2>/dev/null
	workbook scheduler stop

# Execute every notebook against the real runtime and store its outputs (metadata stripped).
notebooks: setup
	workbook notebooks run

# The long benchmarks (minutes); `make test` runs only a seconds-long smoke version.
bench: setup
	python -m workbook.bench

lint: venv
	ruff check .
	ruff format --check .

format: venv
	ruff check --fix .
	ruff format .

clean: stop
	rm -rf .state job_service/.dapr job_scheduler/.dapr
