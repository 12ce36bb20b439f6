"""Check a flat metadata mapping against the ontology and return canonical values.

Every key is looked up (canonical key, ICAT name or alias); every bad field is reported at once as a
:class:`Problem`; keys that are no ontology term are returned in ``unmapped`` (never dropped) and an
:class:`~mxicat.errors.OntologyTermWarning` says so. ``None`` values mean "absent" (pyicat-plus drops them
too) and are skipped.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mxicat.errors import OntologyTermWarning, UnitConversionWarning
from mxicat.ontology.vocabulary import Ontology


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad field: the key as given, its value and why it was refused."""

    key: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}: {self.reason}"


@dataclass
class ValidationResult:
    """Canonical values by canonical key, problems, unmapped keys (as given) and unit notes.

    ``sources`` maps each canonical key to the key it came from.
    """

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unmapped: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no field was refused (unmapped keys are not problems)."""
        return not self.problems


def validate(
    metadata: Mapping[str, Any],
    *,
    record: str | None = None,
    technique: str | None = None,
    ontology: Ontology | None = None,
    units: Mapping[str, str] | None = None,
    warn: bool = True,
) -> ValidationResult:
    """Validate and normalise ``metadata`` (canonical keys, ICAT names or aliases as keys).

    Args:
        metadata: flat mapping of names to values (strings, numbers, pint quantities, ``"7.1%"``,
            ``{"value": 0.98, "unit": "angstrom"}``).
        record: ``"raw"`` or ``"processed"``: a term of the other record is a problem.
        technique: e.g. ``"MX"``/``"SSX"``: a term not used by that technique is a problem.
        ontology: defaults to :func:`~mxicat.ontology.load_ontology`.
        units: unit of bare numbers per key, canonical key or term name
            (``{"r_merge": "percent"}`` for producers that write percent R factors).
        warn: emit OntologyTermWarning / UnitConversionWarning (the result holds them anyway).

    Returns:
        ValidationResult: ``values`` by canonical key, ``problems``, ``unmapped``, ``notes``.
    """
    if ontology is None:
        from mxicat.ontology.loader import load_ontology

        ontology = load_ontology()
    from mxicat.ontology.values import coerce

    units = dict(units or {})
    result = ValidationResult()
    wanted_technique = technique.casefold() if technique else None
    for raw_key, value in metadata.items():
        key = str(raw_key)
        if value is None:
            continue
        resolved = ontology.resolve(key)
        if resolved is None:
            result.unmapped[key] = value
            continue
        term = resolved.term
        if record and not term.in_record(record):
            result.problems.append(Problem(key, value, f"{term.name} is a {term.record}-data term, not {record}"))
            continue
        if wanted_technique and wanted_technique not in (t.casefold() for t in term.techniques):
            result.problems.append(
                Problem(key, value, f"{term.name} is used by {'/'.join(term.techniques)}, not {technique}")
            )
            continue
        unit = (units.get(key) or units.get(resolved.key) or units.get(term.name)) if units else None
        try:
            canonical, notes = coerce(term, value, unit)
        except ValueError as err:
            result.problems.append(Problem(key, value, str(err)))
            continue
        if notes:
            result.notes.extend(f"{key}: {n}" for n in notes)
        previous = result.sources.get(resolved.key)
        if previous is not None and not _same(result.values[resolved.key], canonical):
            result.problems.append(
                Problem(key, value, f"conflicts with {previous}={metadata[previous]!r} (both mean {resolved.key})")
            )
            continue
        result.values[resolved.key] = canonical
        result.sources.setdefault(resolved.key, key)
    if warn:
        for note in result.notes:
            warnings.warn(note, UnitConversionWarning, stacklevel=2)
        if result.unmapped:
            names = ", ".join(sorted(result.unmapped))
            warnings.warn(
                f"{len(result.unmapped)} key(s) are not ontology terms and are kept unmapped: {names}",
                OntologyTermWarning,
                stacklevel=2,
            )
    return result


def _same(a: Any, b: Any) -> bool:
    """Equal values; floats from different names/units agree to 1e-9 relative (conversion noise)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)
