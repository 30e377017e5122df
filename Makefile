# The two commands of the README: `make run` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# sam validate needs credentials and a region to load the SAM transform, never a network call.
SAM_ENV = AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
          AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

.PHONY: run test lint typecheck contracts template unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/python -m devstack

test: lint typecheck contracts template unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

template: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(SAM_ENV) $(BIN)/sam validate --template template.yaml
	$(SAM_ENV) $(BIN)/sam validate --lint --template template.yaml

# pytest exits 5 when it collected no test: a failure here too. loadfile keeps each test
# file on one worker, so the e2e module's local stack never overlaps a moto-mocked test.
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

# SAM's makefile builder: `sam build` calls build-<LogicalId> for every function.
build-%:
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -r domain infra functions "$(ARTIFACTS_DIR)/"
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
	    > "$(ARTIFACTS_DIR)/requirements.txt"
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" \
	    --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.12 \
	    -r "$(ARTIFACTS_DIR)/requirements.txt"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .aws-sam
