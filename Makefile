# The workbook's commands. `make run` and `make test` set up everything they need first.
SHELL := /bin/bash
include runtime/versions.env

VENV := .venv
# Dependencies by use (pyproject.toml: core, sdk, lab, test, dev), installed from hashed locks
# that `make lock` compiles from those extras with uv (universal: any OS, Python 3.11+):
#   requirements/lab.txt  core + lab (+ sdk): what a learner needs for `make lab`
#   requirements/dev.txt  core + sdk + lab + test + dev: tests, lint, the benchmark
# Each is installed with `uv pip install --require-hashes -r LOCK`, then the project itself with
# `uv pip install --no-deps -e .`. uv (pinned and hashed in the lock) is installed first with pip
# from its own lines of the lock: a cold install takes about 12 s of CPU instead of pip's 47.
LOCK_LAB := requirements/lab.txt
LOCK_DEV := requirements/dev.txt
# make test: the unit tests first (one process), then the runtime, docs and k8s tests side by
# side (they mostly wait on timers: due times, retries, leases) while, at the same time, those on
# the default ports run one at a time (tests/side_by_side.sh).
TEST_WORKERS ?= 3
PY := $(VENV)/bin/python
# The Dapr home runtime/install.sh chose (or would choose): DAPR_HOME when set, else a ~/.dapr
# holding Dapr 1.18.x, else the workbook's own build; read from its record, no network, no Go.
DAPR_CHOICE := $(shell bash runtime/install.sh --print-home 2>/dev/null)
DAPR_HOME ?= $(patsubst DAPR_HOME=%,%,$(filter DAPR_HOME=%,$(DAPR_CHOICE)))
# the real Dapr CLI finds that home as $$DAPR_RUNTIME_PATH/.dapr
DAPR_RUNTIME_PATH ?= $(patsubst DAPR_RUNTIME_PATH=%,%,$(filter DAPR_RUNTIME_PATH=%,$(DAPR_CHOICE)))
export DAPR_RUNTIME_PATH
WORKBOOK_HOME ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/dapr-jobs-workbook
export PATH := $(CURDIR)/$(VENV)/bin:$(DAPR_HOME)/bin:$(WORKBOOK_HOME)/bin:$(PATH)

.PHONY: setup venv venv-lab runtime browser extras run test test-unit scheduler stop lab notebooks bench lint format lock clean k8s

# The Python environment and the Dapr runtime side by side (a cold set-up overlaps pip and go).
# The environment is the full one (`venv`), or the learner's (`venv-lab`) for `make lab`.
SETUP_VENV ?= venv
setup:
	@$(MAKE) --no-print-directory -j2 $(SETUP_VENV) runtime

# Create the venv if needed and install one hashed lock into it ($(1)), then the project itself.
# Bytecode is compiled at install (as pip does, unlike uv by default): where the environment
# sets PYTHONDONTWRITEBYTECODE, every kernel, app and test process would otherwise compile
# JupyterLab, FastAPI, grpc... from source each time it starts.
define install_lock
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (python3 is $$(python3 --version))"; exit 1; }
	python3 -m venv $(VENV)
	sed -n '/^uv==/,/[^\\]$$/p' $(LOCK_DEV) >$(VENV)/uv-requirement.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
	  -r $(VENV)/uv-requirement.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes --compile-bytecode -r $(1)
	$(VENV)/bin/uv pip install --quiet --python $(PY) pip==25.3
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
endef

# The full Python environment (tests, lint, the benchmark), rebuilt only when pyproject.toml or
# the dev lock changes. It holds the whole lab lock too (every pin of lab.txt is in dev.txt:
# tests/unit/test_locks.py), so it serves `make lab` as well.
venv: $(VENV)/.installed
	@:
$(VENV)/.installed: pyproject.toml $(LOCK_DEV)
	$(call install_lock,$(LOCK_DEV))
	touch $@ $(VENV)/.installed-lab

# A learner's environment (`make lab`): the lab lock only (core, the SDK, JupyterLab, the
# plots), no test or dev tools (no Playwright, pytest or ruff).
venv-lab: $(VENV)/.installed-lab
	@:
$(VENV)/.installed-lab: pyproject.toml $(LOCK_LAB)
	$(call install_lock,$(LOCK_LAB))
	touch $@

