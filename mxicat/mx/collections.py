"""Register raw data collections (and, through the shared writer, any dataset) in the catalogue.

A registration is idempotent on (investigation, dataset name):

* the dataset does not exist → it is created in one nested ``create`` (parameters, datafiles, instrument
  and technique links), after the Sample is found or created in the investigation;
* it exists with the same content → nothing is written (``status == "unchanged"``);
* it exists with different content → only the differences are written in one ``write`` call and the
  change is appended to the dataset's ``mxicat_history`` parameter (``status == "updated"``).

Merge policy: a re-registration sets the values it gives; values it does not mention are kept, datafiles
are only added (a datafile whose size changed is updated). ``complete=None`` (the default) means complete
for a new dataset and "leave as is" for an existing one; a complete dataset is never reopened. Keys the
ontology does not know, and values it refuses, are stored as unverified parameters under their own key and
reported in ``Registration.unverified`` / ``Registration.problems``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, InsufficientPrivilegesError, ObjectAlreadyExistsError
from mxicat.mx import jpql
from mxicat.mx.facility import entity
from mxicat.mx.params import (
    append_history,
    decode,
    encode,
    history_entry,
    same_value,
    unverified_parameter_type,
)

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

logger = logging.getLogger(__name__)

#: canonical keys whose value also sets a Dataset field or link
SAMPLE_KEY = "sample_name"
START_KEY = "start_time"
END_KEY = "end_time"
BEAMLINE_KEY = "beamline"
SERIAL_KEY = "serial_experiment"
#: where unknown keys go when the user may not create their ParameterTypes
FOLDED_KEY = "mxicat_unverified"

#: PaN technique IRIs (ESRF technique ontology, as pyicat-plus writes ``technique_pid``)
TECHNIQUE_PIDS = {
    "MX": "https://w3id.org/PaN/ESRFET#MX",
    "SSX": "https://w3id.org/PaN/ESRFET#SSX",
    "SMX": "https://w3id.org/PaN/ESRFET#SMX",
    "MAD": "https://w3id.org/PaN/ESRFET#MAD",
    "SAD": "https://w3id.org/PaN/ESRFET#SAD",
}


@dataclass
class Registration:
    """What a registration did: the dataset id, ``created``/``unchanged``/``updated`` and the details."""

    id: int
    name: str
    investigation_id: int
    status: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data for the CLI."""
        return {
            "id": self.id,
            "name": self.name,
            "investigation_id": self.investigation_id,
            "status": self.status,
            "changes": {k: [v[0], v[1]] for k, v in self.changes.items()},
            "unverified": list(self.unverified),
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }


