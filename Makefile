# Tidbok: `make run` sets up everything and starts the app; `make test` runs the whole suite.
# Both honour the environment variables of API.md (DATABASE_URL, HOST, PORT, EMAIL_HOST, …).

VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: run test install lint clean-data

run: install
	@scripts/run

test: install
	@scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

install: $(VENV)/.installed

# The virtualenv, rebuilt when the pinned requirements change.
$(VENV)/.installed: requirements.txt package-lock.json scripts/bootstrap
	@scripts/bootstrap
	@touch $@

clean-data:
	rm -rf data
