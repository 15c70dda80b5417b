"""The client against a real server: typed results, DataFrames, following changes, errors that
name the argument, RESP3, asyncio, and the README's example."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import redis
import redis.asyncio

from redis_options import AsyncOptions, Options, OptionsError, ReplyError
from redis_options.types import QueryPage

from conftest import FAR, NEAR, ROOT, STRIKES, load_chain, smile_iv


def test_rows_come_back_typed_and_as_a_dataframe(opts: Options) -> None:
    load_chain(opts)
    page = opts.query("BTC", expiry=NEAR, type="call", sort_by="strike")
    assert page.total == len(STRIKES) and page.limit is None
    assert [r["strike"] for r in page.rows] == [float(k) for k in STRIKES]
    first = page.rows[0]
    assert first["symbol"] == f"BTC-{NEAR}-90000-C" and first["type"] == "call"
    assert first["mark_iv"] == pytest.approx(smile_iv(90_000, False))
    assert first["gamma"] is None, "a field never sent is None"
    df = page.to_pandas()
    assert str(df["strike"].dtype) == "float64"
    assert str(df["expiry"].dtype).startswith("datetime64") and str(df["expiry"].dt.tz) == "UTC"
    assert df["expiry"].iloc[0].hour == 8, "delivery at 08:00 UTC"
    assert str(df["type"].dtype) == "category"
    assert math.isnan(df["gamma"].iloc[0])
    # Paging, a filter, chosen fields.
    page = opts.query("BTC", type="put", strike_min=100_000, sort_by="strike", descending=True,
                      offset=1, limit=2, fields=["mark_iv"])
    assert page.total == 10 and page.limit == 2 and len(page.rows) == 2
    assert all(set(r) == {"symbol", "mark_iv"} for r in page.rows)
    shown = [int(r["symbol"].split("-")[2]) for r in page.rows]
    assert shown == sorted(shown, reverse=True) and shown[0] <= 120_000


def test_one_contract_a_chain_and_what_it_lists(opts: Options) -> None:
    load_chain(opts)
    row = opts.get("BTC", f"BTC-{NEAR}-100000-P", fields=["delta", "mark_iv"])
    assert row is not None and set(row) == {"symbol", "delta", "mark_iv"}
    assert opts.get("BTC", f"BTC-{NEAR}-130000-P") is None, "nil: no such contract"
    chain = opts.chain("BTC", NEAR)
    assert [l.strike for l in chain.lines] == [float(k) for k in STRIKES]
    assert chain.atm_strike == 100_000 and chain.underlying_price == 100_050
    assert all(l.call is not None and l.put is not None for l in chain.lines)
    assert len(chain.to_pandas()) == 2 * len(STRIKES)
    assert opts.expiries("BTC") == [NEAR, FAR]
    assert opts.strikes("BTC", NEAR) == [float(k) for k in STRIKES]
    stats = opts.stats("BTC")
    assert stats["contracts"] == 4 * len(STRIKES) and stats["key"] == "BTC"
    assert opts.delete("BTC", f"BTC-{NEAR}-90000-C") == 1
    assert opts.stats("BTC")["contracts"] == 4 * len(STRIKES) - 1


def test_figures_the_smile_and_a_day_of_history(opts: Options) -> None:
    minute = 60_000
    t0 = (int(time.time() * 1000) // minute) * minute
    load_chain(opts, updated_ms=t0)
    load_chain(opts, updated_ms=t0 + minute)
    now = t0 + 2 * minute
    a = opts.analytics("BTC", rate=0.01, now_ms=now)
    assert a.underlying == "BTC" and [e["expiry"] for e in a.expiries] == [NEAR, FAR]
    assert a.vol_index is not None and 30 < a.vol_index < 90
    assert a.tenor(30) is not None
    term = a.to_pandas()
    assert list(term["expiry"]) == [NEAR, FAR]
    assert isinstance(term.index, pd.DatetimeIndex) and str(term.index.tz) == "UTC"
    smile = opts.smile("BTC", NEAR, now_ms=now)
    assert smile is not None and smile.expiry == NEAR
    assert smile.svi == a.expiries[0]["svi"]
    frame = smile.to_pandas()
    assert list(frame.index) == [float(k) for k in STRIKES]
    assert (frame["residual"] - (frame["iv"] - frame["fit_iv"])).abs().max() < 1e-12
    assert opts.smile("BTC", "1JAN30") is None, "nil: no such expiry"
    h = opts.history("BTC", ["index", "vol_index"], from_ms=t0 - minute)
    day = h.to_pandas()
    assert isinstance(day.index, pd.DatetimeIndex) and str(day.index.tz) == "UTC"
    assert list(day.columns) == ["index", "vol_index"] and len(day) == 2
    assert day["index"].iloc[-1] == 100_000


def test_follow_yields_the_chain_then_its_changes(opts: Options, r: redis.Redis) -> None:
    load_chain(opts)
    stream = opts.follow("BTC", block_ms=2000)
    first = next(stream)
    assert first.reset and len(first.rows) == 4 * len(STRIKES)
    symbol = f"BTC-{FAR}-105000-C"
    writer = threading.Timer(0.2, lambda: Options(r).ingest("BTC", symbol, {"mark_price": 1234.5}))
    writer.start()
    change = next(stream)
    writer.join()
    assert not change.reset and [row["symbol"] for row in change.rows] == [symbol]
    assert change.rows[0]["mark_price"] == 1234.5 and change.seq > first.seq
    # A cursor from another incarnation of the key: a reset with the whole chain again.
    r.delete("BTC")
    load_chain(opts)
    again = next(stream)
    assert again.reset and len(again.rows) == 4 * len(STRIKES)


def test_errors_name_the_argument_and_are_never_none(opts: Options, r: redis.Redis) -> None:
    load_chain(opts)
    with pytest.raises(OptionsError) as e:
        opts.analytics("BTC", rate=5)
    assert e.value.argument == "RATE" and "RATE" in e.value.message
    with pytest.raises(OptionsError) as e:
        opts.query("BTC", expiry="31FEB26")
    assert e.value.argument is not None and "31FEB26" in e.value.message
    with pytest.raises(OptionsError) as e:
        opts.query("BTC", fields=["colour"])
    assert e.value.argument == "FIELDS" or "colour" in e.value.message
    with pytest.raises(ValueError, match="rate"):
        opts.analytics("BTC", rate=float("nan"))
    r.set("plain", "text")
    with pytest.raises(OptionsError, match="WRONGTYPE"):
        opts.query("plain")
    # A reply of another shape fails loudly.
    with pytest.raises(ReplyError):
        QueryPage.decode(b'{"total":1,"offset":0,"data":[]}')


def test_trades_the_flow_and_the_tape(opts: Options, redis_url: str) -> None:
    """Trades recorded with `trade`, summed by `flow` as the definitions say (premium = size ×
    price signed by the taker; notional = size × index), read back with `tape`."""
    now = int(time.time() * 1000)
    hour = 3_600_000
    sent = [
        # id, symbol, side, size, price, ts, iv, index, block
        ("t1", f"BTC-{NEAR}-100000-C", "buy", 2.0, 1500.0, now - 3 * hour, 0.52, 100_000.0, False),
        ("t2", f"BTC-{NEAR}-90000-P", "sell", 25.0, 800.0, now - 2 * hour, 0.6, 100_000.0, True),
        ("t3", f"BTC-{FAR}-110000-C", "buy", 0.5, 2000.0, now - hour, None, None, False),
    ]
    for tid, sym, side, size, price, ts, iv, index, block in sent:
        assert opts.trade("BTC", tid, sym, side, size, price, ts, iv=iv, index=index, block=block) is True
    assert opts.trade("BTC", "t2", sent[1][1], "sell", 25.0, 800.0, sent[1][5], block=True) is False, "resent"

    f = opts.flow("BTC", now_ms=now, by_strike=True, bucket=3600)
    buy = sum(size * price for _, _, side, size, price, *_ in sent if side == "buy")
    sell = sum(size * price for _, _, side, size, price, *_ in sent if side == "sell")
    assert f.underlying == "BTC" and (f.from_ms, f.to_ms) == (now - 86_400_000, now)
    assert f.totals["trades"] == 3
    assert f.totals["buy_premium"] == pytest.approx(buy) and f.totals["sell_premium"] == pytest.approx(sell)
    assert f.totals["net_premium"] == pytest.approx(buy - sell)
    assert f.totals["net_volume"] == pytest.approx(2.0 - 25.0 + 0.5)
    assert (f.totals["block_trades"], f.totals["block_volume"]) == (1, 25.0)
    by_expiry = f.to_pandas()
    assert list(by_expiry.index) == [NEAR, FAR]
    assert by_expiry.loc[NEAR, "net_premium"] == pytest.approx(3000.0 - 20_000.0)
    assert f.strikes is not None
    assert {s["strike"]: s["put_net_premium"] for s in f.strikes}[90_000.0] == pytest.approx(-20_000.0)
    series = f.buckets_to_pandas()
    assert isinstance(series.index, pd.DatetimeIndex) and str(series.index.tz) == "UTC" and series["block_volume"].sum() == 25.0
    assert series["net_premium"].sum() == pytest.approx(buy - sell)
    # A minimum notional leaves out the trade without an index price, one expiry the other.
    assert opts.flow("BTC", now_ms=now, min_notional=1).totals["trades"] == 2
    assert opts.flow("BTC", now_ms=now, expiry=FAR).totals["trades"] == 1

    tape = opts.tape("BTC")
    assert [t["id"] for t in tape.trades] == ["t1", "t2", "t3"]
    assert tape.trades[1]["block"] and tape.trades[2]["iv"] is None
    df = tape.to_pandas()
    assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert df.index[0].value // 1_000_000 == sent[0][5]
    assert df["premium"].tolist() == [3000.0, 20_000.0, 1000.0]
    assert df["notional"].iloc[0] == 200_000.0 and math.isnan(df["notional"].iloc[2])
    assert str(df["side"].dtype) == "category"
    assert [t["id"] for t in opts.tape("BTC", from_ms=now - 2 * hour, count=1).trades] == ["t2"]
    resp3 = Options(redis.Redis.from_url(redis_url, protocol=3))
    assert resp3.tape("BTC") == tape and resp3.flow("BTC", now_ms=now) == opts.flow("BTC", now_ms=now)

    # Refusals name what is wrong and record nothing.
    with pytest.raises(OptionsError) as e:
        opts.trade("BTC", "t9", f"BTC-{NEAR}-100000-C", "hold", 1.0, 1.0, now)
    assert e.value.argument == "side"
    with pytest.raises(OptionsError) as e:
        opts.trade("BTC", "t9", f"BTC-{NEAR}-100000-C", "buy", 1.0, 1.0, now, liquidation="X")
    assert e.value.argument == "LIQUIDATION"
    with pytest.raises(OptionsError) as e:
        opts.flow("BTC", bucket=0)
    assert e.value.argument == "BUCKET"
    assert len(opts.tape("BTC").trades) == 3


def test_resp3_connections_give_the_same_results(redis_url: str, opts: Options) -> None:
    load_chain(opts)
    resp3 = Options(redis.Redis.from_url(redis_url, protocol=3))
    assert resp3.query("BTC", expiry=FAR) == opts.query("BTC", expiry=FAR)
    now = int(time.time() * 1000)
    assert resp3.smile("BTC", FAR, now_ms=now) == opts.smile("BTC", FAR, now_ms=now)


def test_asyncio(redis_url: str, opts: Options) -> None:
    load_chain(opts)

    async def main() -> tuple[int, bool]:
        client = redis.asyncio.Redis.from_url(redis_url)
        aopts = AsyncOptions(client)
        page = await aopts.query("BTC", expiry=NEAR)
        follow = aopts.follow("BTC")
        first = await follow.__anext__()
        await client.aclose()
        return page.total, first.reset

    assert asyncio.run(main()) == (2 * len(STRIKES), True)


def test_the_readme_example_runs(redis_url: str, opts: Options) -> None:
    load_chain(opts)
    now = int(time.time() * 1000)
    opts.trade("BTC", "a", f"BTC-{NEAR}-100000-C", "buy", 1.0, 1500.0, now - 60_000, index=100_000.0)
    opts.trade("BTC", "b", f"BTC-{FAR}-90000-P", "sell", 30.0, 900.0, now - 30_000, index=100_000.0, block=True)
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python client"):]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example, "the README has a Python example"
    os.environ["REDIS_URL"] = redis_url
    scope: dict[str, object] = {}
    exec(compile(example.group(1), "README.md", "exec"), scope)
    smile = scope["smile"]
    assert isinstance(smile, pd.DataFrame) and len(smile) == len(STRIKES)
    term = scope["term"]
    assert isinstance(term, pd.DataFrame) and list(term["expiry"]) == [NEAR, FAR]
    day = scope["day"]
    assert isinstance(day, pd.DataFrame) and isinstance(day.index, pd.DatetimeIndex)
    flow = scope["flow"]
    assert isinstance(flow, pd.DataFrame) and list(flow.index) == [NEAR, FAR]
    assert flow.loc[FAR, "net_premium"] == -27_000.0 and flow.loc[FAR, "block_volume"] == 30.0
    blocks = scope["blocks"]
    assert isinstance(blocks, pd.DataFrame) and list(blocks["symbol"]) == [f"BTC-{FAR}-90000-P"]


def test_values_sent_as_the_exact_floats(opts: Options) -> None:
    v = 0.1 + 0.2
    opts.ingest("BTC", f"BTC-{NEAR}-100000-C", {"mark_price": v})
    row = opts.get("BTC", f"BTC-{NEAR}-100000-C")
    assert row is not None and row["mark_price"] == v
    with pytest.raises(ValueError, match="values"):
        opts.ingest("BTC", f"BTC-{NEAR}-100000-C", {})
    assert Path(__file__).exists()


class _NoBlockClient:
    """A server whose OPTIONS.CHANGES has no BLOCK (an older module): refuses it, answers the
    plain read."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.replies = [
            b'{"seq":5,"reset":true,"data":[{"symbol":"BTC-1JAN30-1-C"}],"removed":[]}',
            b'{"seq":5,"reset":false,"data":[],"removed":[]}',
            b'{"seq":6,"reset":false,"data":[],"removed":["BTC-1JAN30-1-C"]}',
        ]

    def execute_command(self, *args: object) -> object:
        self.calls.append(args)
        if "BLOCK" in args:
            raise redis.ResponseError("ERR unknown keyword 'BLOCK' for 'OPTIONS.CHANGES'")
        return self.replies.pop(0)


