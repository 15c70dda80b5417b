#!/usr/bin/env bash
# Runs the whole system on this machine: a private redis-server with the module, the feeder
# (Bybit and Deribit), and (for `make demo`) the bundled simulator, which speaks both venues'
# APIs over one market. Ctrl-C stops everything.
#
#   scripts/demo.sh sim     # against bybit-sim (no internet needed)
#   scripts/demo.sh live    # against live Bybit
#
# Ports can be moved with REDIS_PORT, SIM_PORT and HEALTH_CHECK_PORT; VENUES=bybit streams
# Bybit alone.
set -euo pipefail

mode=${1:-sim}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release
redis_port=${REDIS_PORT:-6390}
sim_port=${SIM_PORT:-9100}
health_port=${HEALTH_CHECK_PORT:-8080}
web_port=${WEB_PORT:-5001}
data_api_port=${DATA_API_PORT:-8000}
run_dir=$root/target/demo
mkdir -p "$run_dir"

pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    echo "stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in options-feeder options-web bybit-sim libredis_options.so; do
    [ -e "$bin/$b" ] || { echo "missing $bin/$b: run 'make release'" >&2; exit 1; }
done
if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    echo "port $redis_port already has a Redis; set REDIS_PORT to another port" >&2
    exit 1
fi

# The same settings as redis.conf, with the module's absolute path (redis.conf's relative
# one would be resolved after --dir changes the working directory).
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir" \
    --loadmodule "$bin/libredis_options.so" --daemonize no --save "" --appendonly no \
    --maxmemory-policy noeviction --logfile "$run_dir/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

if [ "$mode" = sim ]; then
    "$bin/bybit-sim" --port "$sim_port" >"$run_dir/sim.log" 2>&1 &
    pids+=($!)
    rest=http://127.0.0.1:$sim_port
    ws=ws://127.0.0.1:$sim_port/v5/public/option
    deribit_rest=http://127.0.0.1:$sim_port/api/v2
    deribit_ws=ws://127.0.0.1:$sim_port/ws/api/v2
    assets=${OPTION_ASSETS:-BTC,ETH,SOL,XRP}
    for _ in $(seq 50); do curl -sf "$rest/sim/stats" >/dev/null 2>&1 && break; sleep 0.1; done
else
    rest=${BYBIT_REST_URL:-https://api.bybit.com}
    ws=${BYBIT_WS_URL:-wss://stream.bybit.com/v5/public/option}
    deribit_rest=${DERIBIT_REST_URL:-https://www.deribit.com/api/v2}
    deribit_ws=${DERIBIT_WS_URL:-wss://www.deribit.com/ws/api/v2}
    assets=${OPTION_ASSETS:-BTC,ETH,SOL}
fi

venues=${VENUES:-bybit,deribit}
"$bin/options-feeder" --redis-url "redis://127.0.0.1:$redis_port/" --rest-url "$rest" --ws-url "$ws" \
    --venues "$venues" --deribit-rest-url "$deribit_rest" --deribit-ws-url "$deribit_ws" \
    --assets "$assets" --health-port "$health_port" >"$run_dir/feeder.log" 2>&1 &
pids+=($!)

"$bin/options-web" --redis-url "redis://127.0.0.1:$redis_port/" --port "$web_port" \
    --data-api-port "$data_api_port" --bybit-rest-url "$rest" --assets "$assets" >"$run_dir/web.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do curl -sf "http://127.0.0.1:$health_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done

cat <<MSG

Running ($mode):
  redis-server + module  127.0.0.1:$redis_port        log: $run_dir/redis.log
$( [ "$mode" = sim ] && echo "  bybit-sim              $rest (control: POST $rest/sim/pause, /sim/fault/drop, ...)   log: $run_dir/sim.log" )
$( [ "$mode" = sim ] && echo "                         Deribit's side: $deribit_rest/public/get_instruments?currency=BTC   $deribit_ws" )
  options-feeder         http://127.0.0.1:$health_port/health  /ready  /metrics   log: $run_dir/feeder.log
  options-web            http://127.0.0.1:$web_port/api/stats   (API: /api/openapi.json)   log: $run_dir/web.log
                         data API (the seed's port 8000 shapes): http://127.0.0.1:$data_api_port/

Dashboard:  http://127.0.0.1:$web_port/        (chain view: http://127.0.0.1:$web_port/?asset=BTC&view=chain)

Try:
  curl 'http://127.0.0.1:$web_port/api/options/BTC?limit=5'
  curl -N 'http://127.0.0.1:$web_port/api/stream?assets=BTC'
  redis-cli -p $redis_port OPTIONS.STATS
  redis-cli -p $redis_port OPTIONS.EXPIRIES BTC
  redis-cli -p $redis_port OPTIONS.CHAIN BTC \$(redis-cli -p $redis_port OPTIONS.EXPIRIES BTC | head -1) FORMAT JSON
  redis-cli -p $redis_port OPTIONS.QUERY BTC TYPE CALL SORTBY volume_24h DESC LIMIT 0 10 FIELDS 3 mark_price mark_iv delta
  redis-cli -p $redis_port OPTIONS.QUERY deribit:BTC LIMIT 0 3 FIELDS 3 mark_price mark_iv settle   # Deribit's chain
  curl 'http://127.0.0.1:$web_port/api/analytics/BTC?venue=deribit'

Ctrl-C stops everything.
MSG

wait -n "${pids[@]}" || true
echo "a process exited unexpectedly; see the logs in $run_dir" >&2
exit 1
