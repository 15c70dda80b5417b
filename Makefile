# Bybit options system. `make demo` runs everything locally against the bundled simulator,
# `make test` runs unit and end-to-end tests. System packages are installed when missing
# (Debian/Ubuntu, as root or with sudo).

SHELL := /bin/bash
CARGO ?= cargo
MODULE_DEBUG := target/debug/libredis_options.so
MODULE_RELEASE := target/release/libredis_options.so
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps assets build release test unit e2e fmt lint bench demo run clean help docker install-module

all: build

help:
	@echo "make demo    run redis + module, simulator and feeder locally (no internet needed)"
	@echo "make run     the same against live Bybit"
	@echo "make test    install what is missing, build, run unit and end-to-end tests"
	@echo "make build   debug build of the workspace (module: $(MODULE_DEBUG))"
	@echo "make release optimised build (module: $(MODULE_RELEASE))"
	@echo "make bench   benchmarks side by side; rewrites BENCHMARKS.md"
	@echo "make assets  npm ci in web/ (dashboard packages, embedded in options-web)"
	@echo "make lint    cargo fmt --check and clippy -D warnings"
	@echo "make docker  build the options-tracker image (docker compose up -d runs it)"

# Installs what is missing: redis-server, libclang (bindgen for the redis-module crate), wrk
# (benchmarks), Node.js + npm (the dashboard's front-end packages) and Chromium (browser tests).
deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null || missing="$$missing redis-tools"; \
	command -v redis-benchmark >/dev/null || missing="$$missing redis-tools"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || missing="$$missing libclang-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

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
	$(CARGO) test --workspace --lib --bins

e2e: build
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test -p options-tests

test: build
	$(CARGO) fmt --all -- --check
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_DEBUG) $(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: release
	OPTIONS_MODULE=$(CURDIR)/$(MODULE_RELEASE) $(CARGO) bench -p options-tests --bench module_query
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
