"""Canonical metadata ↔ ICAT parameters: ParameterTypes from the ontology, value encoding, unknown keys.

* An ontology term is stored under the ParameterType the ontology defines for it
  (:func:`mxicat.ontology.parameter_types`: ICAT name, canonical unit or ``N/A``, ``verified=True``); the
  value goes into ``numericValue`` (float/int, bool as 1/0), ``dateTimeValue`` (datetime) or
  ``stringValue`` (text, enum).
* A key the ontology does not know is never dropped: it is stored under a ParameterType named exactly as
  the key, units ``N/A``, ``valueType=STRING``, ``verified=False`` (ICAT's own flag for types nobody has
  vetted), with the text in ``stringValue`` and, when the text is a number, the number in ``numericValue``
  as well, so filters can compare it numerically. Reading such a parameter back gives it under its key in
  the ``unverified`` list.
* ``mxicat_*`` ParameterTypes are the MX layer's own bookkeeping (group names and kinds, change history,
  software list).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mxicat.catalogue.base import Catalogue
from mxicat.errors import BadParameterError
from mxicat.mx import jpql
from mxicat.mx.facility import NO_UNITS, Registry, entity
from mxicat.ontology import Ontology, Resolved, parameter_types

#: internal bookkeeping ParameterTypes: name -> (units, valueType, applicable-to, description)
INTERNAL_TYPES: dict[str, tuple[str, str, str, str]] = {
    "mxicat_group_name": (NO_UNITS, "STRING", "DataCollection", "name of an mxicat dataset group"),
    "mxicat_group_kind": (
        NO_UNITS,
        "STRING",
        "DataCollection",
        "kind of an mxicat dataset group: merge, multi_sweep, multi_crystal or ssx_chunks",
    ),
    "mxicat_history": (
        NO_UNITS,
        "STRING",
        "Dataset",
        "JSON list of the changes made by re-registrations of this dataset (newest last)",
    ),
    "mxicat_unverified": (
        NO_UNITS,
        "STRING",
        "Dataset",
        "JSON of unknown keys kept while their own ParameterTypes could not be created",
    ),
    "mxicat_integrations": (
        NO_UNITS,
        "STRING",
        "Dataset",
        "JSON list of the ISPyB integrations (dataCollectionId and refined values) merged in a result",
    ),
    "mxicat_software": (
        NO_UNITS,
        "STRING",
        "Dataset",
        "JSON list of the programs (name, version, classification) that produced a processed dataset",
    ),
}

UNVERIFIED_DESCRIPTION = "unverified: key not in the mxicat ontology, stored as sent"
STRING_LIMIT = 4000  # ICAT Parameter.stringValue length


def term_definitions(ontology: Ontology) -> dict[str, dict[str, Any]]:
    """ParameterType definitions of every ontology key, by ICAT name (from :func:`parameter_types`)."""
    return {d["name"]: d for d in parameter_types(ontology)}


def unverified_parameter_type(key: str) -> dict[str, Any]:
    """ParameterType fields for a key the ontology does not know."""
    if not key or len(key) > 255:
        raise BadParameterError(f"metadata key must be 1..255 characters, got {key!r}")
    return {
        "name": key,
        "units": NO_UNITS,
        "valueType": "STRING",
        "description": UNVERIFIED_DESCRIPTION,
        "verified": False,
        "applicableToDataset": True,
    }


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def encode(resolved: Resolved | None, value: Any) -> dict[str, Any]:
    """Value fields of a parameter (``numericValue`` / ``stringValue`` / ``dateTimeValue``)."""
    if resolved is None:
        text = _text(value)
        if len(text) > STRING_LIMIT:
            raise BadParameterError(f"value is longer than {STRING_LIMIT} characters: {text[:40]}...")
        fields: dict[str, Any] = {"stringValue": text}
        number = _as_number(value)
        if number is not None:
            fields["numericValue"] = number
        return fields
    term = resolved.term
    if term.numeric:
        return {"numericValue": float(value)}
    if term.type == "datetime":
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return {"dateTimeValue": value}
    if term.type == "bool":
        return {"numericValue": 1.0 if value else 0.0}
    text = _text(value)
    if len(text) > STRING_LIMIT:
        raise BadParameterError(f"{resolved.key}: value longer than {STRING_LIMIT} characters")
    return {"stringValue": text}


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def decode(resolved: Resolved | None, param: Mapping[str, Any]) -> Any:
    """The Python value of a stored parameter (canonical type for ontology terms)."""
    if resolved is None:
        if param.get("stringValue") is not None:
            return param["stringValue"]
        if param.get("numericValue") is not None:
            return param["numericValue"]
        return param.get("dateTimeValue")
    term = resolved.term
    if term.numeric:
        number = param.get("numericValue")
        if number is None and param.get("stringValue") is not None:
            number = _as_number(param["stringValue"])
        if number is None:
            return None
        return int(round(number)) if term.type == "int" else float(number)
    if term.type == "datetime":
        return param.get("dateTimeValue")
    if term.type == "bool":
        number = param.get("numericValue")
        if number is not None:
            return bool(number)
        text = param.get("stringValue")
        return None if text is None else text.strip().lower() in ("true", "1", "yes", "y")
    return param.get("stringValue")


def same_value(a: Any, b: Any) -> bool:
    """Equality for idempotency checks: floats to 1e-12 relative, datetimes compared in UTC."""
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    if isinstance(a, datetime | date) and isinstance(b, datetime | date):
        return jpql.to_utc_naive(a) == jpql.to_utc_naive(b)
    return bool(a == b)


@dataclass
class SyncReport:
    """Outcome of :meth:`ParameterTypes.sync`: what was created, what already matched, what drifted."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drift


