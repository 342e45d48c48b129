# Two commands: `make run` serves the app on the shipped corpus; `make test` passes the tests.
# Both set everything up first (a virtual environment in .venv; Chromium for browser tests and
# PostgreSQL for the shared-store tests, from Debian).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA ?= data
HOST ?= 127.0.0.1
PORT ?= 8000

# The interface's catalogues: each language's messages.po, compiled here (never committed).
CATALOGUES := $(wildcard kb/locales/*/LC_MESSAGES/messages.po)

.PHONY: install run test test-fast bench eval clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch that lies on disk; an unpinned torch would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) $(CATALOGUES:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

# After changing what a page says: extract its words, then update every language's catalogue
# (new entries come empty; tests/search_app/test_catalogues.py fails until they are translated).
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k Message --no-location --sort-output \
		--add-comments=Translators: --project="Twin Cities knowledge base" \
		-o kb/locales/messages.pot .
	$(BIN)/pybabel -q update -i kb/locales/messages.pot -d kb/locales --no-fuzzy-matching \
		--ignore-obsolete

run: install
	$(BIN)/kb index --corpus corpus --data $(DATA)
	$(BIN)/kb serve --data $(DATA) --host $(HOST) --port $(PORT)

test: install
	bash scripts/ensure-debian.sh /usr/bin/chromium chromium /usr/bin/pdftotext poppler-utils \
		/usr/share/doc/libpangoft2-1.0-0 libpangoft2-1.0-0 '/usr/lib/postgresql/*/bin/initdb' postgresql
	bash scripts/ensure-axe.sh
	$(BIN)/python -m pytest -q
	# The same tests again with every knowledge base in PostgreSQL (KB_STORE), but for the
	# slow ones (real model, browser), whose PostgreSQL side tests/test_replicas.py covers.
	KB_TEST_STORE=postgresql $(BIN)/python -m pytest -q -m "not model and not browser"

test-fast: install
	$(BIN)/python -m pytest -q -m "not model and not browser"

bench: install
	bash scripts/ensure-debian.sh /usr/bin/wrk wrk '/usr/lib/postgresql/*/bin/initdb' postgresql
	$(BIN)/python -m bench

eval: install
	$(BIN)/python -m bench.eval

clean:
	rm -rf $(VENV) $(DATA) bench/out test-output .cache
