# Two set-up commands: `make demo` and `make test`. Both create .venv/ and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

BQ_VENV := .venv-bqemulator
BQ_STAMP := $(BQ_VENV)/.installed

# checkov conflicts with python-hcl2 (a dev dependency), so it gets its own virtualenv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: infra-check demo test lint bench bench-emulators serve clean emulators bundle system-packages

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# bqemulator pins DuckDB 1.5.5 (the project uses DuckDB 2.x), so it gets its own
# virtualenv; its spatial extension is installed from PyPI, offline.
$(BQ_STAMP):
	test -d $(BQ_VENV) || $(PYTHON) -m venv $(BQ_VENV)
	$(BQ_VENV)/bin/pip install --quiet --upgrade pip
	$(BQ_VENV)/bin/pip install --quiet bqemulator==1.4.0 duckdb==1.5.5 \
		duckdb-extension-spatial==1.5.5 duckdb-extensions==1.5.5 numpy
	$(BQ_VENV)/bin/python -c "from duckdb_extensions import import_extension; import_extension('spatial')"
	touch $(BQ_STAMP)

$(CHECKOV_STAMP):
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==3.3.30
	touch $(CHECKOV_STAMP)

# Offline: formatting, then checkov's policies (a finding fails unless the resource skips
# it with `#checkov:skip=CKV_...: reason`).
infra-check: $(CHECKOV_STAMP)
	terraform fmt -check -recursive terraform
	$(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --skip-download --quiet --compact

# Debian's chromium (the dashboard preview's browser test) and poppler-utils (pdftoppm,
# the snapshot PDF's test), installed when missing (needs root, as on CI machines).
system-packages:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null || { \
		test "$$(id -u)" = 0 || { echo "error: install Debian's chromium and poppler-utils (apt-get install chromium poppler-utils)" >&2; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils >/dev/null; }; }

emulators: $(BQ_STAMP)
	@command -v gcloud >/dev/null || { echo "error: gcloud (Google Cloud SDK) is not installed: the Pub/Sub and Firestore emulators come with it" >&2; exit 1; }
	@test -x "$$(gcloud info --format='value(installation.sdk_root)')/platform/pubsub-emulator/bin/cloud-pubsub-emulator" || { echo "error: the Pub/Sub emulator is missing (gcloud components install pubsub-emulator)" >&2; exit 1; }
	@test -f "$$(gcloud info --format='value(installation.sdk_root)')/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar" || { echo "error: the Firestore emulator is missing (gcloud components install cloud-firestore-emulator)" >&2; exit 1; }
	@command -v java >/dev/null || { echo "error: java is missing: the Firestore and Pub/Sub emulators need it" >&2; exit 1; }

demo: $(STAMP)
	$(BIN)/mymedic demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check shared functions tests scripts
	$(BIN)/ruff format --check shared functions tests scripts
	$(BIN)/mypy

test: $(STAMP) emulators system-packages lint infra-check
	MYMEDIC_BQEMULATOR=$(CURDIR)/$(BQ_VENV)/bin/bqemulator $(BIN)/pytest -n 2 -q

bench: $(STAMP)
	@$(BIN)/python scripts/bench.py

bench-emulators: $(STAMP) emulators
	@MYMEDIC_BQEMULATOR=$(CURDIR)/$(BQ_VENV)/bin/bqemulator $(BIN)/python scripts/bench_emulators.py

# The Cloud Functions source: build/bundle/ and the deterministic build/function-source.zip.
bundle: $(STAMP)
	$(BIN)/python scripts/build_bundle.py $(if $(ZOHO_DIR),--zoho-dir $(ZOHO_DIR))

serve: $(STAMP)
	$(BIN)/mymedic serve

clean:
	rm -rf $(VENV) $(BQ_VENV) $(CHECKOV_VENV) $(OUT) var build .mypy_cache .ruff_cache .pytest_cache
