# Developer entry points. Everything runs from the project's own virtualenv
# (.venv), which `make venv` creates and keeps in step with the
# requirements; tox.ini runs the same pytest commands.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Per-test timeout (seconds) and xdist workers; override on the command
# line, e.g. `make unit PYTEST_WORKERS=0`. Two workers per CPU: the
# suite mostly waits (for flows, subprocesses, services), its two
# workers on two CPUs kept them about a quarter busy (CI run of 4414676:
# 13 CPU-minutes in 36 minutes).
TEST_TIMEOUT ?= 300
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
PYTEST_LOAD := $(BIN)/pytest -n $(PYTEST_WORKERS) --timeout $(TEST_TIMEOUT)
# Whole test modules are handed to the next free worker, in collection
# order. xdist's default (--dist load) first gives each worker a quarter
# of its share as one consecutive chunk: one worker got the browser and
# crash modules and ran them alone while the other three sat idle, and
# make test took 22 min 14 s; modules as units took 15 min 30 s on the
# same code and machine (3,245 tests, 4 workers, 2 CPUs, about 87% busy).
# A module's tests also share its module-scoped fixtures (an all-in-one,
# a browser) on one worker. The full crash and logbook runs keep the
# default: each is one module of hundreds of cases.
PYTEST := $(PYTEST_LOAD) --dist loadfile --no-loadscope-reorder

GENCONFIG_CONF := etc/orchestrator/orchestrator-config-generator.conf
CONFIG_SAMPLE := etc/orchestrator/orchestrator.conf.sample
GENPOLICY_CONF := etc/orchestrator/orchestrator-policy-generator.conf
POLICY_SAMPLE := etc/orchestrator/policy.yaml.sample

.PHONY: help venv run test lint unit functional integration crash-test \
	logbooks-test golden evolution-demo \
	genconfig genpolicy states-doc clean soak fuzz bench bench-smoke \
	import-graph tempest-auth conformance browser console-screenshots

help:
	@echo 'make venv         create/refresh .venv (project + test tools)'
	@echo 'make run          run the all-in-one system (state in ./state)'
	@echo 'make test         lint, then every test suite in parallel'
	@echo 'make lint         ruff'
	@echo 'make import-graph module-level import cycles of orchestrator/ and flows/ (fails on one)'
	@echo 'make unit | functional | integration | crash-test'
	@echo 'make browser      the web console in headless chromium (tests/browser)'
	@echo 'make console-screenshots  the browser tests, photos into docs/screenshots'
	@echo 'make logbooks-test every release logbook snapshot resumed'
	@echo 'make golden       regenerate tests/golden/flows.json (planned changes only)'
	@echo 'make evolution-demo move a step module, add a step: snapshots still resume'
	@echo 'make soak         random-kill soak, 30 min, random seed (SOAK_SEED=n replays)'
	@echo 'make fuzz         API fuzz test, 10000 requests, random seed (FUZZ_SEED=n replays)'
	@echo 'make bench        every benchmark (table + bench-results.json)'
	@echo 'make bench-smoke  the short benchmark run (under a minute; CI)'
	@echo 'make tempest-auth tempest compute tests with real Keystone users (minutes)'
	@echo 'make conformance  tempest.api.compute, all of it, with real Keystone (figures)'
	@echo 'make genconfig    regenerate $(CONFIG_SAMPLE)'
	@echo 'make genpolicy    regenerate $(POLICY_SAMPLE)'
	@echo 'make states-doc   regenerate docs/states.md'

# The stamp is newer than every packaging input once an install succeeded;
# touching any of them reinstalls (pip only fetches what changed).
$(STAMP): setup.cfg setup.py requirements.txt test-requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e . -r test-requirements.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/orchestrator-allinone --state-dir ./state

lint: venv
	$(BIN)/ruff check .

# IMPORT_GRAPH_ARGS=--edges lists every import, --dot draws it,
# --deferred counts imports inside functions too.
import-graph: venv
	$(BIN)/python -m tools.import_graph $(IMPORT_GRAPH_ARGS)

test: lint
	$(PYTEST) tests

unit: venv
	$(PYTEST) tests/unit

functional: venv
	$(PYTEST) tests/functional

integration: venv
	$(PYTEST) tests/integration

# The web console in Debian's headless chromium; screenshots in
# $$TEST_ARTIFACTS (default test-artifacts/screenshots).
browser: venv
	$(PYTEST) tests/browser

# The same tests, their screenshots written over the README's copies.
console-screenshots: venv
	TEST_ARTIFACTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -n 0 \
		--timeout $(TEST_TIMEOUT) tests/browser

# Every crash case (`make test` runs a fixed-seed sample of them).
crash-test: venv
	CRASH_ALL=1 $(PYTEST_LOAD) tests/crash

# Logbook snapshots of every release resumed with today's code (make test
# runs a sample); the golden file of persisted names, regenerated only for
# a planned change; the evolution demonstration (docs/evolution.md).
logbooks-test: venv
	LOGBOOKS_ALL=1 $(PYTEST_LOAD) tests/logbooks

golden: venv
	$(BIN)/python -m tests.golden.regenerate

evolution-demo: venv
	$(BIN)/python -m tests.logbooks.demonstrate

# The random-kill soak (`make test` runs a short fixed-seed one); every
# SOAK_* variable of tests/soak/driver.py may be given.
SOAK_SECONDS ?= 1800
SOAK_SEED ?= random
soak: venv
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SEED=$(SOAK_SEED) \
		$(BIN)/pytest -n 0 -p no:cacheprovider -s -q tests/soak

# The API fuzz test at length (`make test` runs 500 fixed-seed requests).
FUZZ_EXAMPLES ?= 10000
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/pytest -n 0 -p no:cacheprovider -q --timeout 0 \
		tests/unit/api/test_fuzz.py

# Benchmarks (issue 11): figures printed as a table and written to
# bench-results.json; BENCH_ARGS='--only e2e,sql' picks sections.
bench: venv
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-smoke: venv
	$(BIN)/python -m benchmarks.run --smoke $(BENCH_ARGS)

# Tempest's multi-tenant and negative compute tests against the all-in-one
# authenticating with a real Keystone (not part of `make test`);
# TEMPEST_ARGS='--regex REGEX' picks other tests.
tempest-auth: venv
	$(BIN)/python -m tests.tempest_auth $(TEMPEST_ARGS)

# tempest.api.compute, all of it, as the conformance suite (tens of
# minutes; not part of `make test`, which runs a fixed subset):
# figures, the share passing, failures.txt in the work directory;
# CONFORMANCE_ARGS='--workdir DIR --concurrency N --regex R' adjusts.
conformance: venv
	$(BIN)/python -m tests.conformance $(CONFORMANCE_ARGS)

genconfig: venv
	$(BIN)/oslo-config-generator --config-file $(GENCONFIG_CONF)

# The policy sample: every rule's default, from orchestrator/policies.
genpolicy: venv
	$(BIN)/oslopolicy-sample-generator --config-file $(GENPOLICY_CONF)

states-doc: venv
	mkdir -p docs
	$(BIN)/orchestrator-manage states > docs/states.md.tmp
	mv docs/states.md.tmp docs/states.md

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d \
		-exec rm -rf {} +
