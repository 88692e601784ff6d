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

# The one-folder application for workstations without Python (packaging/).
.PHONY: package package-test
PACKAGE_STAMP := $(VENV)/.package-installed
PACKAGED := dist/cervix-studio/cervix-studio
PACKAGE_SOURCES := $(shell find engine cervix_gui resources packaging -type f \
	\( -name '*.py' -o -name '*.spec' -o -path 'resources/*' \) \
	-not -path '*/__pycache__/*' 2>/dev/null)

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	BIN=$(BIN) bash packaging/build.sh

$(PACKAGED): $(PACKAGE_STAMP) $(PACKAGE_SOURCES)
	BIN=$(BIN) bash packaging/build.sh

package-test: $(PACKAGED)
	bash packaging/smoke_test.sh dist/cervix-studio
