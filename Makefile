# The two commands of the README: `make run` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# sam validate needs credentials and a region to load the SAM transform, never a network call.
SAM_ENV = AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
          AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

# checkov pins boto3 and packaging against aws-sam-cli's pins: it has a virtual environment
# of its own, reinstalled only when CHECKOV_VERSION changes.
CHECKOV_VERSION = 3.3.30
CHECKOV_VENV   ?= .venv-checkov
CHECKOV_STAMP   = $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# `make test` installs it in the background while lint, typecheck and the rest run (about
# 10 s on a fresh clone, nothing once installed); its output is in .checkov-install.log.
CHECKOV_BACKGROUND = .checkov-install

.PHONY: run test static lint typecheck contracts template checkov checkov-install-background \
        browser browser-install browser-install-background unit e2e bench clean

# Packages are installed by uv (from PyPI, like pip): 15 s on a fresh clone where pip takes 35,
# most of which it spent resolving and compiling on one core.
UV_VERSION = 0.13.9

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(CHECKOV_VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python \
	    --compile-bytecode 'checkov==$(CHECKOV_VERSION)'
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/python -m devstack

# The unit tests keep both cores busy; the e2e tests leave about a quarter of them idle
# (they wait on the stack's queues and streams), which the static checks then use: they run
# beside the e2e tests (-j2), their output kept whole (--output-sync).
test: checkov-install-background browser-install-background lint contracts unit
	@$(MAKE) --no-print-directory -j2 --output-sync=target e2e static

static: typecheck template checkov

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

checkov-install-background:
	@$(MAKE) --no-print-directory $(CHECKOV_STAMP) >$(CHECKOV_BACKGROUND).log 2>&1 & \
	  echo $$! >$(CHECKOV_BACKGROUND).pid

# No failed check; every skipped one is in its resource's Metadata (checkov: skip) with the
# reason. Waits for the background install if one runs; then installs if it is still
# missing (what `make checkov` alone does, or a failed background install shows).
checkov:
	@if [ -f $(CHECKOV_BACKGROUND).pid ]; then \
	  while kill -0 "$$(cat $(CHECKOV_BACKGROUND).pid)" 2>/dev/null; do sleep 1; done; \
	  rm -f $(CHECKOV_BACKGROUND).pid; fi
	$(MAKE) --no-print-directory $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet \
	    --skip-download  # no call to Prisma Cloud for guidelines: the same answer offline

# The console's browser test (tests/e2e/test_console.py) drives Debian's chromium; installed
# here when missing (a package registry, as root), never downloaded at run time. `make test`
# installs it in the background while the unit tests run (output in .browser-install.log).
BROWSER_BACKGROUND = .browser-install
browser:
	@if [ -f $(BROWSER_BACKGROUND).pid ]; then \
	  while kill -0 "$$(cat $(BROWSER_BACKGROUND).pid)" 2>/dev/null; do sleep 1; done; \
	  rm -f $(BROWSER_BACKGROUND).pid; fi
	@$(MAKE) --no-print-directory browser-install

browser-install:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
	  echo "installing Debian's chromium and chromium-driver for the console's browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null; }

browser-install-background:
	@$(MAKE) --no-print-directory browser-install >$(BROWSER_BACKGROUND).log 2>&1 & \
	  echo $$! >$(BROWSER_BACKGROUND).pid

# pytest exits 5 when it collected no test: a failure here too. Two runs: the e2e tests share
# one local stack per worker for the whole run, and moto's mock_aws (the other tests) resets
# every backend of its process, the local stack's tables included. loadfile keeps each test
# file on one worker.
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -m "not e2e"

e2e: $(STAMP) browser
	$(BIN)/pytest -n 2 --dist loadfile -m e2e

bench: $(STAMP)
	$(BIN)/python -m bench

# ------------------------------------------------------------------ sam build (docs/operations.md)
# SAM's makefile builder calls build-<LogicalId> with ARTIFACTS_DIR; samconfig.toml builds in
# source, so nothing of this checkout (.venv included) is copied first. A function ships only
# domain, infra and functions; third-party code is in two layers built once: boto3 and
# botocore are the runtime's own, stripe (about 23 MB) goes only to the function that charges.
# Bytecode is compiled for the runtime's Python 3.12 when one is here, else none is shipped.
PY312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12; do \
            "$$p" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
# the template's Architectures (arm64); bench/ builds the layers for this machine to run them
LAMBDA_PLATFORM ?= manylinux2014_aarch64
LAMBDA_PIP = $(PYTHON) -m pip install --quiet --no-compile --target "$(ARTIFACTS_DIR)/python" \
             --platform $(LAMBDA_PLATFORM) --only-binary=:all: --python-version 3.12
# what the runtime already has (botocore and its dependencies): shipped again, they only
# add size and cold-start time
RUNTIME_PROVIDED = boto3 botocore s3transfer dateutil python_dateutil six urllib3
# what infra/payments.py imports of stripe: the only stripe modules given bytecode
STRIPE_IMPORTS = import stripe; stripe.StripeClient("sk_build").v1.payment_intents; \
                 stripe.StripeClient("sk_build").v1.refunds; stripe.CardError

define compile_for_runtime
	$(if $(PY312),"$(PY312)" -m compileall -q -j 0 "$(1)" >/dev/null,@echo "no python3.12 here: no bytecode shipped")
endef

build-DependenciesLayer:
	$(PYTHON) -c 'import tomllib; print(*(d for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"] if not d.startswith(("boto3", "stripe"))), sep="\n")' \
	    > "$(ARTIFACTS_DIR)/requirements.txt"
	$(LAMBDA_PIP) -r "$(ARTIFACTS_DIR)/requirements.txt"
	cd "$(ARTIFACTS_DIR)/python" && rm -rf bin six.py \
	    $(foreach p,$(RUNTIME_PROVIDED),$(p) $(p)-*.dist-info)
	rm "$(ARTIFACTS_DIR)/requirements.txt"
	$(call compile_for_runtime,$(ARTIFACTS_DIR)/python)

# stripe/params (8 MB) holds TypedDicts its services import only under TYPE_CHECKING:
# nothing at run time reads them (tests/test_build.py charges and refunds without them)
build-StripeLayer:
	$(LAMBDA_PIP) "$$($(PYTHON) -c 'import tomllib; print(next(d for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"] if d.startswith("stripe")))')"
	cd "$(ARTIFACTS_DIR)/python" && rm -rf bin stripe/params
	$(if $(PY312),"$(PY312)" tools/compile_imported.py "$(ARTIFACTS_DIR)/python" '$(STRIPE_IMPORTS)')

build-%Function:
	mkdir -p "$(ARTIFACTS_DIR)"
	tar --exclude=__pycache__ --exclude=event_sourcing/testing -cf - event_sourcing domain infra functions | tar -xf - -C "$(ARTIFACTS_DIR)"
	$(call compile_for_runtime,$(ARTIFACTS_DIR))

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(CHECKOV_BACKGROUND).* $(BROWSER_BACKGROUND).* .mypy_cache \
	    .ruff_cache .aws-sam .devstack
