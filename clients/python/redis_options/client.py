"""`Options`: the module's commands as methods of a redis-py client (standalone, Cluster or,
with `AsyncOptions`, asyncio). Every read asks for `FORMAT JSON`, so RESP2 and RESP3
connections give the same typed results. A module error is an `OptionsError` naming the
argument at fault; `None` only means what the command means by nil (no such contract, no fit,
no change before a timeout)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import redis
import redis.asyncio

from .types import (
    Analytics,
    Chain,
    ChainStats,
    ChangeEvent,
    Changes,
    Contract,
    Flow,
    History,
    OptionsError,
    QueryPage,
    ReplyError,
    Smile,
    Tape,
    decode_json,
    expect_keys,
    rows_of,
)

T = TypeVar("T")

#: Keywords an error message may name; the first one it contains is the argument at fault.
_KEYWORDS = (
    "STRIKE_MIN", "STRIKE_MAX", "EXPIRY", "TYPE", "STRIKE", "SETTLE", "SORTBY", "LIMIT", "FIELDS",
    "FORMAT", "BLOCK", "RATE", "NOW", "METRIC", "TENOR", "FROM", "TO", "BYSTRIKE", "since-seq",
    "BUCKET", "MIN_NOTIONAL", "IV", "INDEX", "LIQUIDATION",
)


def _argument_of(message: str) -> str | None:
    for k in _KEYWORDS:
        if re.search(rf"(?<![A-Za-z_]){re.escape(k)}(?![A-Za-z_])", message):
            return k
    for word in ("expiry", "symbol", "field", "metric", "trade id", "side", "size", "price", "ts"):
        if re.search(rf"\b{word}\b", message.lower()):
            return word
    return None


def _refused(e: redis.ResponseError) -> OptionsError:
    message = str(e)
    return OptionsError(message, _argument_of(message))


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One command: its arguments and how its reply becomes a result."""

    args: list[Any]
    decode: Callable[[Any], T]


def _number(name: str, v: float) -> str:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    return repr(float(v)) if isinstance(v, float) else str(v)


def _fields(fields: Sequence[str] | None) -> list[Any]:
    return ["FIELDS", len(fields), *fields] if fields else []


def _expiries(expiries: str | Sequence[str] | None) -> list[Any]:
    if expiries is None:
        return []
    if isinstance(expiries, str):
        expiries = [expiries]
    return ["EXPIRY", *expiries] if expiries else []


def _optional(keyword: str, value: Any) -> list[Any]:
    return [] if value is None else [keyword, value]


def _nil_or(decode: Callable[[Any], T]) -> Callable[[Any], T | None]:
    return lambda raw: None if raw is None else decode(raw)


def _strings(command: str) -> Callable[[Any], list[str]]:
    def decode(raw: Any) -> list[str]:
        v = decode_json(raw, command)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ReplyError(f"{command}: expected a list of texts")
        return v
    return decode


