# Two commands do all the set-up on a fresh machine:
#   make run    the platform with demo data on SQLite, at http://127.0.0.1:5000
#   make test   the whole suite on SQLite and, when PostgreSQL is available, on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test lint test-sqlite test-postgres bench install translations system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# axe-core for the accessibility audit (tests/app/test_accessibility.py), pinned by its lock file and
# reinstalled whenever that changes.
A11Y := tests/a11y/node_modules/.package-lock.json
$(A11Y): tests/a11y/package-lock.json
	@command -v npm >/dev/null || scripts/system-deps.sh
	npm ci --prefix tests/a11y --no-audit --no-fund
	touch $@

install: $(VENV)/.installed translations $(A11Y)

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d voucher_app/translations

run: $(VENV)/.installed translations
	$(BIN)/voucher db upgrade
	$(BIN)/voucher demo
	@echo ""
	@echo "  Serving at http://$(HOST):$(PORT)  (Ctrl-C stops)"
	@echo "  Bureau admin: sign in at http://$(HOST):$(PORT)/staff/login as admin / admin-demo-2026 (viewer / viewer-demo-2026 reads reports)"
	@echo "  Shop owner:   shop1 / merchant-demo-2026     Cashier: cashier1 / cashier-demo-2026 (same page)"
	@echo "  Community worker (Lizhou): worker1 / worker-demo-2026 (same page; registers residents without a smartphone)"
	@echo "  Resident:     sign in at http://$(HOST):$(PORT)/login with any mobile number;"
	@echo "                the SMS code appears at http://$(HOST):$(PORT)/dev/outbox"
	@echo ""
	$(BIN)/voucher serve --host $(HOST) --port $(PORT) --with-scheduler

system-deps:
	@scripts/system-deps.sh

# SQLite and PostgreSQL side by side (scripts/test-both.sh): each run's output is printed when both end.
test: system-deps install lint
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test-both.sh

# The import contract (pyproject.toml, [tool.importlinter]): dependencies point one way. Then ruff:
# no unused or undefined names, imports sorted.
lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check voucher_app campaigns merchants tests bench migrations config.py

test-sqlite:
	@echo "== tests on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-postgres:
	@echo "== tests on PostgreSQL"
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Benchmarks print figures; they are not tests. BENCH_DATABASE_URL adds a PostgreSQL run (its schema is emptied).
bench: install
	@scripts/system-deps.sh wrk
	$(BIN)/python bench/claim_rush.py
	$(BIN)/python bench/redeem.py
	$(BIN)/python bench/tally.py
	@if [ -n "$$BENCH_DATABASE_URL" ]; then \
	  $(BIN)/python bench/claim_rush.py --database-url "$$BENCH_DATABASE_URL" && \
	  $(BIN)/python bench/redeem.py --database-url "$$BENCH_DATABASE_URL" && \
	  $(BIN)/python bench/tally.py --database-url "$$BENCH_DATABASE_URL"; fi

clean:
	rm -rf $(VENV) instance build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