# Dapr $(DAPR_RUNTIME_VERSION): an installed Dapr 1.18 reused, or built from its Go modules into the
# workbook's own home (never into ~/.dapr). DAPR_COMPONENTS=all: daprd with every stable
# component; RETRY_CLI=1: ask the Go module proxy again for the refused Dapr CLI module.
runtime:
	@bash runtime/install.sh

# The droid quickstart: under the real Dapr CLI 1.18 (`dapr run -f .`, then `dapr stop -f .`) if
# it is on PATH, else under `workbook run -f . --exit-with job-scheduler`; the control plane
# (scheduler + placement) first; everything stopped at the end, on Ctrl-C or a closed terminal.
run: setup
	workbook quickstart

test: setup browser extras
	ruff check .
	ruff format --check .
	lint-imports
	bash k8s/k8s.sh tools  # helm, actionlint, k8svalidate for tests/k8s (side by side below)
	@$(MAKE) --no-print-directory test-unit UNIT_ARGS=--junitxml=$(CURDIR)/.state/test-unit.xml
	bash tests/side_by_side.sh $(TEST_WORKERS)

# Tools the tests use beside the runtime, built from their Go modules (runtime/extras.sh):
# sentry (mTLS) and etcdctl (the scheduler's keys); rebuilt only when missing or of another
# version. Never on `make run`'s path.
extras:
	@bash runtime/extras.sh

# The tests that need no Dapr runtime: seconds. They run as on a machine without Dapr: an empty
# HOME (no ~/.dapr, no workbook build), no DAPR_HOME, and on PATH only the venv and the system's
# folders (no daprd, scheduler, placement or go); tests/unit/conftest.py also fails a unit test
# that reaches for a Dapr binary or the scheduler. nbval (only tests/docs uses it) is not loaded,
# and bytecode (with pytest's rewritten asserts) is cached in the venv even where the environment
# sets PYTHONDONTWRITEBYTECODE. UNIT_ARGS adds options (`make test` adds its report).
UNIT_PATH := $(CURDIR)/$(VENV)/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
test-unit: venv
	@home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	  env -u DAPR_HOME -u DAPR_RUNTIME_PATH -u WORKBOOK_HOME -u XDG_DATA_HOME \
	  -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX="$(CURDIR)/$(VENV)/pycache" \
	  HOME="$$home" PATH="$(UNIT_PATH)" pytest -p no:nbval tests/unit $(UNIT_ARGS)

# Kubernetes, offline, in seconds once the tools are built: helm, actionlint and k8svalidate
# from k8s/tools (a cold build takes minutes, once), Dapr's chart rendered with
# k8s/values-ha.yaml and the droid apps into k8s/rendered/ (commit them), both validated against
# Kubernetes 1.37 and the Dapr CRDs, the CI template and the Containerfile linted.
k8s: venv
	bash k8s/k8s.sh all

# Debian's chromium for the JupyterLab browser test (no browser download is possible here).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  { echo "The browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; }

# The control plane in the background, as `dapr init` runs it: scheduler (gRPC 50006, health
# 58081) and placement (50005, health 58080) on loopback; one already running is reused.
# `make stop` stops only what `make scheduler` started.
scheduler: setup
	workbook scheduler start
stop:
	-workbook stop -f . 2>/dev/null
	workbook scheduler stop

# JupyterLab on loopback, opened at notebook 01, with the control plane; Ctrl-C, SIGTERM or a
# closed terminal (SIGHUP) stops it all.
lab: SETUP_VENV = venv-lab
lab: setup
	workbook lab

# Execute every notebook against the real runtime and store its outputs (metadata stripped).
notebooks: setup
	workbook notebooks run

# The long benchmarks (minutes); `make test` runs only a seconds-long smoke version.
bench: setup extras
	python -m bench
	python -m bench.storage  # the scheduler's database per 1,000 and 10,000 jobs (etcdctl)

lint: venv
	ruff check .
	ruff format --check .
	lint-imports

# Recompile both hashed locks from pyproject.toml (after changing a pin there).
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --no-header --quiet
lock: venv
	uv pip compile pyproject.toml --extra lab $(LOCK_FLAGS) -o $(LOCK_LAB)
	uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o $(LOCK_DEV)

format: venv
	ruff check --fix .
	ruff format .

clean: stop
	bash tests/side_by_side.sh --clean
	rm -rf .state job_service/.dapr job_scheduler/.dapr
