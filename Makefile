# Placeholder: replaced by the full pipeline Makefile.
PY := .venv/bin/python
venv: .venv/.installed
.venv/.installed: requirements.lock pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install -q -r requirements.lock
	.venv/bin/pip install -q --no-deps -e .
	touch $@
