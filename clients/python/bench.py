"""The client's overhead (issue 31): one expiry's rows as the raw command's bytes, as typed rows
(`Options.query`), and as a DataFrame (`.to_pandas()`), in alternating rounds on one
connection. Run by `tests/benches/python_client.rs`, which owns the server, the chain and the
BENCHMARKS.md section; prints the rounds' rates as JSON.

Usage: bench.py REDIS_URL KEY EXPIRY ROUNDS SECONDS"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import redis

from redis_options import Options


def rate(seconds: float, f: Callable[[], object]) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        f()
        n += 1
    return n / elapsed


def main() -> None:
    url, key, expiry, rounds, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    client: Any = redis.Redis.from_url(url)
    opts = Options(client)
    raw_args = ("OPTIONS.QUERY", key, "EXPIRY", expiry, "FORMAT", "JSON")
    reply = client.execute_command(*raw_args)
    page = opts.query(key, expiry=expiry)
    raw: list[float] = []
    typed: list[float] = []
    frame: list[float] = []
    for _ in range(rounds):
        raw.append(rate(seconds, lambda: client.execute_command(*raw_args)))
        typed.append(rate(seconds, lambda: opts.query(key, expiry=expiry)))
        frame.append(rate(seconds, lambda: opts.query(key, expiry=expiry).to_pandas()))
    out = {"bytes": len(reply), "rows": len(page.rows), "raw": raw, "typed": typed, "frame": frame}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
