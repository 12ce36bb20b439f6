"""Turn one incoming metadata value into the canonical Python value of a term.

Incoming values come as ESRF strings (``"0.98"``, ``"2025-03-25T10:00:00+01:00"``), numbers, pint
quantities, strings with a unit (``"12.4 keV"``, ``"7.1%"``) or ``{"value": ..., "unit": ...}`` mappings.
Numbers are converted to the term's canonical unit with pint; a bare number is taken to be in the canonical
unit already.

Fractions (R factors, ``fraction: true`` in the YAML): a bare number is always a fraction. A bare value
above 1 is kept as given but raises a :class:`~mxicat.errors.UnitConversionWarning` note, because it is
either a genuinely bad outer-shell R factor or a percent value sent without its unit; mxicat never rescales
by guessing. Producers that write percent say so with a unit (``"7.1%"``, ``unit="percent"``, or
``units={"r_merge": "percent"}`` in :func:`~mxicat.ontology.validate`).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from mxicat.ontology.terms import Term
from mxicat.ontology.units import (
    convert_magnitude,
    convert_quantity,
    is_quantity,
    parse_quantity_text,
)

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
#: PDBx ``yyyy-mm-dd:hh:mm-flex`` (a colon between date and time)
_FLOAT_MARKS = frozenset(".eEnN")
_PLAIN_NUMBERS = (float, int)
_PDBX_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$")


def coerce(term: Term, value: Any, unit: str | None = None) -> tuple[Any, list[str]]:
    """Canonical value of ``value`` for ``term`` plus notes worth a warning.

    Args:
        term: the ontology term.
        value: the incoming value (see module docstring).
        unit: unit of a bare number (None = already canonical).

    Returns:
        (value, notes): float/int in the canonical unit, str, bool, datetime or the enum spelling.

    Raises:
        ValueError: with the reason (not a number, incompatible unit, out of range, not allowed ...).
    """
    if type(value) is not str:  # plain strings (every pyicat-plus value) skip the slow ABC checks
        if isinstance(value, Mapping) and "value" in value:
            unit = value.get("unit", value.get("units", unit))
            value = value["value"]
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
    if term.type in ("float", "int"):
        return _numeric(term, value, unit)
    if unit not in (None, ""):
        raise ValueError(f"a {term.type} value has no unit (got unit {unit!r})")
    if term.type == "str":
        return _text(value), []
    if term.type == "enum":
        return _enum(term, value), []
    if term.type == "bool":
        return _bool(value), []
    return parse_datetime(value), []


def _numeric(term: Term, value: Any, unit: str | None) -> tuple[Any, list[str]]:
    notes: list[str] = []
    if type(value) is not str and is_quantity(value):
        number = convert_quantity(value, term.unit)
        unit_given = True
    else:
        magnitude, unit = _magnitude(value, unit)
        unit_given = unit is not None
        number = magnitude if unit is None else convert_magnitude(magnitude, unit, term.unit)
    if type(number) not in _PLAIN_NUMBERS and (isinstance(number, bool) or not isinstance(number, numbers.Real)):
        raise ValueError(f"expected a single number, got {type(number).__name__}")
    if not math.isfinite(float(number)):
        raise ValueError("not a finite number")
    if unit_given and isinstance(number, float):
        # drop the binary noise of scale factors (0.98 nm -> 9.799999999999999 A): 12 significant digits
        number = float(f"{number:.12g}")
    if term.type == "int":
        rounded = round(float(number))
        if abs(float(number) - rounded) > 1e-9 * max(1.0, abs(rounded)):
            raise ValueError(f"expected an integer, got {number}")
        result: float | int = int(rounded)
    else:
        result = float(number)
    if term.minimum is not None and result < term.minimum:
        raise ValueError(f"{result} is below the minimum {term.minimum:g}{_unit_suffix(term)}")
    if term.maximum is not None and result > term.maximum:
        raise ValueError(f"{result} is above the maximum {term.maximum:g}{_unit_suffix(term)}")
    if term.fraction and not unit_given and abs(result) > 1:
        notes.append(
            f"{term.name}={result:g} given without a unit is kept as a fraction "
            f"({result * 100:g} %); if the producer writes percent, send '{result:g}%' or "
            "unit 'percent'"
        )
    return result, notes


def _magnitude(value: Any, unit: str | None) -> tuple[Any, str | None]:
    """(number, unit) of a bare number or a numeric string; strings may carry their own unit."""
    if type(value) is str:
        return _magnitude_text(value, unit)
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, numbers.Real):
        return value, unit
    if hasattr(value, "shape") and getattr(value, "size", None) == 1 and hasattr(value, "item"):
        return _magnitude(value.item(), unit)  # numpy scalars and 1-element arrays (h5py)
    if isinstance(value, str):
        return _magnitude_text(value, unit)
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _magnitude_text(value: str, unit: str | None) -> tuple[Any, str | None]:
    text = value.strip()
    if not text:
        raise ValueError("empty value")
    try:
        return float(text) if _looks_float(text) else int(text), unit
    except ValueError:
        pass
    parsed = parse_quantity_text(text)
    if parsed is None:
        raise ValueError(f"not a number: {value!r}")
    return parsed


def _looks_float(text: str) -> bool:
    return not _FLOAT_MARKS.isdisjoint(text)  # "1e5", "0.5", "nan", "inf"


def _unit_suffix(term: Term) -> str:
    return f" {term.unit}" if term.unit else ""


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool | numbers.Number):
        text = str(value)
    elif isinstance(value, list | tuple) and all(isinstance(v, str | numbers.Number) for v in value):
        text = ",".join(str(v).strip() for v in value)  # pyicat-plus joins flat lists with ","
    else:
        raise ValueError(f"expected text, got {type(value).__name__}")
    if not text:
        raise ValueError("empty value")
    return text


def _enum(term: Term, value: Any) -> str:
    text = _text(value)
    for allowed in term.allowed:
        if allowed.casefold() == text.casefold():
            return allowed
    raise ValueError(f"{text!r} is not one of: {', '.join(term.allowed)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected a boolean (true/false, yes/no, 1/0), got {value!r}")


def parse_datetime(value: Any) -> datetime:
    """A datetime from a datetime, a date or an ISO 8601 string (offset kept; naive stays naive).

    Also accepts MXCuBE's ``2025-03-25 10:00:00``, a trailing ``Z`` and PDBx ``2019-02-14:14:25``.

    Raises:
        ValueError: not a date/time.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date/time, got {type(value).__name__}")
    text = value.strip()
    match = _PDBX_DATE.match(text)
    if match:
        text = f"{match.group(1)}T{match.group(2)}"
    try:
        return datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"not an ISO 8601 date/time: {value!r}") from err