class _Commands:
    """The argument lists and decoders of every command, shared by the sync and async clients."""

    @staticmethod
    def ingest(key: str, symbol: str, values: dict[str, float], *, no_history: bool = False,
               updated_ms: int | None = None) -> _Call[int]:
        if not values:
            raise ValueError("values: give at least one field")
        args: list[Any] = ["OPTIONS.INGEST", key, *(["NOHISTORY"] if no_history else []), symbol]
        for name, v in values.items():
            args += [name, _number(name, v)]
        if updated_ms is not None:
            args += ["updated_ms", int(updated_ms)]
        return _Call(args, int)

    @staticmethod
    def delete(key: str, symbols: Sequence[str]) -> _Call[int]:
        if not symbols:
            raise ValueError("symbols: give at least one symbol")
        return _Call(["OPTIONS.DEL", key, *symbols], int)

    @staticmethod
    def purge(key: str, now_ms: int | None = None) -> _Call[int]:
        return _Call(["OPTIONS.PURGE", key, *_optional("NOW", now_ms)], int)

    @staticmethod
    def query(key: str, *, expiry: str | Sequence[str] | None = None, type: str | None = None,
              strike: float | None = None, strike_min: float | None = None,
              strike_max: float | None = None, settle: str | None = None,
              sort_by: str | None = None, descending: bool = False,
              offset: int = 0, limit: int | None = None,
              fields: Sequence[str] | None = None) -> _Call[QueryPage]:
        args: list[Any] = ["OPTIONS.QUERY", key, *_expiries(expiry), *_optional("TYPE", type)]
        for kw, v in (("STRIKE", strike), ("STRIKE_MIN", strike_min), ("STRIKE_MAX", strike_max)):
            if v is not None:
                args += [kw, _number(kw.lower(), v)]
        args += _optional("SETTLE", settle)
        if sort_by is not None:
            args += ["SORTBY", sort_by, "DESC" if descending else "ASC"]
        if limit is not None:
            args += ["LIMIT", offset, limit]
        return _Call(args + _fields(fields) + ["FORMAT", "JSON"], QueryPage.decode)

    @staticmethod
    def get(key: str, symbol: str, fields: Sequence[str] | None = None) -> _Call[Contract | None]:
        def decode(raw: Any) -> Contract:
            return rows_of([decode_json(raw, "OPTIONS.GET")], "OPTIONS.GET")[0]
        return _Call(["OPTIONS.GET", key, symbol, *_fields(fields), "FORMAT", "JSON"], _nil_or(decode))

    @staticmethod
    def chain(key: str, expiry: str, *, settle: str | None = None,
              fields: Sequence[str] | None = None) -> _Call[Chain]:
        args = ["OPTIONS.CHAIN", key, expiry, *_optional("SETTLE", settle), *_fields(fields), "FORMAT", "JSON"]
        return _Call(args, Chain.decode)

    @staticmethod
    def expiries(key: str) -> _Call[list[str]]:
        return _Call(["OPTIONS.EXPIRIES", key, "FORMAT", "JSON"], _strings("OPTIONS.EXPIRIES"))

    @staticmethod
    def strikes(key: str, expiry: str | None = None) -> _Call[list[float]]:
        texts = _strings("OPTIONS.STRIKES")
        args = ["OPTIONS.STRIKES", key, *_optional("EXPIRY", expiry), "FORMAT", "JSON"]
        return _Call(args, lambda raw: [float(s) for s in texts(raw)])

    @staticmethod
    def changes(key: str, since: int, *, fields: Sequence[str] | None = None,
                block: int | None = None) -> _Call[Changes | None]:
        args = ["OPTIONS.CHANGES", key, int(since), *_fields(fields), *_optional("BLOCK", block), "FORMAT", "JSON"]
        return _Call(args, _nil_or(Changes.decode))

    @staticmethod
    def stats(key: str) -> _Call[ChainStats]:
        keys = ("key", "contracts", "expired_pending", "expiries", "updates", "seq", "last_update_ms", "memory_bytes")

        def decode(raw: Any) -> ChainStats:
            return expect_keys(decode_json(raw, "OPTIONS.STATS"), keys, "OPTIONS.STATS")  # type: ignore[return-value]
        return _Call(["OPTIONS.STATS", key, "FORMAT", "JSON"], decode)

    @staticmethod
    def analytics(key: str, *, expiry: str | Sequence[str] | None = None, settle: str | None = None,
                  by_strike: bool = False, rate: float | None = None,
                  now_ms: int | None = None) -> _Call[Analytics]:
        args: list[Any] = ["OPTIONS.ANALYTICS", key, *_expiries(expiry), *_optional("SETTLE", settle)]
        if by_strike:
            args.append("BYSTRIKE")
        if rate is not None:
            args += ["RATE", _number("rate", rate)]
        return _Call(args + _optional("NOW", now_ms) + ["FORMAT", "JSON"], Analytics.decode)

    @staticmethod
    def smile(key: str, expiry: str, *, settle: str | None = None, rate: float | None = None,
              now_ms: int | None = None) -> _Call[Smile | None]:
        args: list[Any] = ["OPTIONS.SMILE", key, expiry, *_optional("SETTLE", settle)]
        if rate is not None:
            args += ["RATE", _number("rate", rate)]
        return _Call(args + _optional("NOW", now_ms) + ["FORMAT", "JSON"], _nil_or(Smile.decode))

    @staticmethod
    def history(key: str, metrics: str | Sequence[str], *, tenor: int | None = None,
                expiry: str | None = None, from_ms: int | None = None,
                to_ms: int | None = None) -> _Call[History]:
        if isinstance(metrics, str):
            metrics = [metrics]
        if not metrics:
            raise ValueError("metrics: give at least one metric")
        if tenor is not None and expiry is not None:
            raise ValueError("tenor and expiry: give one of them, not both")
        args: list[Any] = ["OPTIONS.HISTORY", key]
        for m in metrics:
            args += ["METRIC", m]
        args += _optional("TENOR", tenor) + _optional("EXPIRY", expiry)
        args += _optional("FROM", from_ms) + _optional("TO", to_ms)
        return _Call(args + ["FORMAT", "JSON"], History.decode)


    @staticmethod
    def trade(key: str, trade_id: str, symbol: str, side: str, size: float, price: float, ts: int, *,
              iv: float | None = None, index: float | None = None, block: bool = False,
              liquidation: str | None = None) -> _Call[bool]:
        args: list[Any] = ["OPTIONS.TRADE", key, trade_id, symbol, side, _number("size", size),
                           _number("price", price), int(ts)]
        if iv is not None:
            args += ["IV", _number("iv", iv)]
        if index is not None:
            args += ["INDEX", _number("index", index)]
        if block:
            args.append("BLOCK")
        args += _optional("LIQUIDATION", liquidation)
        return _Call(args, lambda raw: int(raw) == 1)

    @staticmethod
    def flow(key: str, *, expiry: str | Sequence[str] | None = None, from_ms: int | None = None,
             to_ms: int | None = None, by_strike: bool = False, bucket: int | None = None,
             min_notional: float | None = None, now_ms: int | None = None) -> _Call[Flow]:
        args: list[Any] = ["OPTIONS.FLOW", key, *_expiries(expiry)]
        args += _optional("FROM", from_ms) + _optional("TO", to_ms)
        if by_strike:
            args.append("BYSTRIKE")
        args += _optional("BUCKET", bucket)
        if min_notional is not None:
            args += ["MIN_NOTIONAL", _number("min_notional", min_notional)]
        return _Call(args + _optional("NOW", now_ms) + ["FORMAT", "JSON"], Flow.decode)

    @staticmethod
    def tape(key: str, *, from_ms: int | None = None, to_ms: int | None = None,
             count: int | None = None) -> _Call[Tape]:
        lo = "-" if from_ms is None else str(int(from_ms))
        hi = "+" if to_ms is None else str(int(to_ms))
        args: list[Any] = ["XRANGE", "{" + key + "}:trades", lo, hi, *_optional("COUNT", count)]
        return _Call(args, Tape.decode)


