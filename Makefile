# The README's two commands: `make lab` and `make test`. Both set everything up
# on a fresh clone with only Python 3.11+ present.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Extra options for JupyterLab, e.g. LAB_ARGS="--no-browser --port=9999".
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told; ordinary users need nothing.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg

.PHONY: lab test bench lint notebooks clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.lab-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.lab-installed

lab: $(VENV)/.lab-installed
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=notebooks \
		--LabApp.default_url=/lab/tree/00-start-here.ipynb $(LAB_ARGS)

# The certified Node.js OpenID provider for the OIDC interop tests, from the committed lock (skipped without npm).
tests/node/node_modules: tests/node/package-lock.json
	@if command -v npm >/dev/null; then cd tests/node && npm ci --no-audit --no-fund && touch node_modules; \
	else echo "npm not found: the Node interop tests will skip (CI installs it)"; fi

# ALTX10_HEADLESS=1: notebooks sign in with a login code instead of showing the browser sign-in (nbval).
test: $(VENV)/.test-installed tests/node/node_modules
	ALTX10_HEADLESS=1 $(BIN)/python -m pytest $(NBVAL) tests notebooks

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench

lint: $(VENV)/.test-installed
	$(BIN)/ruff check altx10_helpers tests bench scripts

# Rebuild notebooks/*.ipynb from nbsrc/*.py and store fresh outputs.
notebooks: $(VENV)/.test-installed
	$(BIN)/python scripts/build_notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
