"""The module's replies as Python types, decoded from `FORMAT JSON` (the same bytes under RESP2
and RESP3). A reply whose fields are not the ones named here is an error (`ReplyError`), never
read as a default: a module that changed its shape fails loudly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class OptionsError(Exception):
    """The module refused a command. `argument` names the argument at fault when the message
    does (`EXPIRY`, `RATE`, a symbol…)."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument


class ReplyError(OptionsError):
    """A reply this client does not understand (a module of another version)."""


#: The 24 numeric fields of a row, in the module's order.
NUMERIC_FIELDS: tuple[str, ...] = (
    "bid_price", "bid_size", "bid_iv", "ask_price", "ask_size", "ask_iv", "last_price",
    "high_price_24h", "low_price_24h", "mark_price", "index_price", "mark_iv",
    "underlying_price", "open_interest", "turnover_24h", "volume_24h", "total_volume",
    "total_turnover", "delta", "gamma", "vega", "theta", "predicted_delivery_price", "change_24h",
)
#: Every column of a full row, in order.
ROW_COLUMNS: tuple[str, ...] = (
    ("symbol", "underlying", "expiry", "expiry_ts", "strike", "type", "settle")
    + NUMERIC_FIELDS
    + ("updated_ms",)
)


class Contract(TypedDict, total=False):
    """One contract's row; `FIELDS` chooses the columns (`symbol` always). A field the exchange
    never sent is `None`."""

    symbol: str
    underlying: str
    expiry: str
    expiry_ts: int
    strike: float
    type: str
    settle: str
    bid_price: float | None
    bid_size: float | None
    bid_iv: float | None
    ask_price: float | None
    ask_size: float | None
    ask_iv: float | None
    last_price: float | None
    high_price_24h: float | None
    low_price_24h: float | None
    mark_price: float | None
    index_price: float | None
    mark_iv: float | None
    underlying_price: float | None
    open_interest: float | None
    turnover_24h: float | None
    volume_24h: float | None
    total_volume: float | None
    total_turnover: float | None
    delta: float | None
    gamma: float | None
    vega: float | None
    theta: float | None
    predicted_delivery_price: float | None
    change_24h: float | None
    updated_ms: int


def decode_json(raw: Any, command: str) -> Any:
    """A JSON bulk reply as Python values."""
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode()
    if not isinstance(raw, str):
        raise ReplyError(f"{command}: expected a JSON text, got {type(raw).__name__}")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ReplyError(f"{command}: reply is not JSON ({e})") from e