class _Following:
    """What `follow` keeps between reads: its cursor, and whether the server has the blocking
    read (a module without it refuses `BLOCK`: then it polls)."""

    def __init__(self, since: int, block_ms: int) -> None:
        self.cursor, self.block_ms, self.blocking = since, block_ms, True

    def block(self) -> int | None:
        return self.block_ms if self.blocking else None

    def refused(self, e: OptionsError) -> None:
        """A refusal of `BLOCK` switches to polling; any other is the caller's to see."""
        if self.blocking and e.argument == "BLOCK":
            self.blocking = False
        else:
            raise e

    def take(self, ch: Changes | None) -> ChangeEvent | None:
        """The event of a reply (moving the cursor), or `None`: a timeout, or nothing new."""
        if ch is None or not (ch.reset or ch.rows or ch.removed):
            return None
        self.cursor = ch.seq
        return ChangeEvent(ch.seq, ch.reset, ch.rows, ch.removed)


class Options:
    """The module's commands on a redis-py client (`redis.Redis` or `redis.cluster.RedisCluster`).

    >>> opts = Options(redis.Redis())
    >>> opts.query("BTC", expiry="26DEC26", type="call").to_pandas()
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def _run(self, call: _Call[T]) -> T:
        try:
            raw = self.client.execute_command(*call.args)
        except redis.ResponseError as e:
            raise _refused(e) from e
        return call.decode(raw)

    def ingest(self, key: str, symbol: str, values: dict[str, float], *, no_history: bool = False,
               updated_ms: int | None = None) -> int:
        """Upserts one contract's fields; 1 when the contract is new."""
        return self._run(_Commands.ingest(key, symbol, values, no_history=no_history, updated_ms=updated_ms))

    def delete(self, key: str, *symbols: str) -> int:
        return self._run(_Commands.delete(key, symbols))

    def purge(self, key: str, now_ms: int | None = None) -> int:
        return self._run(_Commands.purge(key, now_ms))

    def query(self, key: str, **kw: Any) -> QueryPage:
        """Filters, sorts and pages inside Redis (`expiry`, `type`, `strike`, `strike_min`,
        `strike_max`, `settle`, `sort_by`, `descending`, `offset`, `limit`, `fields`)."""
        return self._run(_Commands.query(key, **kw))

    def get(self, key: str, symbol: str, fields: Sequence[str] | None = None) -> Contract | None:
        return self._run(_Commands.get(key, symbol, fields))

    def chain(self, key: str, expiry: str, *, settle: str | None = None,
              fields: Sequence[str] | None = None) -> Chain:
        return self._run(_Commands.chain(key, expiry, settle=settle, fields=fields))

    def expiries(self, key: str) -> list[str]:
        return self._run(_Commands.expiries(key))

    def strikes(self, key: str, expiry: str | None = None) -> list[float]:
        return self._run(_Commands.strikes(key, expiry))

    def changes(self, key: str, since: int, *, fields: Sequence[str] | None = None,
                block: int | None = None) -> Changes | None:
        """Rows changed after `since`; with `block` (ms) waits for a change, `None` on timeout."""
        return self._run(_Commands.changes(key, since, fields=fields, block=block))

    def stats(self, key: str) -> ChainStats:
        return self._run(_Commands.stats(key))

    def analytics(self, key: str, **kw: Any) -> Analytics:
        """`expiry`, `settle`, `by_strike`, `rate`, `now_ms`."""
        return self._run(_Commands.analytics(key, **kw))

    def smile(self, key: str, expiry: str, **kw: Any) -> Smile | None:
        """One expiry's SVI fit, `None` without one. `settle`, `rate`, `now_ms`."""
        return self._run(_Commands.smile(key, expiry, **kw))

    def history(self, key: str, metrics: str | Sequence[str], **kw: Any) -> History:
        """`tenor` or `expiry`, `from_ms`, `to_ms`."""
        return self._run(_Commands.history(key, metrics, **kw))

    def trade(self, key: str, trade_id: str, symbol: str, side: str, size: float, price: float,
              ts: int, **kw: Any) -> bool:
        """Records one trade on the chain's tape; `False` for a trade id the tape holds already.
        `iv`, `index`, `block`, `liquidation`."""
        return self._run(_Commands.trade(key, trade_id, symbol, side, size, price, ts, **kw))

    def flow(self, key: str, **kw: Any) -> Flow:
        """The option flow summed in Redis: `expiry`, `from_ms`, `to_ms`, `by_strike`, `bucket`
        (seconds), `min_notional` (USD), `now_ms`."""
        return self._run(_Commands.flow(key, **kw))

    def tape(self, key: str, **kw: Any) -> Tape:
        """The chain's trades as recorded (the stream `{key}:trades`): `from_ms`, `to_ms`, `count`."""
        return self._run(_Commands.tape(key, **kw))

    def follow(self, key: str, since: int = 0, *, fields: Sequence[str] | None = None,
               block_ms: int = 1000, poll_interval: float = 0.1,
               reconnect_delay: float = 0.5) -> Iterator[ChangeEvent]:
        """The chain's changes as they happen: a `reset` event with the whole chain (first, and
        whenever the cursor is no longer valid), then the changes. Waits in Redis
        (`CHANGES … BLOCK`), or polls every `poll_interval` s on a server without the blocking
        form; resumes from its cursor after a lost connection."""
        state = _Following(since, block_ms)
        while True:
            try:
                ch = self.changes(key, state.cursor, fields=fields, block=state.block())
            except OptionsError as e:
                state.refused(e)
                continue
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(reconnect_delay)
                continue
            event = state.take(ch)
            if event is not None:
                yield event
            elif ch is not None:
                time.sleep(poll_interval)


