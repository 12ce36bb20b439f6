"""Client values -> stored values for the embedded catalogue (one converter per ICAT field).

ICAT REST JSON and dump files carry values as JSON types or text; :func:`converter` turns them into what the
SQLite columns store (naive-UTC datetime text in SQLAlchemy's format, bools, ints, floats, strings), raising
ICAT's errors: ``BAD_PARAMETER`` for a wrong type or a badly formatted date, ``VALIDATION`` for an over-long
string. :func:`unwrap` checks the ``{"Entity": {...}}`` wrapper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from mxicat.errors import BadParameterError, ValidationError

from .schema import EntityInfo, FieldInfo, entity, to_db_datetime


def _datetime_bind() -> Callable[[Any], Any]:
    dialect = sqlite_dialect.dialect()
    processor = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    return processor


#: SQLAlchemy's own conversion of a datetime to SQLite's stored text (so reads parse what writes store)
DT_BIND: Callable[[Any], Any] = _datetime_bind()


def unwrap(obj: Any, *, where: str = "object") -> tuple[EntityInfo, dict[str, Any]]:
    """``{"Dataset": {...}}`` -> (EntityInfo, content); BAD_PARAMETER for anything else."""
    if not isinstance(obj, Mapping) or len(obj) != 1:
        raise BadParameterError(f"{where} must be one {{\"Entity\": {{...}}}} mapping, got {obj!r:.80}")
    ((name, content),) = obj.items()
    info = entity(name)
    if not isinstance(content, Mapping):
        raise BadParameterError(f"{where}: content of {name} must be a mapping")
    return info, dict(content)


# ------------------------------------------------------------------------------------------ values
def parse_datetime(value: Any, what: str) -> datetime:
    """A datetime from a datetime or an ISO 8601 / ICAT REST string; BAD_PARAMETER otherwise."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BadParameterError(f"Badly formatted date {value!r} for {what}")


def _from_text(value: Any, parse: Callable[[str], Any]) -> Any:
    """``parse(value)`` for a string that parses (dump files carry numbers as text), else None."""
    if isinstance(value, str):
        try:
            return parse(value.strip())
        except ValueError:
            return None
    return None


def converter(info: EntityInfo, f: FieldInfo) -> Callable[[Any], Any]:
    """Converter from a client value to the stored value of field ``f`` (None passes through)."""
    what = f"{info.name}.{f.name}"
    if f.type == "str":
        limit = f.length or 255

        def conv_str(v: Any) -> Any:
            if not isinstance(v, str):
                raise BadParameterError(f"{what} must be a string, got {v!r:.60}")
            if len(v) > limit:
                raise ValidationError(f"{what} is longer than {limit} characters")
            return v

        return conv_str
    if f.type == "enum":
        allowed = frozenset(f.enum_values)

        def conv_enum(v: Any) -> Any:
            name = v.rsplit(".", 1)[-1] if isinstance(v, str) else v
            if name not in allowed:
                raise BadParameterError(f"{what} must be one of {sorted(allowed)}, got {v!r:.60}")
            return name

        return conv_enum
    if f.type == "int":

        def conv_int(v: Any) -> Any:
            if isinstance(v, bool):
                raise BadParameterError(f"{what} must be an integer, got {v!r}")
            if isinstance(v, int):
                return v
            if isinstance(v, float) and v.is_integer():
                return int(v)
            parsed = _from_text(v, int)
            if parsed is None:
                raise BadParameterError(f"{what} must be an integer, got {v!r:.60}")
            return parsed

        return conv_int
    if f.type == "float":

        def conv_float(v: Any) -> Any:
            if isinstance(v, float):
                return v
            if isinstance(v, int) and not isinstance(v, bool):
                return float(v)
            parsed = _from_text(v, float)
            if parsed is None:
                raise BadParameterError(f"{what} must be a number, got {v!r:.60}")
            return parsed

        return conv_float
    if f.type == "bool":

        def conv_bool(v: Any) -> Any:
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v.strip().lower() in ("true", "false"):
                return v.strip().lower() == "true"
            raise BadParameterError(f"{what} must be a boolean, got {v!r:.60}")

        return conv_bool
    assert f.type == "datetime"

    def conv_dt(v: Any) -> Any:
        return DT_BIND(to_db_datetime(parse_datetime(v, what)))

    return conv_dt
