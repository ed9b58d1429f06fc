# make run: set up .venv and start the explorer.  make test: set up .venv and run the tests.
# Both are idempotent: a stamp file per requirements file means a second call installs nothing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test bench

run: $(RUN_STAMP)
	$(VENV)/bin/streamlit run app.py

test: $(DEV_STAMP)
	bash tests/ui/ensure_browser.sh
	bash tests/ensure_data.sh
	$(PY) -m pytest

bench: $(RUN_STAMP)
	$(PY) -m benchmarks.app

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -r requirements.txt
	touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install -r requirements-dev.txt
	touch $@