def test_follow_polls_a_server_without_the_blocking_read() -> None:
    stub = _NoBlockClient()
    events = Options(stub).follow("BTC", poll_interval=0.01)
    first, second = next(events), next(events)
    assert first.reset and first.rows[0]["symbol"] == "BTC-1JAN30-1-C"
    assert not second.reset and second.removed == ["BTC-1JAN30-1-C"] and second.seq == 6
    assert sum("BLOCK" in c for c in stub.calls) == 1, "asked once, then polled"
    assert [c[2] for c in stub.calls[1:]] == [0, 5, 5], "each read from the last cursor"


def cluster_ports(n: int) -> list[int]:
    """`n` ports whose cluster bus ports (10,000 above) are free too: a node whose bus port is
    taken, or above 65535, does not start."""
    import random
    import socket

    def free(p: int) -> bool:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return True
            except OSError:
                return False

    out: list[int] = []
    while len(out) < n:
        p = random.randrange(20_000, 50_000)
        if p not in out and free(p) and free(p + 10_000):
            out.append(p)
    return out


def test_a_cluster_routes_every_command_by_its_key(tmp_path: Path) -> None:
    """Three masters; chains of two underlyings land on their slots' nodes."""
    from redis.cluster import RedisCluster

    module = os.environ.get("OPTIONS_MODULE", str(ROOT / "target/debug/libredis_options.so"))
    server = os.environ.get("REDIS_SERVER", "redis-server")
    ports = cluster_ports(3)
    procs = [
        subprocess.Popen(
            [server, "--port", str(p), "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{p}.conf",
             "--dir", str(tmp_path), "--save", "", "--loadmodule", module],
            stdout=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        for p in ports:
            deadline = time.monotonic() + 10
            while True:
                try:
                    redis.Redis(host="127.0.0.1", port=p).ping()
                    break
                except redis.ConnectionError:
                    assert time.monotonic() < deadline, "a cluster node did not start"
                    time.sleep(0.05)
        subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-yes"],
            check=True, capture_output=True,
        )
        deadline = time.monotonic() + 20
        while redis.Redis(host="127.0.0.1", port=ports[0]).cluster("INFO")["cluster_state"] != "ok":
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.1)
        opts = Options(RedisCluster(host="127.0.0.1", port=ports[0]))
        load_chain(opts)
        for k in (90_000, 100_000):
            opts.ingest("ETH", f"ETH-{NEAR}-{k // 30}-C", {"mark_price": 10.0})
        assert opts.query("BTC", expiry=NEAR).total == 2 * len(STRIKES)
        assert opts.query("ETH").total == 2
        assert opts.stats("ETH")["contracts"] == 2
        assert opts.smile("BTC", NEAR) is not None
        first = next(opts.follow("ETH"))
        assert first.reset and len(first.rows) == 2
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


def test_follow_resumes_from_its_cursor_after_the_connection_drops(redis_url: str, opts: Options) -> None:
    load_chain(opts)
    follower = redis.Redis.from_url(redis_url)
    stream = Options(follower).follow("BTC", block_ms=5000, reconnect_delay=0.05)
    assert next(stream).reset
    admin = redis.Redis.from_url(redis_url)
    symbol = f"BTC-{NEAR}-95000-P"

    def drop_then_write() -> None:
        time.sleep(0.2)
        admin.client_kill_filter(_type="normal", skipme=True)
        time.sleep(0.2)
        Options(admin).ingest("BTC", symbol, {"mark_price": 77.0})

    t = threading.Thread(target=drop_then_write)
    t.start()
    change = next(stream)
    t.join()
    assert not change.reset, "the cursor survived the reconnect: no reset"
    assert [r["symbol"] for r in change.rows] == [symbol]
