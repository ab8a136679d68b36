# Helping Hands: `make run` starts everything, `make test` tests everything.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup run chat test chaos lint validate bench clean

$(INSTALLED): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh
	touch $(INSTALLED)

setup: $(INSTALLED)

run: setup
	$(PYTHON) -m assistant run

chat: setup
	$(PYTHON) -m assistant chat

validate: setup
	$(PYTHON) -m rasa data validate --domain nlu/domain.yml --data nlu/data \
		--config nlu/config.yml --fail-on-warnings

test: setup validate lint
	$(PYTHON) -m assistant seed
	$(PYTHON) -m assistant train
	$(PYTHON) -m pytest

# The fault and attack tests alone (they are part of `make test` too).
chaos: setup
	$(PYTHON) -m assistant seed
	$(PYTHON) -m assistant train
	$(PYTHON) -m pytest -m chaos

lint: setup
	$(VENV)/bin/ruff check assistant actions voice tests bench
	$(VENV)/bin/ruff format --check assistant actions voice tests bench

bench: setup
	$(PYTHON) -m assistant train
	$(PYTHON) -m bench

clean:
	rm -rf var/models .pytest_cache
