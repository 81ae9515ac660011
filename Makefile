# The two set-up commands: `make demo` and `make test`. Each builds .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRISM := .tools/prism/node_modules/.bin/prism

.PHONY: demo test lint typecheck screenshots clean

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

# Stoplight Prism checks provider requests against their OpenAPI files (tests/providers).
$(PRISM): tests/prism/package.json tests/prism/package-lock.json
	mkdir -p .tools/prism
	cp tests/prism/package.json tests/prism/package-lock.json .tools/prism/
	cd .tools/prism && npm ci --ignore-scripts --no-audit --no-fund
	touch $(PRISM)

test: lint typecheck $(PRISM)
	$(BIN)/pytest

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .tools newsletter.db outbox preview .pytest_cache .mypy_cache .ruff_cache
