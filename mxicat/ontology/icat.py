"""Canonical metadata ↔ ICAT parameters, and ICAT ParameterType definitions generated from the ontology.

ParameterTypes follow ICAT's entity fields (``name``, ``units``, ``unitsFullName``, ``valueType``,
``applicableTo*``, ``minimumNumericValue``/``maximumNumericValue``, ``enforced``, ``verified``,
``description``, ``pid``, ``permissibleStringValues``). Dimensionless and text types get the units
``N/A`` (ICAT requires units; the python-icat example dump uses ``N/A``). Booleans are NUMERIC 0/1.
A per-shell term yields one ParameterType per shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mxicat.errors import BadParameterError
from mxicat.ontology.terms import Term
from mxicat.ontology.validate import ValidationResult, validate
from mxicat.ontology.vocabulary import Ontology

#: ICAT ``units`` for values without a unit
NO_UNITS = "N/A"
_VALUE_TYPES = {"float": "NUMERIC", "int": "NUMERIC", "bool": "NUMERIC", "str": "STRING",
                "enum": "STRING", "datetime": "DATE_AND_TIME"}
_APPLICABLE = {"investigation": "applicableToInvestigation", "dataset": "applicableToDataset",
               "datafile": "applicableToDatafile", "sample": "applicableToSample",
               "datacollection": "applicableToDataCollection"}


def _ontology(ontology: Ontology | None) -> Ontology:
    if ontology is not None:
        return ontology
    from mxicat.ontology.loader import load_ontology

    return load_ontology()


def icat_value_type(term: Term) -> str:
    """ICAT ``ParameterValueType`` of a term: NUMERIC, STRING or DATE_AND_TIME."""
    return _VALUE_TYPES[term.type]


def icat_units(term: Term) -> str:
    """ICAT ``units`` string of a term (its canonical unit, ``N/A`` when it has none)."""
    return term.unit or NO_UNITS


def to_icat(values: Mapping[str, Any], *, ontology: Ontology | None = None) -> dict[str, Any]:
    """ICAT parameter names and values for canonical values (as returned by :func:`validate`).

    Booleans become 1/0 (NUMERIC). Keys may also be ICAT names or aliases.

    Raises:
        BadParameterError: a key is not an ontology term (names every such key).
    """
    ont = _ontology(ontology)
    out: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in values.items():
        resolved = ont.resolve(key)
        if resolved is None:
            unknown.append(key)
            continue
        if isinstance(value, bool):
            value = int(value)
        out[resolved.icat_name] = value
    if unknown:
        raise BadParameterError(f"not ontology terms, no ICAT name: {', '.join(sorted(unknown))}")
    return out


def from_icat(params: Mapping[str, Any], *, ontology: Ontology | None = None,
              units: Mapping[str, str] | None = None, warn: bool = True) -> ValidationResult:
    """Canonical values from ICAT parameters (ICAT names or aliases; ESRF string values are parsed).

    Unknown names are kept in ``unmapped``; bad values are ``problems`` (see :func:`validate`).
    """
    return validate(params, ontology=_ontology(ontology), units=units, warn=warn)


def parameter_types(ontology: Ontology | None = None) -> list[dict[str, Any]]:
    """ICAT ParameterType field dicts for every term (one per shell for per-shell terms)."""
    out: list[dict[str, Any]] = []
    for term in _ontology(ontology).terms.values():
        for shell in term.shells or (None,):
            out.append(_parameter_type(term, shell))
    return out


def _parameter_type(term: Term, shell: str | None) -> dict[str, Any]:
    from mxicat.ontology.units import long_name

    description = term.description
    if shell:
        description = f"{description} ({shell} shell)"
    entry: dict[str, Any] = {
        "name": term.icat_name_for(shell),
        "units": icat_units(term),
        "unitsFullName": long_name(term.unit) if term.unit else "",
        "valueType": icat_value_type(term),
        "description": description,
        "enforced": bool(term.allowed or term.minimum is not None or term.maximum is not None
                         or term.type == "bool"),
        "verified": True,
    }
    for entity, field in _APPLICABLE.items():
        entry[field] = entity in term.applies_to
    minimum, maximum = term.minimum, term.maximum
    if term.type == "bool":
        minimum, maximum = 0.0, 1.0
    if minimum is not None:
        entry["minimumNumericValue"] = minimum
    if maximum is not None:
        entry["maximumNumericValue"] = maximum
    if term.iri:
        entry["pid"] = term.iri
    entry["permissibleStringValues"] = [{"value": v} for v in term.allowed]
    return entry
