"""Reading datasets back: references → ids, canonical summaries, full detail with provenance, mmCIF export.

Parameters are turned back into canonical keys through the ontology (an ICAT name resolves to its term and
shell); a value stored in another unit than the term's canonical one (data written by other tools into a
real ICAT) is converted with pint. Parameters of unverified types come back under their own key in
``unverified``; the MX layer's bookkeeping types (``mxicat_*``) are reported separately.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, NoSuchObjectFoundError, ValidationError
from mxicat.mx import jpql
from mxicat.mx.facility import NO_UNITS, entity
from mxicat.mx.params import INTERNAL_TYPES, decode

if TYPE_CHECKING:
    from mxicat.mx.facade import DatasetRef, MxCatalogue

MAX_GRAPH = 1000  # provenance nodes followed at most (each direction)


def _is_path(text: str) -> bool:
    return "/" in text or "\\" in text


def resolve_datasets(mx: MxCatalogue, refs: Sequence[DatasetRef], *,
                     investigation: str | int | None = None) -> list[int]:
    """Dataset ids for ids, names (unique among visible datasets, or within ``investigation``) and paths.

    A path matches ``Dataset.location`` (normalised) or the location of one of the dataset's datafiles;
    a directory holding several datasets yields them all. Integers are taken as ids without a query.

    Raises:
        NoSuchObjectFoundError: a name or path matches no visible dataset.
        BadParameterError: a name matches several datasets.
    """
    out: list[int] = []
    names: list[str] = []
    for ref in refs:
        if isinstance(ref, bool):
            raise BadParameterError(f"not a dataset reference: {ref!r}")
        if isinstance(ref, int):
            out.append(ref)
        elif isinstance(ref, str) and ref.strip().isdecimal():
            out.append(int(ref.strip()))
        elif isinstance(ref, str | os.PathLike):
            text = os.fspath(ref).strip()
            if not text:
                raise BadParameterError("empty dataset reference")
            if _is_path(text):
                out.extend(_by_path(mx, text))
            else:
                names.append(text)
        else:
            raise BadParameterError(f"not a dataset reference: {ref!r}")
    if names:
        by_name = _by_names(mx, names, investigation)
        out.extend(by_name[n] for n in names)
    return out


def _by_path(mx: MxCatalogue, path: str) -> list[int]:
    normal = os.path.normpath(path)
    candidates = list(dict.fromkeys([normal, path, normal + "/"]))
    rows = mx.session.search(
        f"SELECT ds.id FROM Dataset ds WHERE ds.location IN {jpql.strings(candidates)} ORDER BY ds.id")
    if not rows:
        rows = mx.session.search(
            "SELECT DISTINCT ds.id FROM Dataset ds JOIN ds.datafiles df "
            f"WHERE df.location IN {jpql.strings(candidates)} ORDER BY ds.id")
    if not rows:
        raise NoSuchObjectFoundError(f"no visible dataset at {path!r}")
    return [int(v) for v in rows]


def _by_names(mx: MxCatalogue, names: list[str], investigation: str | int | None) -> dict[str, int]:
    scope = ""
    if investigation is not None:
        scope = f" AND ds.investigation.id = {mx._investigation_id(investigation)}"  # noqa: SLF001
    found: dict[str, list[tuple[int, str]]] = {}
    for chunk in jpql.chunks(list(dict.fromkeys(names)), 200):
        for row in mx.session.search(
            "SELECT ds.id, ds.name, ds.investigation.name FROM Dataset ds "
            f"WHERE ds.name IN {jpql.strings(chunk)}{scope}"
        ):
            found.setdefault(str(row[1]), []).append((int(row[0]), str(row[2])))
    out: dict[str, int] = {}
    for name in names:
        matches = found.get(name, [])
        if not matches:
            raise NoSuchObjectFoundError(f"no visible dataset named {name!r}")
        if len(matches) > 1:
            where = ", ".join(f"{inv} (id {i})" for i, inv in matches)
            raise BadParameterError(f"dataset name {name!r} is ambiguous: {where}; use the id")
        out[name] = matches[0][0]
    return out


def _convert(mx: MxCatalogue, resolved: Any, value: Any, stored_units: str | None) -> Any:
    term = resolved.term
    if not term.numeric or value is None or not stored_units or stored_units == NO_UNITS:
        return value
    if stored_units == (term.unit or NO_UNITS):
        return value
    from mxicat.ontology.units import convert_magnitude

    try:
        converted = convert_magnitude(value, stored_units, term.unit)
    except ValueError:
        return value
    return int(round(converted)) if term.type == "int" else float(converted)


def decode_parameters(mx: MxCatalogue, params: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"metadata", "units", "unverified", "internal"}`` from DatasetParameters with their types."""
    metadata: dict[str, Any] = {}
    units: dict[str, str] = {}
    unverified: dict[str, Any] = {}
    internal: dict[str, Any] = {}
    for param in params:
        ptype = entity(dict(param.get("type") or {}))
        name = str(ptype.get("name", ""))
        if name in INTERNAL_TYPES:
            internal[name] = param.get("stringValue")
            continue
        resolved = mx.ontology.resolve(name) if ptype.get("verified", True) is not False else None
        if resolved is None:
            unverified[name] = decode(None, param)
            continue
        metadata[resolved.key] = _convert(mx, resolved, decode(resolved, param), ptype.get("units"))
        if resolved.term.unit:
            units[resolved.key] = resolved.term.unit
    folded = internal.get("mxicat_unverified")
    if folded:
        try:
            unverified.update(json.loads(folded))
        except ValueError:
            unverified["mxicat_unverified"] = folded
    return {"metadata": dict(sorted(metadata.items())), "units": dict(sorted(units.items())),
            "unverified": dict(sorted(unverified.items())), "internal": internal}


