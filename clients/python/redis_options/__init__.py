"""The Redis options module (`OPTIONS.*`) for Python: typed calls on redis-py clients, results
as dataclasses and TypedDicts, DataFrames with `.to_pandas()` (pandas optional)."""

from .client import AsyncOptions, Options
from .types import (
    Analytics,
    Chain,
    ChainLine,
    ChainStats,
    ChangeEvent,
    Changes,
    Contract,
    Flow,
    FlowStrike,
    History,
    OptionsError,
    QueryPage,
    ReplyError,
    Smile,
    SmileStrike,
    Svi,
    Tape,
    Trade,
)

__all__ = [
    "Analytics", "AsyncOptions", "Chain", "ChainLine", "ChainStats", "ChangeEvent", "Changes",
    "Contract", "Flow", "FlowStrike", "History", "Options", "OptionsError", "QueryPage",
    "ReplyError", "Smile", "SmileStrike", "Svi", "Tape", "Trade",
]
