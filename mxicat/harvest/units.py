"""Canonical term names and units for harvested values, taken from the ontology, converted with pint.

The ontology (``mxicat.ontology``) is the single authority for a term's canonical unit; this module asks it
once per term and caches the linear pint conversion ``(scale, offset)`` per unit pair, so converting the
~25 values of a file costs microseconds instead of a pint round trip each. Until the ontology package is
importable (or when it lacks a term) the fallback units below are used and :data:`MISSING_TERMS` says so.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pint

logger = logging.getLogger(__name__)

#: canonical unit of every numeric term the harvester emits ("" = dimensionless/count); used when the
#: ontology cannot answer. Names are the ontology's canonical names (foundation issue).
FALLBACK_UNITS: dict[str, str] = {
    "wavelength": "angstrom",
    "photon_energy": "keV",
    "detector_distance": "mm",
    "beam_center_x": "pixel",
    "beam_center_y": "pixel",
    "pixel_size_x": "micrometre",
    "pixel_size_y": "micrometre",
    "exposure_time": "s",
    "frame_time": "s",
    "number_of_images": "",
    "oscillation_start": "deg",
    "oscillation_width": "deg",
    "transmission": "percent",
    "flux": "photon/s",
    "beam_size_x": "micrometre",
    "beam_size_y": "micrometre",
    "sample_temperature": "K",
    "sensor_thickness": "micrometre",
    "saturation_value": "",
}

#: spellings seen in files that pint would misread or not know
_SPELLINGS: dict[str, str] = {
    "%": "percent",
    "degrees": "degree",
    "pixels": "pixel",
    "Angstrom": "angstrom",
    "Angstroms": "angstrom",
    "angstroms": "angstrom",
    "A": "angstrom",
    "Å": "angstrom",
    "microns": "micrometre",
    "micron": "micrometre",
    "counts": "count",
    "photons/s": "photon/s",
    "photons/sec": "photon/s",
}

#: terms the ontology did not know when asked (reported, never invented)
MISSING_TERMS: set[str] = set()


@functools.cache
def registry() -> pint.UnitRegistry[Any]:
    """The pint registry used for conversions: the ontology's shared one, so both parse units alike."""
    try:
        from mxicat.ontology.units import get_registry

        return get_registry()
    except ImportError:  # ontology package absent: an own registry with the one extra MX unit
        import pint

        own: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
        own.define("photon = count = ph = photons")
        return own


@functools.cache
def _ontology() -> Any:
    try:
        from mxicat.ontology import load_ontology
    except ImportError:
        return None
    try:
        return load_ontology()
    except Exception as err:  # noqa: BLE001 - a broken ontology must not stop harvesting
        logger.warning("ontology not loadable, using fallback units: %s", err)
        return None


@functools.cache
def canonical_unit(term: str) -> str:
    """Canonical unit of ``term`` from the ontology, else the fallback table ("" when dimensionless)."""
    ontology = _ontology()
    if ontology is not None:
        try:
            unit = ontology.term(term).unit
            return str(unit or "")
        except Exception:  # noqa: BLE001 - unknown term: fall back and remember it
            MISSING_TERMS.add(term)
    return FALLBACK_UNITS.get(term, "")


def normalise_unit(unit: str | None) -> str | None:
    """A pint-parsable spelling of a unit string from a file (``pixels`` → ``pixel``, ``Å`` → ``angstrom``)."""
    if unit is None:
        return None
    unit = unit.strip()
    return _SPELLINGS.get(unit, unit) or None


class UnitError(ValueError):
    """A unit string pint does not know, or units of different dimensions."""


@functools.cache
def linear(from_unit: str, to_unit: str) -> tuple[float, float]:
    """(scale, offset) with ``to = scale * from + offset``, measured once per pair with pint.

    Raises:
        UnitError: a unit is unknown, or the two are not convertible (e.g. pixel → mm).
    """
    import pint

    ureg = registry()
    try:
        zero = ureg.Quantity(0.0, from_unit or "dimensionless").to(to_unit or "dimensionless").magnitude
        one = ureg.Quantity(1.0, from_unit or "dimensionless").to(to_unit or "dimensionless").magnitude
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError) as err:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {err}") from err
    return float(one - zero), float(zero)


def convert(value: float, from_unit: str | None, term: str) -> float:
    """``value`` in ``from_unit`` expressed in the canonical unit of ``term``.

    Raises:
        UnitError: the units are unknown or of different dimensions (callers warn and skip).
    """
    scale, offset = linear(normalise_unit(from_unit) or "", canonical_unit(term))
    return value * scale + offset


@functools.cache
def hc_kev_angstrom() -> float:
    """h·c in keV·Å (12.398…), from pint's constants: photon energy = hc / wavelength."""
    quantity = registry().Quantity(1.0, "planck_constant * speed_of_light")
    return float(quantity.to("keV * angstrom").magnitude)
