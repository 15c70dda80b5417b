# Bybit options system. `make demo` runs everything locally against the bundled simulator,
# `make test` runs unit and end-to-end tests. System packages are installed when missing
# (Debian/Ubuntu, as root or with sudo).

SHELL := /bin/bash
CARGO ?= cargo
MODULE_DEBUG := target/debug/libredis_options.so
MODULE_RELEASE := target/release/libredis_options.so
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps doctor assets build release test unit e2e fmt lint bench demo run clean help docker install-module

all: build

help:
	@echo "make demo    run redis + module, simulator and feeder locally (no internet needed)"
	@echo "make run     the same against live Bybit"
	@echo "make test    install what is missing, build, run unit and end-to-end tests"
	@echo "make build   debug build of the workspace (module: $(MODULE_DEBUG))"
	@echo "make release optimised build (module: $(MODULE_RELEASE))"
	@echo "make bench   benchmarks side by side; rewrites BENCHMARKS.md"
	@echo "make assets  npm ci in web/ (dashboard packages, embedded in options-web)"
	@echo "make deps    install the system packages of scripts/deps.sh that are missing"
	@echo "make doctor  check the tools the build and tests use (make test runs it first)"
	@echo "make lint    cargo fmt --check and clippy -D warnings"
	@echo "make docker  build the options-tracker image (docker compose up -d runs it)"

# Installs the packages of scripts/deps.sh (the one list, with the reason for each) that dpkg
# reports as not installed. `scripts/deps.sh list` prints them.
deps:
	@scripts/deps.sh install

# Checks that what the build, the tests and the benchmarks use is there and new enough: libclang
# for bindgen, redis-server >= 6.2, chromium, node >= 18, wrk, redis-benchmark.
doctor:
	@scripts/deps.sh doctor

# The dashboard's npm packages (web/package-lock.json), embedded into options-web at build time.
assets: web/node_modules/.package-lock.json

web/node_modules/.package-lock.json: web/package.json web/package-lock.json | deps
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: deps assets
	$(CARGO) build --workspace

release: deps assets
	$(CARGO) build --workspace --release

unit: build
	node --test tests/js/
	$(CARGO) test --workspace --lib --bins

e2e: build
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test -p options-tests

test: build doctor
	$(CARGO) fmt --all -- --check
	node --test tests/js/
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: release
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_query
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_analytics
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_history
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench feeder
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench web
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench dashboard

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
