# sovready: `make run` serves the app, `make test` runs the tests. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test audit check-system bench report-png clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "sovready needs Python 3.11 or newer ($(PYTHON) is older)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

# WeasyPrint (the PDF renderer) needs the Pango libraries from the system.
check-system:
	@$(PYTHON) -c 'import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library("pango-1.0") and ctypes.util.find_library("pangoft2-1.0") else 1)' || \
		{ echo "Missing system libraries: WeasyPrint needs Pango."; \
		  echo "On Debian or Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0"; \
		  echo "Elsewhere: https://doc.courtbouillon.org/weasyprint/stable/first_steps.html"; exit 1; }

run: check-system $(STAMP)
	$(BIN)/sovready serve --host $(HOST) --port $(PORT) --instance instance

test: check-system $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Known vulnerabilities in the installed dependencies (pip-audit). Offline, it says that the
# audit did not run rather than pass as if it had.
audit: $(STAMP)
	$(BIN)/python .ci/audit

# Benchmarks print figures and ratios measured side by side; none is a pass/fail test.
bench: check-system $(STAMP)
	$(BIN)/python -m bench.scoring
	$(BIN)/python -m bench.cohorts
	$(BIN)/python -m bench.pdf
	$(BIN)/python -m bench.report_web
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.submission
	$(BIN)/python -m bench.submission --workshop
	$(BIN)/python -m bench.workshop
	$(BIN)/python -m bench.portfolio
	$(BIN)/python -m bench.writers
	$(BIN)/python -m bench.backup

# Render the example reports to PNG pages in out/ (needs pdftoppm from poppler-utils).
report-png: check-system $(STAMP)
	@command -v pdftoppm >/dev/null || { echo "pdftoppm is missing: sudo apt-get install poppler-utils"; exit 1; }
	@mkdir -p out
	@for example in examples/*.yaml; do \
		name=$$(basename $$example .yaml); \
		$(BIN)/sovready report $$example -o out/$$name.pdf && \
		pdftoppm -r 60 -png out/$$name.pdf out/$$name; \
	done
	@echo "PNG pages are in out/"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