@dataclass
class DatasetSpec:
    """Everything one dataset registration writes (built by collections, processed and pyicat_compat)."""

    investigation_id: int
    name: str
    dataset_type: str
    values: dict[str, Any]
    unverified: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sample: str | None = None
    beamline: str | None = None
    techniques: tuple[str, ...] = ()
    location: str | None = None
    datafiles: list[dict[str, Any]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    complete: bool | None = None  # None: True for a new dataset, unchanged for an existing one
    description: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: techniques were given (or follow from the values), not the MX default: re-registrations add them
    techniques_given: bool = True


def datafile_entries(
    files: Iterable[Mapping[str, Any] | str | os.PathLike[str]], location: str | None
) -> list[dict[str, Any]]:
    """ICAT Datafile fields for paths or harvester datafile records (name unique within the dataset)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in files:
        record: Mapping[str, Any] = item if isinstance(item, Mapping) else {"path": os.fspath(item)}
        path = str(record.get("path") or record.get("location") or "")
        if not path:
            raise BadParameterError(f"datafile without a path: {record!r}")
        path = os.path.normpath(path)
        name = str(record.get("name") or "")
        if not name:
            name = (
                os.path.relpath(path, location)
                if location and path.startswith(location.rstrip("/") + "/")
                else os.path.basename(path)
            )
        if name in seen:
            name = path
        if name in seen:
            continue
        seen.add(name)
        fields: dict[str, Any] = {"name": name, "location": path}
        size = record.get("size", record.get("fileSize"))
        if size is None and record.get("exists"):
            try:
                size = Path(path).stat().st_size
            except OSError:
                size = None
        if size is not None:
            fields["fileSize"] = int(size)
        out.append(fields)
    return out


def technique_for(values: Mapping[str, Any], technique: str | None) -> tuple[str, ...]:
    """Technique names of a dataset: the one given, else SSX for serial experiments, else MX."""
    if technique:
        return tuple(t.strip() for t in technique.replace(",", " ").split() if t.strip())
    serial = values.get(SERIAL_KEY)
    if isinstance(serial, str) and serial.strip().upper() in ("Y", "YES", "TRUE"):
        return ("SSX",)
    if serial is True:
        return ("SSX",)
    return ("MX",)


def split_metadata(
    mx: MxCatalogue, metadata: Mapping[str, Any], *, record: str | None, units: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(canonical values, unverified key → value as sent, problem texts) of a metadata mapping.

    A value the ontology refuses is kept as an unverified value under its original key (so nothing sent
    is lost), and the refusal is reported as a problem.
    """
    from mxicat.ontology import validate

    result = validate(dict(metadata), record=record, ontology=mx.ontology, units=units, warn=False)
    unverified = dict(result.unmapped)
    problems: list[str] = []
    for problem in result.problems:
        problems.append(str(problem))
        unverified.setdefault(f"{problem.key}", problem.value)
    return dict(result.values), unverified, problems


# -- writing --------------------------------------------------------------------------------------


def _sample_id(mx: MxCatalogue, investigation_id: int, name: str) -> tuple[int, bool]:
    """(Sample id, created?) of the sample ``name`` in the investigation, found or created."""
    cached = mx.registry.samples.get((investigation_id, name))
    if cached is not None:
        return cached, False
    sample_id, created = _find_or_create_sample(mx, investigation_id, name)
    mx.registry.samples[(investigation_id, name)] = sample_id
    return sample_id, created


def _find_or_create_sample(mx: MxCatalogue, investigation_id: int, name: str) -> tuple[int, bool]:
    rows = mx.session.search(
        f"SELECT s FROM Sample s WHERE s.investigation.id = {investigation_id} AND s.name = {jpql.string(name)}"
    )
    if rows:
        return int(entity(rows[0])["id"]), False
    try:
        return mx.session.create({"Sample": {"name": name, "investigation": {"id": investigation_id}}}), True
    except ObjectAlreadyExistsError:  # created concurrently
        rows = mx.session.search(
            f"SELECT s FROM Sample s WHERE s.investigation.id = {investigation_id} AND s.name = {jpql.string(name)}"
        )
        return int(entity(rows[0])["id"]), False


def _parameter_fields(mx: MxCatalogue, spec: DatasetSpec) -> dict[str, tuple[int, dict[str, Any]]]:
    """key → (ParameterType id, value fields) for every value of the spec (types created on demand)."""
    definitions: dict[str, dict[str, Any]] = {}
    encoded: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {}
    term_of = mx.term_of
    for key, value in spec.values.items():
        found = term_of(key)
        if found is None:
            spec.unverified.setdefault(key, value)
            continue
        resolved, definition = found
        definitions[definition["name"]] = definition
        encoded[key] = ((definition["name"], definition["units"]), encode(resolved, value))
    known = mx.parameter_types.ensure(definitions.values())
    ids = dict(known)
    unknown: dict[str, dict[str, Any]] = {}
    for key, value in spec.unverified.items():
        if value is None:
            continue
        if key in mx.internal_names:
            definition = mx.internal_definition(key)
            ids.update(mx.parameter_types.ensure([definition]))
        else:
            definition = unverified_parameter_type(key)
            if definition["name"] in definitions:
                continue
            unknown[key] = definition
        encoded[key] = ((definition["name"], definition["units"]), encode(None, value))
    if unknown:
        try:
            ids.update(mx.parameter_types.ensure(unknown.values()))
        except InsufficientPrivilegesError:
            _fold_unknown(mx, spec, unknown, encoded, ids)
    return {key: (ids[type_key], fields) for key, (type_key, fields) in encoded.items()}


def _fold_unknown(
    mx: MxCatalogue,
    spec: DatasetSpec,
    unknown: dict[str, dict[str, Any]],
    encoded: dict[str, tuple[tuple[str, str], dict[str, Any]]],
    ids: dict[tuple[str, str], int],
) -> None:
    """Keep unknown keys whose ParameterType this user may not create as JSON in ``mxicat_unverified``.

    On a real ICAT ingest accounts usually cannot create ParameterTypes; the values are then not lost but
    held in one parameter until an administrator creates the types (``dataset()`` still lists them).
    """
    missing = {
        k: spec.unverified[k]
        for k in unknown
        if (unknown[k]["name"], unknown[k]["units"]) not in mx.parameter_types.ids
    }
    for key in missing:
        encoded.pop(key)
    for key in unknown:
        if key not in missing:
            definition = unknown[key]
            ids[(definition["name"], definition["units"])] = mx.parameter_types.ids[
                (definition["name"], definition["units"])
            ]
    if not missing:
        return
    text = json.dumps(
        {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in missing.items()},
        separators=(",", ":"),
        default=str,
    )
    if len(text) > 4000:
        raise BadParameterError(
            f"{len(missing)} unknown keys do not fit in one parameter and user "
            f"{mx.session.user_name} may not create ParameterTypes for them"
        )
    definition = mx.internal_definition(FOLDED_KEY)
    ids.update(mx.parameter_types.ensure([definition]))
    encoded[FOLDED_KEY] = ((definition["name"], definition["units"]), {"stringValue": text})
    spec.warnings.append(f"{len(missing)} unknown key(s) kept in {FOLDED_KEY}: no right to create their ParameterTypes")


def _existing(mx: MxCatalogue, spec: DatasetSpec) -> dict[str, Any] | None:
    rows = mx.session.search(
        f"SELECT ds FROM Dataset ds WHERE ds.investigation.id = {spec.investigation_id} "
        f"AND ds.name = {jpql.string(spec.name)} "
        "INCLUDE ds.parameters p, p.type, ds.datafiles, ds.sample, ds.type, "
        "ds.datasetInstruments di, di.instrument, ds.datasetTechniques dt, dt.technique"
    )
    return entity(rows[0]) if rows else None


def write_dataset(mx: MxCatalogue, spec: DatasetSpec) -> Registration:
    """Create or update one dataset from a spec (see the module docstring for the policy).

    New datasets are the common case, so the create is tried first (one call); ICAT's uniqueness of
    (investigation, name) answers OBJECT_ALREADY_EXISTS for a re-registration, which then reads the
    dataset and writes only the differences.
    """
    params = _parameter_fields(mx, spec)
    sample_id, sample_created = (None, False)
    if spec.sample:
        sample_id, sample_created = _sample_id(mx, spec.investigation_id, spec.sample)
    new = new_dataset(mx, spec, params, sample_id)
    try:
        dataset_id = mx.session.create({"Dataset": new})
    except ObjectAlreadyExistsError:
        current = _existing(mx, spec)
        if current is None:  # the conflict was something else
            raise
        return _update(mx, spec, current, params)
    except Exception:
        if sample_created and sample_id is not None:
            mx.registry.samples.pop((spec.investigation_id, str(spec.sample)), None)
            mx.session.delete([{"Sample": {"id": sample_id}}])
        raise
    return created_registration(mx, spec, dataset_id)


def created_registration(mx: MxCatalogue, spec: DatasetSpec, dataset_id: int) -> Registration:
    """The result of creating the dataset of ``spec``."""
    return _registration(mx, spec, dataset_id, "created", list(spec.warnings))


def _registration(mx: MxCatalogue, spec: DatasetSpec, dataset_id: int, status: str, warnings: list[str],
                  changes: dict[str, tuple[Any, Any]] | None = None) -> Registration:
    """What registering ``spec`` gave: ``status`` plus the spec's unverified keys, problems and warnings."""
    return Registration(dataset_id, spec.name, spec.investigation_id, status, changes=changes or {},
                        unverified=_reported(mx, spec), problems=list(spec.problems), warnings=warnings)


def new_dataset(
    mx: MxCatalogue, spec: DatasetSpec, params: dict[str, tuple[int, dict[str, Any]]], sample_id: int | None
) -> dict[str, Any]:
    """The nested ``Dataset`` fields that create the dataset of ``spec`` in one call."""
    new: dict[str, Any] = {
        "name": spec.name,
        "complete": True if spec.complete is None else spec.complete,
        "investigation": {"id": spec.investigation_id},
        "type": {"id": mx.registry.dataset_type(spec.dataset_type)},
        "parameters": [{"type": {"id": tid}, **fields} for tid, fields in params.values()],
        "datafiles": spec.datafiles,
    }
    for attr, value in (
        ("location", spec.location),
        ("startDate", spec.start),
        ("endDate", spec.end),
        ("description", spec.description),
    ):
        if value is not None:
            new[attr] = value
    if sample_id is not None:
        new["sample"] = {"id": sample_id}
    if spec.beamline:
        new["datasetInstruments"] = [{"instrument": {"id": mx.registry.instrument(spec.beamline)}}]
    if spec.techniques:
        new["datasetTechniques"] = [
            {"technique": {"id": mx.registry.technique(t, TECHNIQUE_PIDS.get(t.upper()))}}
            for t in dict.fromkeys(spec.techniques)
        ]
    return new


def _reported(mx: MxCatalogue, spec: DatasetSpec) -> list[str]:
    """Unverified keys worth reporting (the MX layer's own bookkeeping keys are not)."""
    return sorted(k for k in spec.unverified if k not in mx.internal_names)


def _update(
    mx: MxCatalogue, spec: DatasetSpec, current: dict[str, Any], params: dict[str, tuple[int, dict[str, Any]]]
) -> Registration:
    dataset_id = int(current["id"])
    changes: dict[str, tuple[Any, Any]] = {}
    writes: list[dict[str, Any]] = []
    warnings: list[str] = list(spec.warnings)
    by_type = {int(entity(p["type"])["id"]): p for p in current.get("parameters", [])}
    history_type = mx.parameter_types.internal("mxicat_history")
    for key, (tid, fields) in params.items():
        old = by_type.get(tid)
        resolved = mx.ontology.resolve(key) if key not in spec.unverified else None
        new_value = decode(resolved, fields)
        if old is None:
            changes[key] = (None, new_value)
            writes.append({"DatasetParameter": {"dataset": {"id": dataset_id}, "type": {"id": tid}, **fields}})
            continue
        old_value = decode(resolved, old)
        if key == FOLDED_KEY and isinstance(old_value, str):  # merge policy: keep keys not re-sent
            merged = {**json.loads(old_value), **json.loads(str(new_value))}
            new_value = json.dumps(merged, separators=(",", ":"))
            fields = {"stringValue": new_value}
        if not same_value(old_value, new_value):
            changes[key] = (old_value, new_value)
            cleared = {
                k: None
                for k in ("numericValue", "stringValue", "dateTimeValue")
                if old.get(k) is not None and k not in fields
            }
            writes.append({"DatasetParameter": {"id": old["id"], **cleared, **fields}})
    dataset_fields: dict[str, Any] = {}
    for attr, value in (
        ("location", spec.location),
        ("startDate", spec.start),
        ("endDate", spec.end),
        ("description", spec.description),
    ):
        if value is not None and not same_value(current.get(attr), value):
            changes[f"dataset.{attr}"] = (current.get(attr), value)
            dataset_fields[attr] = value
    if spec.sample:
        old_sample = entity(current["sample"]).get("name") if current.get("sample") else None
        if old_sample != spec.sample:
            sample_id, _ = _sample_id(mx, spec.investigation_id, spec.sample)
            changes["dataset.sample"] = (old_sample, spec.sample)
            dataset_fields["sample"] = {"id": sample_id}
    if current.get("complete") and spec.complete is False:
        warnings.append(f"dataset {spec.name!r} is complete; it is not reopened")
    elif spec.complete and not current.get("complete"):
        changes["dataset.complete"] = (False, True)
        dataset_fields["complete"] = True
    if dataset_fields:
        writes.append({"Dataset": {"id": dataset_id, **dataset_fields}})
    existing_files = {f["name"]: f for f in current.get("datafiles", [])}
    for datafile in spec.datafiles:
        old_file = existing_files.get(datafile["name"])
        if old_file is None:
            changes[f"datafile.{datafile['name']}"] = (None, datafile.get("location"))
            writes.append({"Datafile": {"dataset": {"id": dataset_id}, **datafile}})
        elif datafile.get("fileSize") is not None and old_file.get("fileSize") != datafile["fileSize"]:
            changes[f"datafile.{datafile['name']}.fileSize"] = (old_file.get("fileSize"), datafile["fileSize"])
            writes.append({"Datafile": {"id": old_file["id"], "fileSize": datafile["fileSize"]}})
    links = _missing_links(mx, spec, current, dataset_id)
    for kind, (link, label) in links:
        changes[f"dataset.{kind}"] = (None, label)
        writes.append(link)
    if not changes:
        return _registration(mx, spec, dataset_id, "unchanged", warnings)
    history = by_type.get(history_type)
    text = append_history(
        history.get("stringValue") if history else None, history_entry(mx.session.user_name, changes, datetime.now(UTC))
    )
    if history:
        writes.append({"DatasetParameter": {"id": history["id"], "stringValue": text}})
    else:
        writes.append(
            {"DatasetParameter": {"dataset": {"id": dataset_id}, "type": {"id": history_type}, "stringValue": text}}
        )
    mx.session.write(writes)
    logger.info("updated dataset %s (%d change(s))", spec.name, len(changes))
    return _registration(mx, spec, dataset_id, "updated", warnings, changes)


def _missing_links(
    mx: MxCatalogue, spec: DatasetSpec, current: dict[str, Any], dataset_id: int
) -> list[tuple[str, tuple[dict[str, Any], str]]]:
    """Instrument and technique links the spec adds to an existing dataset."""
    out: list[tuple[str, tuple[dict[str, Any], str]]] = []
    if spec.beamline:
        have = {
            str(entity(di["instrument"]).get("name", "")).lower()
            for di in current.get("datasetInstruments", [])
            if di.get("instrument")
        }
        if spec.beamline.lower() not in have:
            iid = mx.registry.instrument(spec.beamline)
            out.append(
                (
                    "instrument",
                    ({"DatasetInstrument": {"dataset": {"id": dataset_id}, "instrument": {"id": iid}}}, spec.beamline),
                )
            )
    have_t = {
        str(entity(dt["technique"]).get("name", ""))
        for dt in current.get("datasetTechniques", [])
        if dt.get("technique")
    }
    if have_t and not spec.techniques_given:
        return out
    for name in dict.fromkeys(spec.techniques):
        if name not in have_t:
            tid = mx.registry.technique(name, TECHNIQUE_PIDS.get(name.upper()))
            out.append(
                ("technique", ({"DatasetTechnique": {"dataset": {"id": dataset_id}, "technique": {"id": tid}}}, name))
            )
    return out


# -- raw collections ------------------------------------------------------------------------------


def build_collection_spec(
    mx: MxCatalogue,
    investigation_id: int,
    name: str,
    metadata: Mapping[str, Any],
    *,
    beamline: str | None = None,
    sample: str | None = None,
    location: str | os.PathLike[str] | None = None,
    datafiles: Sequence[Mapping[str, Any] | str | os.PathLike[str]] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    technique: str | None = None,
    complete: bool | None = None,
    dataset_type: str | None = None,
    description: str | None = None,
    units: Mapping[str, str] | None = None,
    record: str | None = "raw",
) -> DatasetSpec:
    """Validate metadata and collect everything a raw-collection registration writes."""
    if not name or not str(name).strip():
        raise BadParameterError("dataset name is empty")
    values, unverified, problems = split_metadata(mx, metadata, record=record, units=units)
    sample = sample or _as_text(values.get(SAMPLE_KEY))
    beamline = beamline or _as_text(values.get(BEAMLINE_KEY))
    if beamline and mx.ontology.resolve(BEAMLINE_KEY) is not None:
        values.setdefault(BEAMLINE_KEY, beamline)
    start = start or _as_datetime(values.get(START_KEY))
    end = end or _as_datetime(values.get(END_KEY))
    where = os.path.normpath(os.fspath(location)) if location else None
    return DatasetSpec(
        investigation_id=investigation_id,
        name=str(name).strip(),
        dataset_type=dataset_type or mx.raw_type,
        values=values,
        unverified=unverified,
        problems=problems,
        sample=sample,
        beamline=beamline.lower() if beamline else None,
        techniques=technique_for(values, technique),
        techniques_given=bool(technique) or SERIAL_KEY in values,
        location=where,
        datafiles=datafile_entries(datafiles, where),
        start=start,
        end=end,
        complete=complete,
        description=description,
    )


def _as_text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _as_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None