def summarize(mx: MxCatalogue, row: Mapping[str, Any]) -> dict[str, Any]:
    """Summary of a Dataset fetched with its parameters, investigation, type, sample and instruments."""
    ds = entity(dict(row))
    decoded = decode_parameters(mx, ds.get("parameters", []))
    investigation = entity(ds.get("investigation") or {})
    instruments = sorted(str(entity(di["instrument"]).get("name")) for di in
                         ds.get("datasetInstruments", []) if di.get("instrument"))
    summary: dict[str, Any] = {
        "id": int(ds["id"]),
        "name": ds.get("name"),
        "doi": ds.get("doi"),
        "investigation": investigation.get("name"),
        "visit": investigation.get("visitId"),
        "investigation_id": investigation.get("id"),
        "type": entity(ds.get("type") or {}).get("name"),
        "sample": entity(ds.get("sample") or {}).get("name") if ds.get("sample") else None,
        "beamline": instruments[0] if len(instruments) == 1 else (instruments or None),
        "location": ds.get("location"),
        "start_time": ds.get("startDate"),
        "end_time": ds.get("endDate"),
        "complete": ds.get("complete"),
        "metadata": decoded["metadata"],
        "unverified": decoded["unverified"],
        "_units": decoded["units"],
        "_internal": decoded["internal"],
        "_order": {"ds.id": ds["id"], "ds.name": ds.get("name"), "ds.startDate": ds.get("startDate"),
                   "ds.endDate": ds.get("endDate")},
    }
    return summary


DETAIL_INCLUDE = ("INCLUDE ds.parameters p, p.type, ds.investigation, ds.type, ds.sample, ds.datafiles, "
                  "ds.datasetInstruments di, di.instrument, ds.datasetTechniques dt, dt.technique")


