# The two commands: `make demo` (set up, simulate a month, run everything) and `make test`.
# Only python3 is assumed: uv is installed into .tools/, everything else comes from uv.lock into .venv/.
SHELL := /bin/bash
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
export GONGZHI_HOME ?= $(CURDIR)/data

.PHONY: demo test setup bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet 'uv>=0.5,<1'

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/gongzhi demo

test: setup
	$(VENV)/bin/python -m pytest

# Benchmarks are run on demand, never by `make test`: `make bench BENCH="simulator --intakes 10000000"`.
bench: setup
	$(UV) run --frozen --python $(PYTHON) --group bench python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) .tools data