_COMPARED = ("valueType", "verified", "minimumNumericValue", "maximumNumericValue")


@dataclass
class ParameterTypes:
    """ParameterType ids of one facility, created on demand (one ``create_many`` per batch of new types)."""

    session: Catalogue
    registry: Registry
    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    verified: dict[tuple[str, str], bool] = field(default_factory=dict)
    _loaded: bool = False

    def load(self, *, force: bool = False) -> None:
        """Read every ParameterType of the facility once."""
        if self._loaded and not force:
            return
        rows = self.session.search(
            f"SELECT pt FROM ParameterType pt WHERE pt.facility.id = {self.registry.facility_id}"
        )
        for row in rows:
            pt = entity(row)
            key = (pt["name"], pt["units"])
            self.ids[key] = int(pt["id"])
            self.verified[key] = bool(pt.get("verified", False))
        self._loaded = True

    def ensure(self, definitions: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
        """Ids of these ParameterTypes (fields as for create), creating the missing ones in one call."""
        self.load()
        wanted = {(d["name"], d["units"]): d for d in definitions}
        missing = [k for k in wanted if k not in self.ids]
        if missing:
            fid = self.registry.facility_id
            objs = [{"ParameterType": {**wanted[k], "facility": {"id": fid}}} for k in missing]
            new_ids = self.session.create_many(objs)
            for key, oid in zip(missing, new_ids, strict=True):
                self.ids[key] = int(oid)
                self.verified[key] = bool(wanted[key].get("verified", False))
        return {k: self.ids[k] for k in wanted}

    def internal(self, name: str) -> int:
        """Id of one of the MX layer's own ParameterTypes (:data:`INTERNAL_TYPES`)."""
        units, value_type, applicable, description = INTERNAL_TYPES[name]
        definition = {
            "name": name,
            "units": units,
            "valueType": value_type,
            "description": description,
            "verified": True,
            f"applicableTo{applicable}": True,
        }
        return self.ensure([definition])[(name, units)]

    def sync(self, definitions: Iterable[dict[str, Any]]) -> SyncReport:
        """Create the ParameterTypes of these ontology keys; report existing ones that differ (drift).

        Idempotent: a second run creates nothing. Drift (a type of the same name with other units, or a
        different valueType/verified/range) is reported, never overwritten: changing a type in place would
        silently reinterpret every value already stored under it.
        """
        report = SyncReport()
        rows = self.session.search(
            f"SELECT pt FROM ParameterType pt WHERE pt.facility.id = {self.registry.facility_id}"
        )
        existing: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            pt = entity(row)
            existing.setdefault(pt["name"], []).append(pt)
        to_create: list[dict[str, Any]] = []
        for definition in definitions:
            name, units = definition["name"], definition["units"]
            same_name = existing.get(name, [])
            match = next((pt for pt in same_name if pt["units"] == units), None)
            for other in same_name:
                if other["units"] != units and other.get("verified") is not False:
                    report.drift.append(
                        f"{name}: catalogue has units {other['units']!r}, ontology says {units!r}"
                    )
            if match is None:
                to_create.append(definition)
                continue
            differences = [
                f"{attr} {match.get(attr)!r} (ontology {definition.get(attr)!r})"
                for attr in _COMPARED
                if match.get(attr) != definition.get(attr)
                and not (attr == "verified" and not match.get(attr) and not definition.get(attr))
            ]
            if differences:
                report.drift.append(f"{name} [{units}]: " + ", ".join(differences))
            else:
                report.unchanged.append(name)
        if to_create:
            self.ensure(to_create)
            report.created.extend(d["name"] for d in to_create)
        self._loaded = False
        return report


def history_entry(user: str, changes: Mapping[str, tuple[Any, Any]], when: datetime) -> dict[str, Any]:
    """One entry of a dataset's ``mxicat_history``."""
    return {
        "time": jpql.to_utc_naive(when).isoformat(timespec="seconds") + "Z",
        "user": user,
        "changes": {k: [_jsonable(old), _jsonable(new)] for k, (old, new) in changes.items()},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def append_history(previous: str | None, entry: dict[str, Any]) -> str:
    """The history text with ``entry`` appended, oldest entries dropped to fit ICAT's 4000 characters."""
    try:
        entries = json.loads(previous) if previous else []
        if not isinstance(entries, list):
            entries = []
    except ValueError:
        entries = []
    entries.append(entry)
    text = json.dumps(entries, separators=(",", ":"))
    while len(text) > STRING_LIMIT and len(entries) > 1:
        entries.pop(0)
        text = json.dumps(entries, separators=(",", ":"))
    if len(text) > STRING_LIMIT:
        short = {**entry, "changes": sorted(entry["changes"]), "truncated": True}
        text = json.dumps([short], separators=(",", ":"))[:STRING_LIMIT]
    return text
