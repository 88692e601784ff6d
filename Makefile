# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample/sipakmed-synthetic

.PHONY: run test setup sample bench clean lint

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(SAMPLE)/.cervix/project.json: | $(STAMP)
	$(BIN)/cervix synth $(SAMPLE) --images-per-class 4 --seed 7

sample: $(SAMPLE)/.cervix/project.json

run: setup sample
	$(BIN)/cervix-gui $(SAMPLE)

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider

bench: setup
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) sample build dist *.egg-info