class AsyncOptions:
    """`Options` for `redis.asyncio` clients: the same methods, awaited."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def _run(self, call: _Call[T]) -> T:
        try:
            raw = await self.client.execute_command(*call.args)
        except redis.ResponseError as e:
            raise _refused(e) from e
        return call.decode(raw)

    async def ingest(self, key: str, symbol: str, values: dict[str, float], *, no_history: bool = False,
                     updated_ms: int | None = None) -> int:
        return await self._run(_Commands.ingest(key, symbol, values, no_history=no_history, updated_ms=updated_ms))

    async def delete(self, key: str, *symbols: str) -> int:
        return await self._run(_Commands.delete(key, symbols))

    async def purge(self, key: str, now_ms: int | None = None) -> int:
        return await self._run(_Commands.purge(key, now_ms))

    async def query(self, key: str, **kw: Any) -> QueryPage:
        return await self._run(_Commands.query(key, **kw))

    async def get(self, key: str, symbol: str, fields: Sequence[str] | None = None) -> Contract | None:
        return await self._run(_Commands.get(key, symbol, fields))

    async def chain(self, key: str, expiry: str, *, settle: str | None = None,
                    fields: Sequence[str] | None = None) -> Chain:
        return await self._run(_Commands.chain(key, expiry, settle=settle, fields=fields))

    async def expiries(self, key: str) -> list[str]:
        return await self._run(_Commands.expiries(key))

    async def strikes(self, key: str, expiry: str | None = None) -> list[float]:
        return await self._run(_Commands.strikes(key, expiry))

    async def stats(self, key: str) -> ChainStats:
        return await self._run(_Commands.stats(key))

    async def changes(self, key: str, since: int, *, fields: Sequence[str] | None = None,
                      block: int | None = None) -> Changes | None:
        return await self._run(_Commands.changes(key, since, fields=fields, block=block))

    async def analytics(self, key: str, **kw: Any) -> Analytics:
        return await self._run(_Commands.analytics(key, **kw))

    async def smile(self, key: str, expiry: str, **kw: Any) -> Smile | None:
        return await self._run(_Commands.smile(key, expiry, **kw))

    async def history(self, key: str, metrics: str | Sequence[str], **kw: Any) -> History:
        return await self._run(_Commands.history(key, metrics, **kw))

    async def trade(self, key: str, trade_id: str, symbol: str, side: str, size: float, price: float,
                    ts: int, **kw: Any) -> bool:
        return await self._run(_Commands.trade(key, trade_id, symbol, side, size, price, ts, **kw))

    async def flow(self, key: str, **kw: Any) -> Flow:
        return await self._run(_Commands.flow(key, **kw))

    async def tape(self, key: str, **kw: Any) -> Tape:
        return await self._run(_Commands.tape(key, **kw))

    async def follow(self, key: str, since: int = 0, *, fields: Sequence[str] | None = None,
                     block_ms: int = 1000, poll_interval: float = 0.1,
                     reconnect_delay: float = 0.5) -> AsyncIterator[ChangeEvent]:
        """As `Options.follow`."""
        state = _Following(since, block_ms)
        while True:
            try:
                ch = await self.changes(key, state.cursor, fields=fields, block=state.block())
            except OptionsError as e:
                state.refused(e)
                continue
            except (redis.ConnectionError, redis.TimeoutError):
                await asyncio.sleep(reconnect_delay)
                continue
            event = state.take(ch)
            if event is not None:
                yield event
            elif ch is not None:
                await asyncio.sleep(poll_interval)


__all__ = ["Options", "AsyncOptions"]
