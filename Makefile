# Two commands on a fresh machine: `make demo` and `make test`. Both install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench clean

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

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var bench/out .pytest_cache