def expect_keys(obj: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """`obj` as a dict with exactly `keys`, else a `ReplyError` naming the difference."""
    if not isinstance(obj, dict):
        raise ReplyError(f"{what}: expected an object, got {type(obj).__name__}")
    got = set(obj)
    if got != set(keys):
        missing = sorted(set(keys) - got)
        extra = sorted(got - set(keys))
        raise ReplyError(f"{what}: reply not understood (missing {missing}, unknown {extra})")
    return cast(dict[str, Any], obj)


_KNOWN_COLUMNS = frozenset(ROW_COLUMNS)


def rows_of(obj: Any, what: str) -> list[Contract]:
    """A list of rows: each an object with a `symbol` and only known columns, all with the same
    columns (one reply's rows have the columns its `FIELDS` chose)."""
    if not isinstance(obj, list):
        raise ReplyError(f"{what}: expected a list of rows")
    if not obj:
        return []
    first = obj[0]
    if not isinstance(first, dict) or "symbol" not in first or not first.keys() <= _KNOWN_COLUMNS:
        raise ReplyError(f"{what}: a row not understood: {first!r}")
    columns = first.keys()
    for r in obj:
        if not isinstance(r, dict) or r.keys() != columns:
            raise ReplyError(f"{what}: a row not understood: {r!r}")
    return cast(list[Contract], obj)


def _frame(rows: list[Contract]) -> pd.DataFrame:
    """Rows as a DataFrame: one row per contract, `expiry` as a UTC timestamp (delivery at
    08:00), `strike` and the numbers as float64 (missing: NaN), the labels as categories. Built
    column by column, each converted once."""
    import numpy as np
    import pandas as pd

    numeric = set(NUMERIC_FIELDS) | {"strike"}
    times = {"expiry_ts": "expiry", "updated_ms": "updated"}
    data: dict[str, Any] = {}
    for c in (list(rows[0]) if rows else []):
        col = [r[c] for r in rows]  # type: ignore[literal-required]
        if c in numeric:
            data[c] = np.array([np.nan if v is None else v for v in col], dtype="float64")
        elif c in times:
            data[times[c]] = pd.to_datetime(np.array(col, dtype="int64"), unit="ms", utc=True)
        elif c in ("type", "settle", "underlying"):
            data[c] = pd.Categorical(col)
        else:
            data[c] = col
    # With `expiry_ts`, the `expiry` column is the timestamp (the code stays in `symbol`).
    return pd.DataFrame(data)


@dataclass(frozen=True)
class QueryPage:
    """`OPTIONS.QUERY`: the rows of a page and how many matched."""

    total: int
    offset: int
    limit: int | None
    rows: list[Contract]

    @staticmethod
    def decode(raw: Any) -> QueryPage:
        o = expect_keys(decode_json(raw, "OPTIONS.QUERY"), ("total", "offset", "limit", "data"), "OPTIONS.QUERY")
        return QueryPage(o["total"], o["offset"], o["limit"], rows_of(o["data"], "OPTIONS.QUERY"))

    def to_pandas(self) -> pd.DataFrame:
        return _frame(self.rows)


@dataclass(frozen=True)
class ChainLine:
    """One strike of a chain: its call and its put (`None` when not listed)."""

    strike: float
    settle: str
    call: Contract | None
    put: Contract | None


@dataclass(frozen=True)
class Chain:
    """`OPTIONS.CHAIN`: calls and puts of one expiry side by side."""

    underlying: str
    expiry: str
    expiry_ts: int
    underlying_price: float | None
    atm_strike: float | None
    lines: list[ChainLine]

    @staticmethod
    def decode(raw: Any) -> Chain:
        keys = ("underlying", "expiry", "expiry_ts", "underlying_price", "atm_strike", "strikes")
        o = expect_keys(decode_json(raw, "OPTIONS.CHAIN"), keys, "OPTIONS.CHAIN")
        lines = []
        for line in o["strikes"]:
            l = expect_keys(line, ("strike", "settle", "call", "put"), "OPTIONS.CHAIN strike")
            side = [rows_of([s], "OPTIONS.CHAIN")[0] if s is not None else None for s in (l["call"], l["put"])]
            lines.append(ChainLine(l["strike"], l["settle"], side[0], side[1]))
        return Chain(o["underlying"], o["expiry"], o["expiry_ts"], o["underlying_price"], o["atm_strike"], lines)

    def to_pandas(self) -> pd.DataFrame:
        """One row per contract of the chain."""
        return _frame([s for l in self.lines for s in (l.call, l.put) if s is not None])


@dataclass(frozen=True)
class Changes:
    """`OPTIONS.CHANGES`: rows changed after a cursor, removed symbols, the new cursor. With
    `reset`, `rows` is the whole chain and the caller starts over."""

    seq: int
    reset: bool
    rows: list[Contract]
    removed: list[str]

    @staticmethod
    def decode(raw: Any) -> Changes:
        o = expect_keys(decode_json(raw, "OPTIONS.CHANGES"), ("seq", "reset", "data", "removed"), "OPTIONS.CHANGES")
        return Changes(o["seq"], bool(o["reset"]), rows_of(o["data"], "OPTIONS.CHANGES"), list(o["removed"]))


class ChainStats(TypedDict):
    """`OPTIONS.STATS key`."""

    key: str
    contracts: int
    expired_pending: int
    expiries: int
    updates: int
    seq: int
    last_update_ms: int
    memory_bytes: int


class Svi(TypedDict):
    """Raw SVI: `w(k) = a + b·(ρ·(k − m) + sqrt((k − m)² + σ²))`."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float


_EXPIRY_FIGURES: tuple[str, ...] = (
    "expiry", "expiry_ts", "t", "forward", "atm_strike", "atm_iv", "call25_iv", "put25_iv",
    "call10_iv", "put10_iv", "rr25", "bf25", "rr10", "bf10", "oi_calls", "oi_puts",
    "volume_calls", "volume_puts", "pcr_oi", "pcr_volume", "max_pain", "gex", "notional_oi",
    "variance", "expected_move", "svi", "svi_rmse", "butterfly_arb", "calendar_arb",
)
_TOTALS: tuple[str, ...] = (
    "oi_calls", "oi_puts", "volume_calls", "volume_puts", "gex", "notional_oi", "pcr_oi", "pcr_volume",
)


@dataclass(frozen=True)
class Analytics:
    """`OPTIONS.ANALYTICS` (ANALYTICS.md): per-expiry figures, totals, tenors, the index and the
    volatility index. `expiries` and `tenors` keep the module's field names."""

    underlying: str
    now: int
    index: float | None
    vol_index: float | None
    totals: dict[str, float | None]
    tenors: list[dict[str, Any]]
    expiries: list[dict[str, Any]]
    strikes: list[dict[str, float]] | None = None

    @staticmethod
    def decode(raw: Any) -> Analytics:
        o = decode_json(raw, "OPTIONS.ANALYTICS")
        keys = ("underlying", "now", "index", "vol_index", "totals", "tenors", "expiries")
        o = expect_keys(o, keys + (("strikes",) if isinstance(o, dict) and "strikes" in o else ()), "OPTIONS.ANALYTICS")
        expect_keys(o["totals"], _TOTALS, "OPTIONS.ANALYTICS totals")
        for t in o["tenors"]:
            expect_keys(t, ("days", "atm_iv", "rr25", "bf25"), "OPTIONS.ANALYTICS tenor")
        for e in o["expiries"]:
            expect_keys(e, _EXPIRY_FIGURES, "OPTIONS.ANALYTICS expiry")
        return Analytics(
            o["underlying"], o["now"], o["index"], o["vol_index"], o["totals"], o["tenors"],
            o["expiries"], o.get("strikes"),
        )

    def tenor(self, days: int) -> dict[str, Any] | None:
        return next((t for t in self.tenors if t["days"] == days), None)

    def to_pandas(self) -> pd.DataFrame:
        """The term structure: one row per expiry (its figures; the SVI parameters as
        `svi_a` … `svi_sigma`), indexed by expiry time (UTC)."""
        import pandas as pd

        records = []
        for e in self.expiries:
            r = {k: v for k, v in e.items() if k != "svi"}
            for p in ("a", "b", "rho", "m", "sigma"):
                r[f"svi_{p}"] = e["svi"][p] if e["svi"] is not None else None
            records.append(r)
        df = pd.DataFrame.from_records(records)
        if len(df):
            df.index = pd.to_datetime(df.pop("expiry_ts"), unit="ms", utc=True)
            df.index.name = "expiry_time"
        return df


class SmileStrike(TypedDict):
    strike: float
    k: float
    iv: float
    fit_iv: float
    residual: float


@dataclass(frozen=True)
class Smile:
    """`OPTIONS.SMILE`: one expiry's fit and every strike against it (residual > 0: rich)."""

    underlying: str
    expiry: str
    t: float
    forward: float
    svi: Svi
    svi_rmse: float
    butterfly_arb: bool
    calendar_arb: bool
    strikes: list[SmileStrike] = field(default_factory=list)

    @staticmethod
    def decode(raw: Any) -> Smile:
        keys = ("underlying", "expiry", "t", "forward", "svi", "svi_rmse", "butterfly_arb", "calendar_arb", "strikes")
        o = expect_keys(decode_json(raw, "OPTIONS.SMILE"), keys, "OPTIONS.SMILE")
        expect_keys(o["svi"], ("a", "b", "rho", "m", "sigma"), "OPTIONS.SMILE svi")
        for s in o["strikes"]:
            expect_keys(s, ("strike", "k", "iv", "fit_iv", "residual"), "OPTIONS.SMILE strike")
        return Smile(
            o["underlying"], o["expiry"], o["t"], o["forward"], cast(Svi, o["svi"]), o["svi_rmse"],
            o["butterfly_arb"], o["calendar_arb"], cast(list[SmileStrike], o["strikes"]),
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per strike (the index), with `k`, `iv`, `fit_iv` and `residual`."""
        import pandas as pd

        df = pd.DataFrame.from_records([dict(s) for s in self.strikes])
        return df.set_index("strike") if len(df) else df


@dataclass(frozen=True)
class History:
    """`OPTIONS.HISTORY`: `points` are `[ts, value…]` in the order of `metrics`."""

    underlying: str
    metrics: list[str]
    points: list[list[float | None]]

    @staticmethod
    def decode(raw: Any) -> History:
        o = expect_keys(decode_json(raw, "OPTIONS.HISTORY"), ("underlying", "metrics", "points"), "OPTIONS.HISTORY")
        for p in o["points"]:
            if not isinstance(p, list) or len(p) != 1 + len(o["metrics"]):
                raise ReplyError(f"OPTIONS.HISTORY: a point not understood: {p!r}")
        return History(o["underlying"], list(o["metrics"]), o["points"])

    def to_pandas(self) -> pd.DataFrame:
        """One column per metric on a UTC DatetimeIndex (the samples' times)."""
        import pandas as pd

        index = pd.to_datetime([int(p[0] or 0) for p in self.points], unit="ms", utc=True)
        data = {m: [p[i + 1] for p in self.points] for i, m in enumerate(self.metrics)}
        df = pd.DataFrame(data, index=index, dtype="float64")
        df.index.name = "time"
        return df


@dataclass(frozen=True)
class ChangeEvent:
    """What `follow` yields: the whole chain (`reset`) or the rows that changed and the symbols
    removed, with the cursor after them."""

    seq: int
    reset: bool
    rows: list[Contract]
    removed: list[str]


#: The sums `OPTIONS.FLOW` reports, in the whole window and per expiry.
FLOW_SUMS: tuple[str, ...] = (
    "trades", "buy_volume", "sell_volume", "net_volume", "buy_premium", "sell_premium",
    "net_premium", "block_trades", "block_volume",
)


class FlowStrike(TypedDict):
    strike: float
    call_net_premium: float
    call_net_volume: float
    put_net_premium: float
    put_net_volume: float


@dataclass(frozen=True)
class Flow:
    """`OPTIONS.FLOW`: the sums of the trades in `[from_ms, to_ms]` (premium = size × price in USD,
    signed by the taker's side), per expiry, and with `by_strike` / `bucket` per strike and over
    time (`buckets`: `[start ms, net premium, block volume]`)."""

    underlying: str
    from_ms: int
    to_ms: int
    totals: dict[str, float]
    expiries: list[dict[str, Any]]
    strikes: list[FlowStrike] | None = None
    buckets: list[list[float]] | None = None

    @staticmethod
    def decode(raw: Any) -> Flow:
        o = decode_json(raw, "OPTIONS.FLOW")
        keys = ("underlying", "from", "to", *FLOW_SUMS, "expiries")
        optional = tuple(k for k in ("strikes", "buckets") if isinstance(o, dict) and k in o)
        o = expect_keys(o, keys + optional, "OPTIONS.FLOW")
        for e in o["expiries"]:
            expect_keys(e, ("expiry", *FLOW_SUMS), "OPTIONS.FLOW expiry")
        for s in o.get("strikes") or []:
            expect_keys(s, tuple(FlowStrike.__annotations__), "OPTIONS.FLOW strike")
        for b in o.get("buckets") or []:
            if not isinstance(b, list) or len(b) != 3:
                raise ReplyError(f"OPTIONS.FLOW: a bucket not understood: {b!r}")
        return Flow(
            o["underlying"], o["from"], o["to"], {k: o[k] for k in FLOW_SUMS}, o["expiries"],
            cast("list[FlowStrike] | None", o.get("strikes")), o.get("buckets"),
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per expiry (the index: its code), one column per sum."""
        import pandas as pd

        df = pd.DataFrame.from_records(self.expiries, columns=["expiry", *FLOW_SUMS])
        return df.set_index("expiry")

    def buckets_to_pandas(self) -> pd.DataFrame:
        """`net_premium` and `block_volume` on a UTC DatetimeIndex (the buckets' starts)."""
        import pandas as pd

        points = self.buckets or []
        index = pd.to_datetime([int(b[0]) for b in points], unit="ms", utc=True)
        df = pd.DataFrame({"net_premium": [b[1] for b in points], "block_volume": [b[2] for b in points]},
                          index=index, dtype="float64")
        df.index.name = "time"
        return df


class Trade(TypedDict, total=False):
    """One entry of a chain's tape (`{key}:trades`), as `OPTIONS.TRADE` wrote it: `entry` is the
    stream id, `price` USD, `iv` a fraction, `index` the index price at the trade."""

    entry: str
    id: str
    symbol: str
    side: str
    size: float
    price: float
    iv: float | None
    index: float | None
    block: bool
    liquidation: str | None
    ts: int


_TRADE_FIELDS = frozenset({"id", "symbol", "side", "size", "price", "iv", "index", "block", "liquidation", "ts"})


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, (bytes, bytearray)) else str(v)


@dataclass(frozen=True)
class Tape:
    """A chain's trades, oldest first."""

    trades: list[Trade]

    @staticmethod
    def decode(raw: Any) -> Tape:
        if not isinstance(raw, list):
            raise ReplyError("XRANGE: expected a list of entries")
        trades: list[Trade] = []
        for entry in raw:
            if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                raise ReplyError(f"XRANGE: an entry not understood: {entry!r}")
            eid, pairs = entry
            if isinstance(pairs, dict):
                fields = {_text(k): _text(v) for k, v in pairs.items()}
            else:
                flat = [_text(x) for x in pairs]
                fields = dict(zip(flat[::2], flat[1::2]))
            if not {"id", "symbol", "side", "size", "price", "ts"} <= fields.keys() or not fields.keys() <= _TRADE_FIELDS:
                raise ReplyError(f"a tape entry not understood: {fields!r}")
            trades.append(Trade(
                entry=_text(eid), id=fields["id"], symbol=fields["symbol"], side=fields["side"],
                size=float(fields["size"]), price=float(fields["price"]),
                iv=float(fields["iv"]) if fields.get("iv") else None,
                index=float(fields["index"]) if fields.get("index") else None,
                block=fields.get("block") == "1", liquidation=fields.get("liquidation"),
                ts=int(fields["ts"]),
            ))
        return Tape(trades)

    def to_pandas(self) -> pd.DataFrame:
        """One row per trade on a UTC DatetimeIndex (the trade's time), with `premium` (size ×
        price) and `notional` (size × index) in USD."""
        import numpy as np
        import pandas as pd

        t = self.trades
        df = pd.DataFrame({
            "entry": [x["entry"] for x in t],
            "id": [x["id"] for x in t],
            "symbol": [x["symbol"] for x in t],
            "side": pd.Categorical([x["side"] for x in t], categories=["buy", "sell"]),
            "size": np.array([x["size"] for x in t], dtype="float64"),
            "price": np.array([x["price"] for x in t], dtype="float64"),
            "iv": np.array([np.nan if x.get("iv") is None else x["iv"] for x in t], dtype="float64"),
            "index": np.array([np.nan if x.get("index") is None else x["index"] for x in t], dtype="float64"),
            "block": np.array([x["block"] for x in t], dtype="bool"),
            "liquidation": [x.get("liquidation") for x in t],
        }, index=pd.to_datetime([x["ts"] for x in t], unit="ms", utc=True))
        df["premium"] = df["size"] * df["price"]
        df["notional"] = df["size"] * df["index"]
        df.index.name = "time"
        return df
