# EVT evidence report.
#   make report                           build report/ (index.html, report.pdf, results.csv)
#   make report PARAMS=params/strict.yaml build a reviewer run into report/runs/strict/
#   make report PARAMS=/elsewhere/x.yaml  ... into report/runs/x@<hash of the file's path>/
#   make test                             run every test
#   make runs PARAMS_DIR=sweep/           one run per sweep/*.yaml, in parallel (make -j)
#   make diff A=default B=strict          what differs between two runs (DIFF_ALL=1, DIFF_CSV=1)
#   make lab                              JupyterLab on localhost, project kernel, notebooks/
# Both `report` and `test` set up what they need: the virtual environment (.venv, from
# requirements.lock) and, when missing, the Debian packages (chromium; R for the tests).

SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --output-sync=target
# Parallel by default; a sub-make (make runs) shares its parent's job slots instead.
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)
endif

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := evtreport

PARAMS ?= params/default.yaml
# A run is named after its parameter file's real path: params/default.yaml is the published
# report; params/NAME.yaml is run NAME; any other file is NAME@<hash of its real path>, so two
# files never share a run (a name in params/ cannot hold '@', see SAFE_PATH).
SAFE_PATH = $(if $(findstring ',$(1))$(findstring ",$(1)),,$(if $(shell printf '%s' '$(1)' | \
	LC_ALL=C grep -q '[^A-Za-z0-9._/+,=~-]' && echo bad),,ok))
ifneq ($(filter report,$(or $(MAKECMDGOALS),report)),)
ifeq ($(strip $(PARAMS)),)
$(error PARAMS is empty: name a parameter file, e.g. make report PARAMS=params/strict.yaml)
endif
ifneq ($(words $(PARAMS)),1)
$(error PARAMS=$(PARAMS): a parameter file path must not contain spaces; copy the file to a path without them, e.g. params/my-run.yaml)
endif
ifeq ($(call SAFE_PATH,$(PARAMS)),)
$(error PARAMS=$(PARAMS): a parameter file path may hold only letters, digits and . _ - / + , = ~ (no quotes, spaces or @); copy the file to such a path, e.g. params/my-run.yaml)
endif
ifeq ($(realpath $(PARAMS)),)
$(error $(PARAMS): parameter file not found)
endif
ifeq ($(call SAFE_PATH,$(realpath $(PARAMS))),)
$(error $(PARAMS): its real path $(realpath $(PARAMS)) holds characters other than letters, digits and . _ - / + , = ~; copy the file to such a path)
endif
endif
PARAMS_FILE := $(realpath $(PARAMS))
ifeq ($(PARAMS_FILE),$(realpath params/default.yaml))
RUN := default
else ifeq ($(dir $(PARAMS_FILE))$(suffix $(PARAMS_FILE)),$(realpath params)/.yaml)
RUN := $(basename $(notdir $(PARAMS_FILE)))
else
RUN := $(basename $(notdir $(PARAMS_FILE)))@$(shell printf '%s' '$(PARAMS_FILE)' | sha256sum | cut -c1-8)
endif
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
SRC := $(shell find src/evtreport -type f -not -path '*/__pycache__/*')

CHROMIUM := /usr/bin/chromium
RSCRIPT := /usr/bin/Rscript
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends

.PHONY: report runs test venv system-deps diff lab bench reference lock clean FORCE
.DEFAULT_GOAL := report

report: $(OUT)/index.html

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# (in a temporary directory of its own: ipykernel leaves an empty one behind)
	tmp=$$(mktemp -d) && TMPDIR=$$tmp $(PY) -m ipykernel install --prefix $(VENV) --name $(KERNEL) \
		--display-name "Python (evtreport)" >/dev/null; rc=$$?; rm -rf "$$tmp"; exit $$rc
	@# Papermill reports what a kernel does; silence its own log (e.g. "TCP without encryption").
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

# The inputs make cannot see by modification time, as files rewritten only when they
# change: the parameter file's content (an edit that keeps an old time, or another file at
# the same path) and the data directory's listing and the checksums of its CSV files and
# datapackage.json (a deleted or added file; an edit of data/README.md rebuilds nothing).
# What cannot be read is recorded as such; `prepare` then names the file.
$(BDIR)/params.src: FORCE
	@mkdir -p $(@D); cat '$(PARAMS)' > $@.tmp 2>&1; cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(BDIR)/data.sha256: FORCE
	@mkdir -p $(@D); ( echo "$$EVTREPORT_DATA_DIR" && cd "$$EVTREPORT_DATA_DIR" && ls -A && \
		find . -maxdepth 1 -type f \( -name '*.csv' -o -name datapackage.json \) -exec sha256sum {} + | \
		LC_ALL=C sort ) > $@.tmp 2>&1; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# 1. Validate the data and the parameter file before any notebook runs.
$(BDIR)/params.yaml: $(BDIR)/params.src $(BDIR)/data.sha256 $(SRC) $(STAMP)
	$(PY) -m evtreport.build prepare --params '$(PARAMS)' --data-dir $(DATA_DIR) --out $@

# 2. Run each chapter with papermill (independent: they run in parallel).
$(BDIR)/executed/%.ipynb: $(NOTEBOOKS_DIR)/%.ipynb $(BDIR)/params.yaml
	$(PY) -m evtreport.build execute $< $@ --params $(BDIR)/params.yaml

# Rewritten only when the set of notebooks changes, so a removed chapter triggers a render.
$(BDIR)/notebooks.list: FORCE
	@mkdir -p $(@D); echo "$(NOTEBOOKS)" | cmp -s - $@ || echo "$(NOTEBOOKS)" > $@

# 3. Assemble HTML + PDF + results.csv in a staging directory, then publish atomically.
$(OUT)/index.html: $(EXECUTED) $(BDIR)/params.yaml $(BDIR)/notebooks.list | $(CHROMIUM)
	$(PY) -m evtreport.build render --run $(RUN) --params $(BDIR)/params.yaml --out $(OUT) $(EXECUTED)

# Many runs at once: each parameter file of PARAMS_DIR is `make report PARAMS=<file>` in a
# sub-make of its own (its own build/ directory and published run), all under this make's job
# slots (-j). One bad file fails its run only (--keep-going); make then exits non-zero.
PARAMS_DIR ?= params
ifneq ($(filter runs,$(MAKECMDGOALS)),)
ifeq ($(origin OUT),command line)
$(error OUT=$(OUT) cannot be given to `make runs`: every run publishes to report/runs/<its name>/)
endif
endif
RUN_FILES = $(sort $(wildcard $(PARAMS_DIR:%/=%)/*.yaml))
runs: $(STAMP) | $(CHROMIUM)
	@$(if $(RUN_FILES),,echo "PARAMS_DIR=$(PARAMS_DIR): no *.yaml parameter file in this folder" >&2; exit 2)
	+@$(MAKE) --no-print-directory --keep-going $(addprefix run@,$(RUN_FILES))

$(addprefix run@,$(RUN_FILES)): run@%: FORCE
	+@$(MAKE) --no-print-directory report PARAMS='$*'

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
	$(PY) tests/benchmarks/bench_batch.py
	$(PY) tests/benchmarks/bench_multiverse.py

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

# Also what interrupted builds left: staging directories, and this checkout's Chromium
# profiles and kernel files in the temporary directory (evt-<tag>-*). Published runs stay.
clean:
	rm -rf $(BUILD_ROOT) report/.staging-* report/runs/*/.staging-*
	@$(if $(wildcard $(PY)),$(PY),PYTHONPATH=src $(PYTHON)) -m evtreport.scratch clean
