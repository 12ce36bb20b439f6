"""Register processed datasets (integration, scaling, merging results) with ICAT-native provenance.

Provenance is stored the way ICAT models it:

* ``Application(name=program, version)`` of the facility (``version`` ``"unknown"`` when not given);
* a ``Job`` of that application whose ``inputDataCollection`` holds the raw (or earlier processed) input
  datasets and whose ``outputDataCollection`` holds the new processed dataset;
* plus the pyicat-plus ``input_datasets`` parameter: the inputs' locations (directory paths), comma-joined,
  so tools that only know pyicat-plus conventions still see the link.

Inputs may be given as dataset ids, names, or raw directory paths (``Dataset.location``, or the location of
one of its datafiles), as pyicat-plus does; for an ISPyB dict without explicit inputs they are the raw
datasets whose ``data_collection_id`` matches each integration's ``dataCollectionId`` (1 scaling : N
integrations). Per-integration values are kept as JSON in ``mxicat_integrations``.

Metadata may be given as canonical values, as an ISPyB-style integration/scaling dict
(:mod:`mxicat.mx.ispyb`), or as an mmCIF file (:func:`mxicat.harvest.mmcif.import_mmcif`). The full
``_software`` list is kept in ``mxicat_software``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, NoSuchObjectFoundError
from mxicat.mx import jpql
from mxicat.mx.collections import (
    DatasetSpec,
    Registration,
    datafile_entries,
    split_metadata,
    technique_for,
    write_dataset,
)
from mxicat.mx.facility import entity

if TYPE_CHECKING:
    from mxicat.mx.facade import DatasetRef, MxCatalogue

UNKNOWN_VERSION = "unknown"


def _inputs_from_ispyb(mx: MxCatalogue, collection_ids: Sequence[Any]) -> list[int]:
    """Raw datasets whose ``data_collection_id`` (``MX_dataCollectionId``) is one of the ISPyB ids."""
    if not collection_ids:
        return []
    resolved = mx.ontology.resolve("data_collection_id")
    if resolved is None:
        return []
    rows = mx.session.search(
        "SELECT DISTINCT p.dataset.id, p.stringValue FROM DatasetParameter p JOIN p.type pt "
        f"WHERE pt.name = {jpql.string(resolved.icat_name)} "
        f"AND p.stringValue IN {jpql.strings([str(c) for c in collection_ids])}")
    by_collection: dict[str, list[int]] = {}
    for dataset_id, collection in rows:
        by_collection.setdefault(str(collection), []).append(int(dataset_id))
    missing = [str(c) for c in collection_ids if str(c) not in by_collection]
    if missing:
        raise NoSuchObjectFoundError(
            f"no visible raw dataset with data_collection_id {', '.join(missing)} (ISPyB integrations)")
    return [i for c in collection_ids for i in by_collection[str(c)]]


def _input_records(mx: MxCatalogue, inputs: Sequence[DatasetRef]) -> list[dict[str, Any]]:
    from mxicat.mx.detail import resolve_datasets

    ids = resolve_datasets(mx, inputs)
    rows: list[dict[str, Any]] = []
    for chunk in jpql.chunks(list(dict.fromkeys(ids)), 500):
        rows.extend(entity(r) for r in mx.session.search(
            f"SELECT ds FROM Dataset ds WHERE ds.id IN {jpql.ids(chunk)} "
            "INCLUDE ds.investigation, ds.sample"))
    by_id = {int(r["id"]): r for r in rows}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def register_processed(
    mx: MxCatalogue,
    name: str,
    *,
    inputs: Sequence[DatasetRef],
    investigation: str | int | Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    ispyb: Mapping[str, Any] | None = None,
    mmcif: str | os.PathLike[str] | None = None,
    block: str | None = None,
    program: str | None = None,
    version: str | None = None,
    arguments: str | None = None,
    location: str | os.PathLike[str] | None = None,
    datafiles: Sequence[Mapping[str, Any] | str | os.PathLike[str]] = (),
    sample: str | None = None,
    technique: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    description: str | None = None,
    units: Mapping[str, str] | None = None,
) -> Registration:
    """Register a processed dataset made from ``inputs`` by ``program``.

    Exactly the metadata sources given are merged in this order: mmCIF, ISPyB dict, ``values`` (later
    wins). The investigation defaults to the first input's; the sample to the inputs' common sample.
    Re-registration follows the collection policy (idempotent on investigation + name); the Job is
    created once per (dataset, program, version, inputs).

    Raises:
        BadParameterError: no inputs, no metadata, or no program.
        NoSuchObjectFoundError: an input cannot be found.
    """
    metadata: dict[str, Any] = {}
    software: list[dict[str, Any]] = []
    mmcif_technique: str | None = None
    warnings: list[str] = []
    if mmcif is not None:
        from mxicat.harvest.mmcif import import_mmcif

        result = import_mmcif(mmcif, block=block, ontology=mx.ontology)
        metadata.update(result.metadata)
        for item, text in result.unmapped.items():
            metadata.setdefault(item, text)
        software.extend(dict(s) for s in result.software)
        mmcif_technique = result.technique
        warnings.extend(result.warnings)
    integrations: list[dict[str, Any]] = []
    if ispyb is not None:
        from mxicat.mx.ispyb import from_ispyb

        scaling = from_ispyb(ispyb, units=units, ontology=mx.ontology)
        metadata.update(scaling.metadata)
        for key, value in scaling.unmapped.items():
            metadata.setdefault(key, value)
        software.extend(dict(s) for s in scaling.software)
        warnings.extend(scaling.warnings)
        integrations = [{"data_collection_id": i.data_collection_id, **i.metadata}
                        for i in scaling.integrations]
        if not inputs:
            inputs = _inputs_from_ispyb(mx, scaling.data_collection_ids)
    if not inputs:
        raise BadParameterError("a processed dataset needs at least one input dataset")
    if values:
        metadata.update(values)
    if not metadata:
        raise BadParameterError("no metadata: give values=, ispyb= or mmcif=")
    program, version = _program(program, version, software, metadata)
    sources = _input_records(mx, inputs)
    if investigation is None:
        investigation_id = int(entity(sources[0]["investigation"])["id"])
    else:
        investigation_id = mx._investigation_id(investigation)  # noqa: SLF001 - facade helper
    canonical, unverified, problems = split_metadata(mx, metadata, record=None, units=units)
    samples = {entity(s["sample"])["name"] for s in sources if s.get("sample")}
    if sample is None and len(samples) == 1:
        sample = next(iter(samples))
    locations = [s.get("location") or s["name"] for s in sources]
    canonical["input_datasets"] = ",".join(os.path.normpath(str(x)) for x in locations)
    canonical.setdefault("software", program)
    if version != UNKNOWN_VERSION:
        canonical.setdefault("software_version", version)
    if software:
        unverified["mxicat_software"] = json.dumps(software, separators=(",", ":"))
    if integrations:
        text = json.dumps(integrations, separators=(",", ":"), default=str)
        if len(text) > 4000:  # ICAT string limit: keep the links, drop the refined values
            text = json.dumps([{"data_collection_id": i["data_collection_id"]} for i in integrations],
                              default=str)[:4000]
        unverified["mxicat_integrations"] = text
    where = os.path.normpath(os.fspath(location)) if location else None
    spec = DatasetSpec(
        investigation_id=investigation_id,
        name=name,
        dataset_type=mx.processed_type,
        values=canonical,
        unverified=unverified,
        problems=problems,
        sample=sample,
        techniques=technique_for(canonical, technique or mmcif_technique),
        techniques_given=bool(technique or mmcif_technique) or "serial_experiment" in canonical,
        location=where,
        datafiles=datafile_entries(datafiles, where),
        start=start,
        end=end,
        description=description,
    )
    registration = write_dataset(mx, spec)
    registration.warnings.extend(warnings)
    _ensure_job(mx, registration.id, [int(s["id"]) for s in sources], program, version, arguments)
    return registration


def _program(program: str | None, version: str | None, software: list[dict[str, Any]],
             metadata: Mapping[str, Any]) -> tuple[str, str]:
    """The producing program: given, else the scaling/reduction ``_software`` row, else metadata."""
    if not program:
        ranked = sorted(
            (s for s in software if s.get("name")),
            key=lambda s: 0 if "scal" in str(s.get("classification") or "").lower()
            else 1 if "reduc" in str(s.get("classification") or "").lower() else 2,
        )
        if ranked:
            program = str(ranked[0]["name"])
            version = version or (str(ranked[0]["version"]) if ranked[0].get("version") else None)
    if not program:
        for key in ("program", "Process_program", "processing_program"):
            if metadata.get(key):
                program = str(metadata[key])
                break
    if not program:
        raise BadParameterError("the producing program is unknown: give program=")
    return program, version or UNKNOWN_VERSION


def _ensure_job(mx: MxCatalogue, dataset_id: int, input_ids: list[int], program: str, version: str,
                arguments: str | None) -> int:
    """The Job linking inputs → dataset for this application (created unless it exists already)."""
    application_id = mx.registry.application(program, version)
    wanted = sorted(set(input_ids))
    for row in mx.session.search(
        "SELECT j FROM Job j JOIN j.outputDataCollection odc JOIN odc.dataCollectionDatasets odcd "
        f"WHERE odcd.dataset.id = {dataset_id} AND j.application.id = {application_id} "
        "INCLUDE j.inputDataCollection idc, idc.dataCollectionDatasets idcd, idcd.dataset"
    ):
        fields = entity(row)
        idc = fields.get("inputDataCollection") or {}
        have = sorted(int(entity(d["dataset"])["id"]) for d in entity(idc).get("dataCollectionDatasets", [])
                      if d.get("dataset"))
        if have == wanted:
            return int(fields["id"])
    input_dc = mx.session.create({"DataCollection": {
        "dataCollectionDatasets": [{"dataset": {"id": i}} for i in wanted]}})
    created: list[dict[str, Any]] = [{"DataCollection": {"id": input_dc}}]
    try:
        output_dc = mx.session.create({"DataCollection": {
            "dataCollectionDatasets": [{"dataset": {"id": dataset_id}}]}})
        created.append({"DataCollection": {"id": output_dc}})
        job: dict[str, Any] = {"application": {"id": application_id},
                               "inputDataCollection": {"id": input_dc},
                               "outputDataCollection": {"id": output_dc}}
        if arguments:
            job["arguments"] = arguments
        return mx.session.create({"Job": job})
    except Exception:
        mx.session.delete(created)
        raise
