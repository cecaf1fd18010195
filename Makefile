# Tidbok: `make run` sets up everything and starts the app; `make test` runs the whole suite.
# Both honour the environment variables of docs/api.md (DATABASE_URL, HOST, PORT, EMAIL_HOST, …).

VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest-xdist processes for `make test` (each with its own test database and live servers);
# TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
export HOST PORT

.PHONY: run test install lint clean-data bench bench-smoke faults cluster

run: install
	@scripts/run

test: install
	@scripts/ensure-chromium
	$(BIN)/ruff check .
	node_modules/.bin/eslint .
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The performance bench (docs/performance.md): needs PostgreSQL; loads its own database
# (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/tidbok_bench) once, then
# measures the production server. BENCH_ARGS="--duration 5" for a quicker run.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: install
	$(BIN)/python -m bench.run --smoke --url $${BENCH_SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tidbok_bench_smoke}

# The fault tests (SIGKILL of the server, mail server down, PostgreSQL restarted) and the
# cluster's (deploy/tests: PgBouncer, a replica, HAProxy, app servers and workers killed),
# bounded in time; they also run inside `make test` on PostgreSQL.
faults: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -q domain/tests/test_faults.py deploy/tests

# Past one machine, on this one (docs/deploy.md): a PostgreSQL primary and streaming replica,
# PgBouncer, Redis, two app servers behind HAProxy, two task workers, the scheduler, a mail
# server that prints; on loopback, until Ctrl-C. Needs the Debian packages postgresql,
# pgbouncer, haproxy, redis-server (installed when root). `make run` needs none of this.
cluster: install
	$(BIN)/python -m deploy.cluster

lint: install
	$(BIN)/ruff check .
	node_modules/.bin/eslint .

install: $(VENV)/.installed

# The virtualenv, rebuilt when the pinned requirements change.
$(VENV)/.installed: requirements.txt package-lock.json scripts/bootstrap
	@scripts/bootstrap
	@touch $@

clean-data:
	rm -rf data
