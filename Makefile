# Two commands for a fresh machine:  make demo  and  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

DEMO_STAMP := $(VENV)/.demo-installed

# Everything: the tests, the browser-test stack, PyTorch for training, the lab.
$(STAMP): pyproject.toml lab/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./lab
	touch $(STAMP) $(DEMO_STAMP)

# Only what the demo runs: the hub, simulated kiosks and the camera (no PyTorch, no tests).
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[kiosk,hub,camera]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/seed-lab bench ingest --json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
