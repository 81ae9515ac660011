# The two set-up commands: `make demo` and `make test`. Each builds .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck chromium screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsletter db upgrade
	$(BIN)/newsletter subscribers import subscribers/sample.csv --apply --consent-given-by "demo data"
	$(BIN)/newsletter collect
	$(BIN)/newsletter preview --out preview
	$(BIN)/newsletter send
	@echo
	@echo "Done. The sent mails are .eml files in ./outbox/, the preview is ./preview/index.html."

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The web tests drive Debian's headless Chromium; install it where it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }

test: lint typecheck chromium
	$(BIN)/pytest

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) newsletter.db outbox preview .pytest_cache .mypy_cache .ruff_cache
