#!/usr/bin/env bash
# Property-based HTTP testing of options-web against its own OpenAPI document (schemathesis):
# starts a private redis-server with the module, bybit-sim, the feeder and the web server
# (debug builds), runs every check on every documented operation, stops everything.
#
#   scripts/api-fuzz.sh <schemathesis> [extra schemathesis arguments]
#
# Every check, every phase, every operation (the event stream read two events at a time,
# web/schemathesis.toml). Ports: API_FUZZ_BASE (default 6520) and up; API_FUZZ_EXAMPLES examples
# per operation and phase (default 100).
set -euo pipefail

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 <path to the schemathesis executable> [schemathesis arguments] (make test-api installs it)" >&2
    exit 2
fi
st=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/debug
base=${API_FUZZ_BASE:-6520}
redis_port=$base sim_port=$((base + 1)) health_port=$((base + 2)) web_port=$((base + 3))
run_dir=$root/target/api-fuzz
mkdir -p "$run_dir"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir" --save "" --appendonly no \
    --loadmodule "$bin/libredis_options.so" --logfile "$run_dir/redis.log" &
pids+=($!)
"$bin/bybit-sim" --port "$sim_port" >"$run_dir/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$sim_port/sim/stats" >/dev/null && break
    sleep 0.1
done
"$bin/options-feeder" --redis-url "redis://127.0.0.1:$redis_port/" --rest-url "http://127.0.0.1:$sim_port" \
    --ws-url "ws://127.0.0.1:$sim_port/v5/public/option" --assets BTC,ETH --health-port "$health_port" \
    >"$run_dir/feeder.log" 2>&1 &
pids+=($!)
"$bin/options-web" --redis-url "redis://127.0.0.1:$redis_port/" --port "$web_port" --data-api-port 0 \
    --bybit-rest-url "http://127.0.0.1:$sim_port" --assets BTC,ETH >"$run_dir/web.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$health_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done

# Run from run_dir, where schemathesis keeps its state.
cd "$run_dir"
"$st" --config-file "$root/web/schemathesis.toml" run "http://127.0.0.1:$web_port/api/openapi.json" \
    --checks all \
    --max-examples "${API_FUZZ_EXAMPLES:-100}" --request-timeout 10 --seed "${API_FUZZ_SEED:-1}" \
    --workers 1 "$@"
