# The two set-up commands: `make demo` and `make test`. Each builds .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PRISM := .tools/prism/node_modules/.bin/prism
AXE := .tools/axe/node_modules/axe-core/axe.min.js

.PHONY: demo test test-full corpus lint typecheck screenshots chromium dovecot messages lock clean

# Every dependency at the version and hashes of requirements.lock, then the project itself.
# -qq: pip's own warnings about this machine's package mirrors are not the demo's output.
$(STAMP): pyproject.toml $(LOCK)
	@echo "Installing into $(VENV) from $(LOCK) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --upgrade pip
	@$(BIN)/pip install -qq --require-hashes -r $(LOCK)
	@$(BIN)/pip install -qq --no-deps -e .
	@touch $(STAMP)

# After changing the dependencies in pyproject.toml: pin them anew (docs/operations.md).
lock:
	test -x .tools/uv/bin/uv || ($(PYTHON) -m venv .tools/uv && .tools/uv/bin/pip install -qq uv)
	.tools/uv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --quiet -o $(LOCK)

demo: $(STAMP)
	$(BIN)/newsletter db upgrade
	$(BIN)/newsletter subscribers import subscribers/sample.csv --apply --consent-given-by "demo data"
	$(BIN)/newsletter collect
	$(BIN)/newsletter --dev preview --out preview
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

# axe-core, the accessibility checker tests/web/test_accessibility.py runs in Chromium.
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	mkdir -p .tools/axe
	cp tests/a11y/package.json tests/a11y/package-lock.json .tools/axe/
	cd .tools/axe && npm ci --ignore-scripts --no-audit --no-fund
	touch $(AXE)

test: lint typecheck chromium dovecot $(PRISM) $(AXE) corpus
	$(BIN)/pytest

# The same, with the fast feed path checked against all of feedparser's corpus, not a
# sample, axe-core over every page in both languages, and schemathesis at 100 examples an operation.
test-full: lint typecheck chromium dovecot $(PRISM) $(AXE) corpus
	CORPUS_FULL=1 A11Y_FULL=1 FUZZ_FULL=1 $(BIN)/pytest

# feedparser's own test corpus (from its sdist on PyPI) into .tools/, for tests/collect/test_fast_feed.py.
corpus: $(STAMP)
	@$(BIN)/python scripts/fetch_feedparser_corpus.py > /dev/null

# Headless Chromium: the layout and sign-up form tests, and the screenshots.
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Dovecot (IMAP and POP3): the bounce mailbox tests start one of their own (tests/bounces).
dovecot:
	@test -x /usr/sbin/dovecot -a -e /usr/lib/dovecot/imap -a -e /usr/lib/dovecot/pop3 || \
		(apt-get update && apt-get install -y dovecot-imapd dovecot-pop3d)

screenshots: $(STAMP) chromium
	$(BIN)/python scripts/screenshots.py

# After changing a translatable string: refresh the German catalog, then translate what is new.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location -o pipeline/render/locales/messages.pot .
	$(BIN)/pybabel update -i pipeline/render/locales/messages.pot -d pipeline/render/locales -l de --no-fuzzy-matching
	rm pipeline/render/locales/messages.pot

clean:
	rm -rf $(VENV) .tools newsletter.db outbox preview .pytest_cache .mypy_cache .ruff_cache
