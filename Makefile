# unbinder: `make demo` and `make test` do all set-up on a fresh machine, then run.
# Set-up is idempotent: a second run finds .venv and the browser ready and goes straight on.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
BROWSER_STAMP := $(VENV)/.browser-stamp

.PHONY: demo test lint bench setup browser clean docs dist i18n

demo: setup
	$(VENV)/bin/unbinder demo

test: setup
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check unbinder tests bench
	$(VENV)/bin/ruff format --check unbinder tests bench
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench

docs: setup
	$(PY) -m unbinder.cli.reference > docs/cli.md

# The words in every language (CONTRIBUTING.md, "Adding a language"): extract the English of the
# code, help, report template and data (and click's own words) into the template, merge it into
# each language's .po, compile the .mo that runs (both committed; tests/test_i18n.py checks them).
I18N := unbinder/i18n
i18n: setup
	$(PY) scripts/i18n.py
	$(VENV)/bin/pybabel update --domain unbinder --input-file $(I18N)/unbinder.pot \
		--output-dir $(I18N)/locale --width 100 --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile --domain unbinder --directory $(I18N)/locale --statistics

# The sdist and the wheel a user installs (README, "Install"): pipx install dist/unbinder-*.whl
dist: setup
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

setup: $(STAMP) $(BROWSER_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Same discovery order as the library (unbinder/browser/launch.py). When nothing is found:
# Playwright's download, then Debian/Ubuntu's chromium package when we are root, else a clear stop.
$(BROWSER_STAMP): $(STAMP)
	@./scripts/ensure-browser.sh $(VENV)
	@touch $(BROWSER_STAMP)

browser:
	@rm -f $(BROWSER_STAMP)
	@$(MAKE) --no-print-directory $(BROWSER_STAMP)

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