def search_adaptive(mx: MxCatalogue, make_query: Callable[[int], str], size: int) -> tuple[list[Any], int]:
    """Run ``make_query(size)``, halving ``size`` while the catalogue refuses the answer as larger than
    its ``maxEntities`` (INCLUDEd parameters count); returns the rows and the size that worked."""
    while True:
        try:
            return mx.session.search(make_query(size)), size
        except ValidationError:
            if size <= 1:
                raise
            size = max(1, size // 2)


def fetch_summaries(mx: MxCatalogue, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Summaries (plus ``datafiles`` and ``techniques``) of the visible datasets among ``ids``, in batches."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    out: dict[int, dict[str, Any]] = {}
    start, size = 0, 50
    def batch_query(first: int) -> Callable[[int], str]:
        return lambda n: (f"SELECT ds FROM Dataset ds WHERE ds.id IN {jpql.ids(wanted[first:first + n])} "
                          f"{DETAIL_INCLUDE}")

    while start < len(wanted):
        rows, size = search_adaptive(mx, batch_query(start), size)
        for row in rows:
            ds = entity(row)
            summary = summarize(mx, row)
            summary["datafiles"] = [{"id": f["id"], "name": f.get("name"), "location": f.get("location"),
                                     "size": f.get("fileSize")} for f in ds.get("datafiles", [])]
            summary["techniques"] = sorted(str(entity(t["technique"]).get("name")) for t in
                                           ds.get("datasetTechniques", []) if t.get("technique"))
            out[summary["id"]] = summary
        start += size
    return out


def fetch_summary(mx: MxCatalogue, dataset_id: int) -> dict[str, Any]:
    """Summary of one dataset plus ``datafiles`` and ``techniques`` (private keys kept).

    Raises:
        NoSuchObjectFoundError: no such dataset, or not visible to this user.
    """
    found = fetch_summaries(mx, [dataset_id])
    if int(dataset_id) not in found:
        raise NoSuchObjectFoundError(f"dataset {dataset_id} not found (or not visible)")
    return found[int(dataset_id)]


def _links(mx: MxCatalogue, node_ids: list[int], *, upstream: bool) -> list[tuple[int, str, str, int, str]]:
    """(node id, program, version, linked dataset id, linked dataset name) for Jobs around these datasets.

    Only Datasets (and the public Application) are selected; Jobs and DataCollections appear in joins only,
    so -- as in ICAT -- a user sees the provenance links between the datasets he may read even where the
    Job and DataCollection objects themselves are private to their creator.
    """
    mine = "outputDataCollection" if upstream else "inputDataCollection"
    rows: list[tuple[int, str, str, int, str]] = []
    for chunk in jpql.chunks(sorted(set(node_ids)), 500):
        query = (
            "SELECT mdcd.dataset.id, a.name, a.version, ds.id, ds.name FROM Dataset ds "
            "JOIN ds.dataCollectionDatasets dcd JOIN dcd.dataCollection dc "
            f"JOIN dc.{'jobsAsInput' if upstream else 'jobsAsOutput'} j JOIN j.application a "
            f"JOIN j.{mine} mdc JOIN mdc.dataCollectionDatasets mdcd "
            f"WHERE mdcd.dataset.id IN {jpql.ids(chunk)} ORDER BY ds.id")
        rows.extend((int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]))
                    for r in mx.session.search_chunked(query))
    return rows


def provenance(mx: MxCatalogue, dataset_id: int) -> dict[str, Any]:
    """Direct inputs/outputs, the transitive upstream/downstream datasets, and the jobs between them.

    The graph is followed one level at a time (one query per level and direction, chunked), up to
    :data:`MAX_GRAPH` datasets per direction. A job is identified by (program, version, output dataset).
    """
    result: dict[str, Any] = {"inputs": [], "outputs": [], "upstream": [], "downstream": [], "jobs": []}
    jobs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for upstream, direct_key, all_key in ((True, "inputs", "upstream"), (False, "outputs", "downstream")):
        visited = {dataset_id}
        level, depth = [dataset_id], 0
        while level and len(visited) <= MAX_GRAPH:
            depth += 1
            following: list[int] = []
            for node, program, version, linked, name in _links(mx, level, upstream=upstream):
                output, source = (node, linked) if upstream else (linked, node)
                job = jobs.setdefault((program, version, output), {
                    "program": program, "version": version, "inputs": [], "outputs": [output]})
                if source not in job["inputs"]:
                    job["inputs"].append(source)
                entry = {"id": linked, "name": name}
                if node == dataset_id and entry not in result[direct_key]:
                    result[direct_key].append(entry)
                if linked not in visited:
                    visited.add(linked)
                    result[all_key].append({**entry, "depth": depth})
                    following.append(linked)
            level = following
    result["jobs"] = list(jobs.values())
    return result


