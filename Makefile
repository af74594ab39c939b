# The two commands: `make demo` (set up, simulate a month, run everything) and `make test`.
# Only python3 is assumed: uv is installed into .tools/, everything else comes from uv.lock into .venv/.
SHELL := /bin/bash
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
export GONGZHI_HOME ?= $(CURDIR)/data

.PHONY: demo test setup bench clean ui

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet 'uv>=0.5,<1'

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# The dbt manifest Dagster builds its dbt assets from, prepared here rather than on every import
# (pipelines/dbt.py re-parses only when it is missing or older than the project).
DBT_MANIFEST := dbt/target/dagster/manifest.json
DBT_SOURCES := dbt/dbt_project.yml dbt/profiles.yml $(shell find dbt/models dbt/seeds dbt/macros dbt/tests dbt/snapshots -type f 2>/dev/null)

$(DBT_MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	$(VENV)/bin/python -c "from pipelines import dbt; dbt.parse_manifest(dbt.dbt_project())"

# The simulator's hot modules compiled with Cython into extensions beside their sources (gongzhi/compiled.py): the
# same output with less CPU (about a tenth at a year's density). Rebuilt when a source changes; plain Python where
# there is no C compiler.
COMPILED_SOURCES := $(wildcard simulator/*.py) gongzhi/compiled.py
$(VENV)/.compiled: $(VENV)/.synced $(COMPILED_SOURCES)
	$(VENV)/bin/python -m gongzhi.compiled
	touch $@

setup: $(VENV)/.synced $(VENV)/.compiled $(DBT_MANIFEST)

demo: setup
	$(VENV)/bin/gongzhi demo

# The Dagster UI on http://127.0.0.1:3000 with the instance (runs, logs, schedules) in $(GONGZHI_HOME)/dagster.
ui: setup
	mkdir -p $(GONGZHI_HOME)/dagster
	ln -sfn $(CURDIR)/dagster.yaml $(GONGZHI_HOME)/dagster/dagster.yaml
	DAGSTER_HOME=$(GONGZHI_HOME)/dagster $(VENV)/bin/dagster dev -m pipelines.definitions

test: setup
	$(VENV)/bin/python -m pytest

# Benchmarks are run on demand, never by `make test`: `make bench BENCH="simulator --intakes 10000000"`.
bench: setup
	$(UV) run --frozen --python $(PYTHON) --group bench python -m benchmarks $(BENCH)

# the compiled extensions too (gongzhi/compiled.py needs nothing but the standard library)
clean:
	$(PYTHON) -m gongzhi.compiled --clean
	rm -rf $(VENV) .tools data
