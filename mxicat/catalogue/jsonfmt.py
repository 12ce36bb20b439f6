"""ICAT's REST JSON encoding of values: dates, NaN, entity trees.

ICAT writes and reads dates as ``yyyy-MM-dd'T'HH:mm:ss.SSSXXX`` (Java ``SimpleDateFormat``), e.g.
``2024-05-01T12:00:00.000+02:00`` or ``2024-05-01T10:00:00.000Z`` (``XXX`` writes ``Z`` for a zero offset).
Objects cross :class:`mxicat.catalogue.base.Catalogue` with native :class:`datetime` values; this module is
the one place that converts them at the JSON edges (the remote client, the served ICAT REST API).

Which strings are dates is decided by the ICAT field name (every ICAT timestamp field is named in
:data:`DATE_FIELDS`, and no ICAT field of another type shares one of those names), so a string parameter
value that merely looks like a date is never converted. Bare selected values (``SELECT ds.startDate ...``)
carry no field name: the remote client reads it from the query's SELECT list (``date_columns``); when the
query cannot tell, values in ICAT's exact date form are converted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mxicat.errors import BadParameterError

#: Every ICAT 6.2 attribute of type ``Date`` (icat.md section 2), by field name.
DATE_FIELDS: frozenset[str] = frozenset(
    {
        "createTime",
        "modTime",
        "startDate",
        "endDate",
        "releaseDate",
        "datafileCreateTime",
        "datafileModTime",
        "dateTimeValue",
        "publicationDate",
    }
)

#: ICAT's exact output form: millisecond precision and an offset (``Z`` or ``+HH:MM``).
_ICAT_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:?\d{2})$")

#: What a write to ICAT accepts: seconds required, optional fraction, offset required.
_WRITE_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$")


def format_date(value: datetime) -> str:
    """``value`` in ICAT's REST date format; a naive datetime is taken as UTC."""
    # Search results repeat the same few dates (createTime/modTime of objects written together): cached.
    # The zone is part of the key because equal instants in different zones compare (and hash) equal.
    return _format_date(value, value.tzinfo)


@lru_cache(maxsize=4096)
def _format_date(value: datetime, _zone: Any) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_date(text: str, *, strict: bool = False, field: str | None = None) -> datetime:
    """Parse an ICAT REST date into an aware :class:`datetime`.

    Lenient (the default, for what servers send): anything :meth:`datetime.fromisoformat` reads, with
    ``Z``, ``+02:00`` or ``+0200`` offsets, any fraction or none; a value without offset is taken as UTC.
    Strict (for what clients write): seconds and an offset are required, as ICAT's write demands.

    Raises:
        BadParameterError: ``Badly formatted date`` (ICAT's wording), naming the field when known.
    """
    if not isinstance(text, str) or (strict and not _WRITE_DATE_RE.match(text)):
        where = f" for field {field}" if field else ""
        raise BadParameterError(f"Badly formatted date {text!r}{where}: expected yyyy-MM-ddTHH:mm:ss.SSSXXX")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as err:
        where = f" for field {field}" if field else ""
        raise BadParameterError(
            f"Badly formatted date {text!r}{where}: expected yyyy-MM-ddTHH:mm:ss.SSSXXX"
        ) from err
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def looks_like_icat_date(text: str) -> bool:
    """Whether ``text`` is exactly in the form ICAT writes dates."""
    return bool(_ICAT_DATE_RE.match(text))


def to_json(value: Any) -> Any:
    """A JSON-ready copy of ``value``: datetimes as ICAT dates, NaN/inf as ``null`` (as ICAT does).

    A bare :class:`date` is midnight UTC; a :class:`~decimal.Decimal` a float.
    """
    if isinstance(value, datetime):
        return format_date(value)
    if isinstance(value, date):
        return format_date(datetime.combine(value, dtime(), UTC))
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` in ICAT's encoding.

    Raises:
        BadParameterError: a value that has no JSON form (names its type).
    """
    try:
        try:  # fast path: the C encoder walks the tree and calls back only for dates, Decimals and mappings
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_non_json)
        except ValueError:  # a NaN or infinity somewhere: ICAT sends null, which needs the full copy
            return json.dumps(to_json(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except TypeError as err:
        raise BadParameterError(f"cannot send to ICAT as JSON: {err}") from err


def _non_json(value: Any) -> Any:
    """``json.dumps`` hook for the values JSON has no type for (what :func:`to_json` converts)."""
    if isinstance(value, date | Decimal | Mapping):
        return to_json(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _decode_fields(fields: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in fields.items():
        kind = type(item)  # exact types first: parsed JSON holds only dicts, lists and scalars (fast path)
        if kind is str or (kind is not dict and kind is not list and isinstance(item, str)):
            out[key] = _parse_cached(item, strict, key) if key in DATE_FIELDS else item
        elif kind is dict or (kind is not list and isinstance(item, Mapping)):
            out[key] = _decode_fields(item, strict=strict)
        elif kind is list:
            out[key] = [
                _decode_fields(child, strict=strict) if isinstance(child, Mapping) else child for child in item
            ]
        else:
            out[key] = item
    return out


@lru_cache(maxsize=4096)
def _parse_cached(text: str, strict: bool, field: str) -> datetime:
    """:func:`parse_date` for decoded results, where the same few date strings repeat (datetimes are immutable)."""
    return parse_date(text, strict=strict, field=field)


def decode_entity(obj: Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Turn the date fields of one ``{"Entity": {...}}`` tree (nested objects included) into datetimes.

    ``strict=True`` applies ICAT's write rules (used by the served REST API on incoming objects).
    """
    return {name: _decode_fields(fields, strict=strict) if isinstance(fields, Mapping) else fields
            for name, fields in obj.items()}


def decode_value(value: Any) -> Any:
    """Decode one search result: an entity, a bare value or a row (list) of values."""
    if isinstance(value, Mapping):
        return decode_entity(value)
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, str) and looks_like_icat_date(value):
        return parse_date(value)
    return value


def decode_results(results: list[Any], date_columns: Sequence[bool] | None = None) -> list[Any]:
    """Decode a whole REST search answer.

    ``date_columns`` says, for a selection of fields, which selected columns are ICAT dates (from the
    query); then only those are converted. Without it, bare values in ICAT's exact date form are.
    """
    if date_columns is None:
        return [decode_value(item) for item in results]
    out: list[Any] = []
    for item in results:
        if isinstance(item, Mapping):
            out.append(decode_entity(item))
        elif isinstance(item, list):
            out.append([_column(value, i < len(date_columns) and date_columns[i]) for i, value in enumerate(item)])
        else:
            out.append(_column(item, bool(date_columns) and date_columns[0]))
    return out


def _column(value: Any, is_date: bool) -> Any:
    if not (is_date and isinstance(value, str)):
        return value
    try:
        return parse_date(value)
    except BadParameterError:  # a server's odd spelling: keep what it sent rather than lose the answer
        return value


def has_date_like_values(results: list[Any]) -> bool:
    """Whether a search answer holds bare values (not entities) in ICAT's date form."""
    for item in results:
        values = item if isinstance(item, list) else [item]
        if any(isinstance(v, str) and looks_like_icat_date(v) for v in values):
            return True
    return False
