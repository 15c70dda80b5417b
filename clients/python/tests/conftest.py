"""A real redis-server with the module loaded (`OPTIONS_MODULE`, else the workspace's debug
build), started for the tests, and a small BTC chain of two expiries written through the
client."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from redis_options import Options

ROOT = Path(__file__).resolve().parents[3]
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def code(day: dt.date) -> str:
    """An expiry as Bybit writes it: `26DEC26`."""
    return f"{day.day}{MONTHS[day.month - 1]}{day.year % 100:02d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    module = os.environ.get("OPTIONS_MODULE", str(ROOT / "target/debug/libredis_options.so"))
    if not Path(module).exists():
        pytest.fail(f"the module is not built: {module} (run `make build`)")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [os.environ.get("REDIS_SERVER", "redis-server"), "--port", str(port), "--save", "",
             "--dir", tmp, "--loadmodule", module, "history-interval", "60"],
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield url
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def opts(r: redis.Redis) -> Options:
    return Options(r)


#: The chain's expiries: about 20 and 45 days out (both sides of 30 days, for the index).
TODAY = dt.date.today()
NEAR, FAR = code(TODAY + dt.timedelta(days=20)), code(TODAY + dt.timedelta(days=45))
STRIKES = (90_000, 95_000, 100_000, 105_000, 110_000, 115_000, 120_000)


def smile_iv(strike: float, far: bool) -> float:
    """A smile: higher IV away from 100,000, the far expiry a little lower."""
    x = (strike - 100_000) / 100_000
    return 0.5 + 0.8 * x * x - 0.1 * x - (0.02 if far else 0.0)


def load_chain(opts: Options, updated_ms: int | None = None) -> None:
    """Both expiries, calls and puts, with quotes, IVs, deltas and open interest."""
    for expiry, far in ((NEAR, False), (FAR, True)):
        for k in STRIKES:
            for kind in ("C", "P"):
                iv = smile_iv(k, far)
                otm = (k - 100_000) if kind == "C" else (100_000 - k)
                price = max(50.0, 4_000.0 - 0.3 * otm)
                opts.ingest(
                    "BTC",
                    f"BTC-{expiry}-{k}-{kind}",
                    {
                        "bid_price": price - 10,
                        "ask_price": price + 10,
                        "mark_price": price,
                        "mark_iv": iv,
                        "delta": 0.5 - otm / 40_000 if kind == "C" else -0.5 + otm / 40_000,
                        "open_interest": 10 + k / 10_000,
                        "underlying_price": 100_050.0,
                        "index_price": 100_000.0,
                    },
                    updated_ms=updated_ms,
                )
