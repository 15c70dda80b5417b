# Multi-stage build: the workspace in a Rust image, then a slim runtime with redis-server, the
# module and the three binaries. `make docker` builds it as options-tracker:latest.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libclang-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The dashboard's front-end packages, pinned by web/package-lock.json, embedded by web/build.rs.
RUN cd web && npm ci --omit=dev --no-audit --no-fund
RUN cargo build --release --locked -p redis-options -p options-feeder -p options-web -p bybit-sim

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/libredis_options.so /usr/lib/redis/modules/libredis_options.so
COPY --from=build /src/target/release/options-feeder /src/target/release/options-web /src/target/release/bybit-sim /usr/local/bin/
COPY redis.conf /etc/redis/options.conf
# Default: Redis with the module; the compose file runs the other services from this image.
EXPOSE 6379 5001 8080 9100
CMD ["redis-server", "/etc/redis/options.conf", "--bind", "0.0.0.0", "--protected-mode", "no"]