def dataset_detail(mx: MxCatalogue, dataset_id: int) -> dict[str, Any]:
    """Everything about one dataset: summary, units, datafiles, provenance, groups, unverified, history."""
    from mxicat.mx.groups import list_groups

    summary = fetch_summary(mx, dataset_id)
    internal = summary.pop("_internal")
    summary["units"] = summary.pop("_units")
    summary.pop("_order")
    summary["provenance"] = provenance(mx, dataset_id)
    summary["groups"] = [{k: g[k] for k in ("id", "name", "kind", "size")}
                         for g in list_groups(mx, dataset_id)]
    summary["input_datasets"] = [p for p in str(summary["metadata"].get("input_datasets") or "").split(",")
                                 if p]
    summary["software"] = _json_list(internal.get("mxicat_software"))
    summary["history"] = _json_list(internal.get("mxicat_history"))
    return summary


def _json_list(text: str | None) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _export_record(mx: MxCatalogue, dataset_id: int) -> Any:
    from mxicat.mx.mmcif_export import ExportRecord

    summary = fetch_summary(mx, dataset_id)
    technique = "SSX" if "SSX" in summary["techniques"] else "MX"
    if summary["type"] != mx.processed_type:
        return ExportRecord(raw=[summary["metadata"]], technique=technique, name=summary["name"])
    graph = provenance(mx, dataset_id)
    raw_ids = [d["id"] for d in graph["upstream"]]
    upstream = fetch_summaries(mx, raw_ids)
    raw = [upstream[i]["metadata"] for i in raw_ids if i in upstream and upstream[i]["type"] == mx.raw_type]
    software = _json_list(summary["_internal"].get("mxicat_software"))
    if not software:
        software = [{"name": j["program"], "version": j["version"], "classification": "data reduction"}
                    for j in graph["jobs"] if dataset_id in j.get("outputs", [])]
    return ExportRecord(raw=raw, processed=summary["metadata"], software=software,
                        technique=technique, name=summary["name"])


def export_mmcif(mx: MxCatalogue, ref: DatasetRef | Mapping[str, Any], *, group: bool = False) -> str:
    """mmCIF text for a dataset, or for a group (one data block per processed member, else one of raws)."""
    from mxicat.mx.groups import find_group, member_ids
    from mxicat.mx.mmcif_export import ExportRecord
    from mxicat.mx.mmcif_export import export_mmcif as write_mmcif

    if isinstance(ref, Mapping) or group:
        if isinstance(ref, Mapping):
            group_id = int(ref["id"])
        else:
            found = find_group(mx, str(ref))
            if found is None:
                raise NoSuchObjectFoundError(f"no visible group named {ref!r}")
            group_id = found["id"]
        members = list(fetch_summaries(mx, member_ids(mx, group_id)).values())
        processed = [m for m in members if m["type"] == mx.processed_type]
        if processed:
            records = [_export_record(mx, m["id"]) for m in processed]
        else:
            technique = "SSX" if any("SSX" in m["techniques"] for m in members) else "MX"
            records = [ExportRecord(raw=[m["metadata"] for m in members], technique=technique,
                                    name=str(ref if not isinstance(ref, Mapping) else ref.get("name")))]
        return write_mmcif(records, ontology=mx.ontology)
    return write_mmcif(_export_record(mx, mx.dataset_id(ref)), ontology=mx.ontology)
