# EVT evidence report.
#   make report                           build report/ (index.html, report.pdf, results.csv)
#   make report PARAMS=params/strict.yaml build a reviewer run into report/runs/strict/
#   make test                             run every test
#   make diff A=default B=strict          what differs between two runs (DIFF_ALL=1, DIFF_CSV=1)
#   make lab                              JupyterLab on localhost, project kernel, notebooks/
# Both `report` and `test` set up what they need: the virtual environment (.venv, from
# requirements.lock) and, when missing, the Debian packages (chromium; R for the tests).

SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --jobs=$(shell nproc 2>/dev/null || echo 2) --output-sync=target

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := evtreport

PARAMS ?= params/default.yaml
RUN := $(basename $(notdir $(PARAMS)))
ifeq ($(RUN),default)
OUT ?= report
else
OUT ?= report/runs/$(RUN)
endif
NOTEBOOKS_DIR ?= notebooks
BUILD_ROOT ?= build
BDIR := $(BUILD_ROOT)/$(RUN)
NOTEBOOKS := $(sort $(wildcard $(NOTEBOOKS_DIR)/*.ipynb))
EXECUTED := $(patsubst $(NOTEBOOKS_DIR)/%.ipynb,$(BDIR)/executed/%.ipynb,$(NOTEBOOKS))
DATA_DIR ?= data
export EVTREPORT_DATA_DIR := $(abspath $(DATA_DIR))
DATA := $(wildcard $(DATA_DIR)/*.csv) data/datapackage.json
SRC := $(shell find src/evtreport -type f -not -path '*/__pycache__/*')

CHROMIUM := /usr/bin/chromium
RSCRIPT := /usr/bin/Rscript
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends

.PHONY: report test venv system-deps diff lab bench reference lock clean FORCE
.DEFAULT_GOAL := report

report: $(OUT)/index.html

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "Python (evtreport)" >/dev/null
	@# The kernel only talks to papermill on localhost: silence its "TCP without encryption" log.
	$(PY) -c 'import json, sys; p = sys.argv[1]; k = json.load(open(p)); \
		k["argv"].append("--IPKernelApp.log_level=ERROR"); json.dump(k, open(p, "w"), indent=1)' \
		$(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json
	touch $@

$(CHROMIUM):
	@echo "Installing Debian's chromium (prints the PDF; drives the browser test)"
	$(APT_INSTALL) chromium fonts-dejavu-core >/dev/null

$(RSCRIPT):
	@echo "Installing R and metafor (the tests' independent reference)"
	$(APT_INSTALL) r-base-core r-cran-metafor >/dev/null

system-deps: | $(CHROMIUM) $(RSCRIPT)

# 1. Validate the data and the parameter file before any notebook runs.
$(BDIR)/params.yaml: $(PARAMS) $(DATA) $(SRC) $(STAMP)
	$(PY) -m evtreport.build prepare --params $(PARAMS) --data-dir $(DATA_DIR) --out $@

# 2. Run each chapter with papermill (independent: they run in parallel).
$(BDIR)/executed/%.ipynb: $(NOTEBOOKS_DIR)/%.ipynb $(BDIR)/params.yaml
	$(PY) -m evtreport.build execute $< $@ --params $(BDIR)/params.yaml

# Rewritten only when the set of notebooks changes, so a removed chapter triggers a render.
$(BDIR)/notebooks.list: FORCE
	@mkdir -p $(@D); echo "$(NOTEBOOKS)" | cmp -s - $@ || echo "$(NOTEBOOKS)" > $@

# 3. Assemble HTML + PDF + results.csv in a staging directory, then publish atomically.
$(OUT)/index.html: $(EXECUTED) $(BDIR)/params.yaml $(BDIR)/notebooks.list | $(CHROMIUM)
	$(PY) -m evtreport.build render --run $(RUN) --params $(BDIR)/params.yaml --out $(OUT) $(EXECUTED)

test: $(STAMP) | $(CHROMIUM) $(RSCRIPT)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		tests report/notebooks

A ?= default
B ?= strict
diff: $(STAMP)
	@DIFF_ALL="$(DIFF_ALL)" DIFF_CSV="$(DIFF_CSV)" $(PY) -m evtreport.build diff $(A) $(B)

# JupyterLab from the project's venv, on this machine only, opening the chapters with the
# project's kernel; EVTREPORT_DATA_DIR (DATA_DIR=) reaches the kernel. LAB_ARGS adds options.
LAB_PORT ?= 8888
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
		--ServerApp.root_dir="$(CURDIR)/$(NOTEBOOKS_DIR)" \
		--MappingKernelManager.default_kernel_name=$(KERNEL) \
		$(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True) $(LAB_ARGS)

bench: $(STAMP)
	$(PY) tests/benchmarks/bench_meta.py

# Regenerate the committed metafor reference values (needs R + metafor).
reference: | $(RSCRIPT)
	Rscript tests/reference/metafor_reference.R tests/reference

# Re-resolve requirements.in into requirements.lock in a scratch venv; then bring
# environment.yml to the same versions (tests/test_environment.py checks they agree).
lock:
	rm -rf $(BUILD_ROOT)/lock-venv
	$(PYTHON) -m venv $(BUILD_ROOT)/lock-venv
	$(BUILD_ROOT)/lock-venv/bin/pip install --quiet -r requirements.in
	{ echo '# Exact versions installed into .venv by `make venv`. Generated by `make lock` from requirements.in.'; \
	  $(BUILD_ROOT)/lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock
	rm -rf $(BUILD_ROOT)/lock-venv

clean:
	rm -rf $(BUILD_ROOT)
