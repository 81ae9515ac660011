# The two set-up commands: `make demo` and `make test`. Each builds .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRISM := .tools/prism/node_modules/.bin/prism

.PHONY: demo test lint typecheck screenshots chromium messages clean

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
	@echo "The demo signs its links with the public development key (--dev): set NEWSLETTER_SECRET_KEY for a real site."
	$(BIN)/newsletter --dev send
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

test: lint typecheck chromium $(PRISM)
	$(BIN)/pytest

# Headless Chromium: the layout and sign-up form tests, and the screenshots.
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

screenshots: $(STAMP) chromium
	$(BIN)/python scripts/screenshots.py

# After changing a translatable string: refresh the German catalog, then translate what is new.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location -o pipeline/render/locales/messages.pot .
	$(BIN)/pybabel update -i pipeline/render/locales/messages.pot -d pipeline/render/locales -l de --no-fuzzy-matching
	rm pipeline/render/locales/messages.pot

clean:
	rm -rf $(VENV) .tools newsletter.db outbox preview .pytest_cache .mypy_cache .ruff_cache
