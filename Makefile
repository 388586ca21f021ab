# Two commands on a fresh machine: `make demo` and `make test`. Both install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench clean fuzz

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@bash scripts/system-deps.sh
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/markwatch demo

# pytest exits 5 when it collects no test; that is not a failure of the build.
test: install
	@bash scripts/services.sh
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# Property/fuzz tests with a large hypothesis budget (2000 examples per property; `make test`
# runs the same properties with 40). Readers, watchlist round trips, normaliser, location resolution.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_property_readers.py tests/test_property_watchlist.py $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var bench/out .pytest_cache
