"""The single pint unit registry of mxicat and the helpers that convert values to canonical units.

The registry is built on first use (importing pint and building a registry costs ~0.4 s), so importing
:mod:`mxicat` stays cheap. Extra units MX needs and pint lacks are defined here once: ``photon`` (a count,
so ``Hz`` converts to ``photon/s``). Wavelength ↔ photon energy is a physical relation, not a unit
conversion, and is deliberately not offered: ``wavelength`` and ``photon_energy`` are separate terms.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pint

_NUMBER_START = re.compile(r"^[+-]?(\d|\.\d)")

#: definitions added to pint's default registry
EXTRA_DEFINITIONS: tuple[str, ...] = ("photon = count = ph = photons",)


@cache
def get_registry() -> pint.UnitRegistry[Any]:
    """The shared unit registry (built once)."""
    import pint

    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for line in EXTRA_DEFINITIONS:
        registry.define(line)
    return registry


def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string (``""`` = dimensionless).

    Raises:
        ValueError: the string is not a unit pint knows.
    """
    import pint

    registry = get_registry()
    try:
        return registry.Unit(normalise_unit_text(text))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError) as err:
        raise ValueError(f"unknown unit {text!r}: {err}") from err


def normalise_unit_text(text: str) -> str:
    """Spellings seen in real files that pint does not parse as is (``%``, ``pixels``, ``Å``, ``ph/s``)."""
    text = text.strip()
    replacements = {"%": "percent", "Å": "angstrom", "Angstrom": "angstrom", "ph/s": "photon/s",
                    "degrees": "degree", "N/A": ""}
    return replacements.get(text, text)


def is_quantity(value: Any) -> bool:
    """True for a pint Quantity (of any registry) without importing pint eagerly."""
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "to")


def convert_magnitude(magnitude: Any, from_unit: str, to_unit: str) -> Any:
    """Convert a number (or numpy array) from one unit to another.

    Raises:
        ValueError: a unit is unknown or the two are not compatible (e.g. pixel → mm).
    """
    import pint

    source, target = parse_unit(from_unit), parse_unit(to_unit)
    if source == target:
        return magnitude
    registry = get_registry()
    try:
        return registry.Quantity(magnitude, source).to(target).magnitude
    except pint.errors.DimensionalityError as err:
        raise ValueError(f"cannot convert {from_unit or 'dimensionless'!r} to "
                         f"{to_unit or 'dimensionless'!r}") from err


def convert_quantity(quantity: Any, to_unit: str) -> Any:
    """Magnitude of a pint Quantity in ``to_unit``.

    Raises:
        ValueError: incompatible dimensions.
    """
    import pint

    registry = get_registry()
    if getattr(quantity, "_REGISTRY", registry) is not registry:
        # a Quantity from another registry: go through its text form
        return convert_magnitude(quantity.magnitude, str(quantity.units), to_unit)
    try:
        return quantity.to(parse_unit(to_unit)).magnitude
    except pint.errors.DimensionalityError as err:
        raise ValueError(f"cannot convert {str(quantity.units) or 'dimensionless'!r} to "
                         f"{to_unit or 'dimensionless'!r}") from err


def parse_quantity_text(text: str) -> tuple[float, str] | None:
    """Split ``"0.98 angstrom"``, ``"7.1%"``, ``"12.4keV"`` into (number, unit); None when it is no quantity."""
    import pint

    registry = get_registry()
    text = text.strip()
    if not _NUMBER_START.match(text):
        return None  # "m" alone would parse as 1 metre
    if text.endswith("%"):
        number = text[:-1].strip()
        try:
            return float(number), "percent"
        except ValueError:
            return None
    try:
        quantity: Any = registry.Quantity(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError, KeyError, SyntaxError, IndexError):
        return None
    if not isinstance(quantity, registry.Quantity) or not isinstance(quantity.magnitude, int | float):
        return None
    return float(quantity.magnitude), str(quantity.units)


def long_name(unit: str) -> str:
    """Full unit name for ICAT ``unitsFullName`` (``keV`` → ``kiloelectron_volt``); ``""`` if dimensionless."""
    if not unit:
        return ""
    return str(parse_unit(unit))


def __getattr__(name: str) -> Any:
    if name == "ureg":
        return get_registry()
    raise AttributeError(name)
