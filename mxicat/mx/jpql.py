"""Safe ICAT JPQL literals for the queries the MX layer builds.

ICAT's query language has no client-bound parameters (only ``:user``), so values travel inside the query
text. Every value the MX layer puts into a query goes through one of these functions: strings are quoted
with the quote doubled (``'it''s'``), numbers are rendered from Python numbers only, timestamps use ICAT's
exact ``{ts yyyy-MM-dd HH:mm:ss}`` form. The embedded engine then binds each literal as a SQL parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import TypeVar

from mxicat.errors import BadParameterError

T = TypeVar("T")


def string(value: str) -> str:
    """``'text'`` with embedded quotes doubled; control characters refused."""
    if not isinstance(value, str):
        raise BadParameterError(f"expected text, got {type(value).__name__} {value!r}")
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise BadParameterError(f"control character in query value {value!r}")
    return "'" + value.replace("'", "''") + "'"


def number(value: int | float) -> str:
    """A numeric literal; booleans, NaN and infinities refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadParameterError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadParameterError(f"number must be finite, got {value!r}")
        return repr(value)
    return str(int(value))


def to_utc_naive(value: datetime | date) -> datetime:
    """A timestamp as naive UTC (aware values converted; naive values taken as UTC; dates at midnight)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def timestamp(value: datetime | date) -> str:
    """``{ts 2024-01-01 00:00:00}`` (ICAT's only accepted timestamp form)."""
    moment = to_utc_naive(value)
    return "{ts " + moment.strftime("%Y-%m-%d %H:%M:%S") + "}"


def ids(values: Iterable[int]) -> str:
    """``(1, 2, 3)`` for an ``IN`` list of ids."""
    items = [number(int(v)) for v in values]
    if not items:
        raise BadParameterError("empty id list")
    return "(" + ", ".join(items) + ")"


def strings(values: Iterable[str]) -> str:
    """``('a', 'b')`` for an ``IN`` list of strings."""
    items = [string(v) for v in values]
    if not items:
        raise BadParameterError("empty value list")
    return "(" + ", ".join(items) + ")"


def chunks(values: list[T], size: int) -> Iterable[list[T]]:
    """Consecutive slices of at most ``size`` items (for IN lists and batched writes)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
