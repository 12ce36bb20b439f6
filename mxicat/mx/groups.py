"""Named groups of datasets (merges, multi-sweep, multi-crystal, SSX chunks) as ICAT DataCollections.

A group is a ``DataCollection`` with ``DataCollectionDataset`` members, a ``DataCollectionInvestigation``
per investigation when the members span several, and ``DataCollectionParameter`` values: the group name
(``mxicat_group_name``), its kind (``mxicat_group_kind``) and any ``parameters`` given (ontology terms
validated, other keys stored unverified). ICAT's DataCollection has no name and no uniqueness, so the MX
layer keeps names unique among the groups a user can see: grouping again under an existing name adds the
missing members (idempotent) and refuses a different kind.

Writes are few and large so that a 10,000-member SSX group costs a handful of calls: the collection is
created with its first :data:`CHUNK` members nested, the rest go in ``create_many`` batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.mx import jpql
from mxicat.mx.facility import entity
from mxicat.mx.params import decode, encode, unverified_parameter_type

if TYPE_CHECKING:
    from mxicat.mx.facade import DatasetRef, MxCatalogue

KINDS: tuple[str, ...] = ("merge", "multi_sweep", "multi_crystal", "ssx_chunks")
CHUNK = 5000
NAME_TYPE = "mxicat_group_name"
KIND_TYPE = "mxicat_group_kind"


def _group_parameters(mx: MxCatalogue, name: str, kind: str,
                      parameters: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    out = [
        {"type": {"id": mx.parameter_types.internal(NAME_TYPE)}, "stringValue": name},
        {"type": {"id": mx.parameter_types.internal(KIND_TYPE)}, "stringValue": kind},
    ]
    if not parameters:
        return out
    from mxicat.ontology import validate

    result = validate(dict(parameters), ontology=mx.ontology, warn=False)
    if result.problems:
        raise BadParameterError("group parameters: " + "; ".join(str(p) for p in result.problems))
    definitions: dict[tuple[str, str], dict[str, Any]] = {}
    encoded: list[tuple[tuple[str, str], dict[str, Any]]] = []
    for key, value in result.values.items():
        resolved = mx.ontology.resolve(key)
        assert resolved is not None
        definition = dict(mx.term_definitions[resolved.icat_name])
        definition["applicableToDataCollection"] = True
        type_key = (definition["name"], definition["units"])
        definitions[type_key] = definition
        encoded.append((type_key, encode(resolved, value)))
    for key, value in result.unmapped.items():
        definition = unverified_parameter_type(key)
        definition["applicableToDataCollection"] = True
        type_key = (definition["name"], definition["units"])
        definitions[type_key] = definition
        encoded.append((type_key, encode(None, value)))
    ids = mx.parameter_types.ensure(definitions.values())
    out.extend({"type": {"id": ids[k]}, **fields} for k, fields in encoded)
    return out


def find_group(mx: MxCatalogue, name: str) -> dict[str, Any] | None:
    """The visible group called ``name`` (with its parameters), or None."""
    rows = mx.session.search(
        "SELECT dc FROM DataCollection dc JOIN dc.parameters gp JOIN gp.type gpt "
        f"WHERE gpt.name = {jpql.string(NAME_TYPE)} AND gp.stringValue = {jpql.string(name)} "
        "ORDER BY dc.id INCLUDE dc.parameters p, p.type"
    )
    return _summary(entity(rows[0])) if rows else None


def _summary(dc: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    name = kind = None
    for p in dc.get("parameters", []):
        ptype = entity(p.get("type") or {})
        pname = ptype.get("name")
        if pname == NAME_TYPE:
            name = p.get("stringValue")
        elif pname == KIND_TYPE:
            kind = p.get("stringValue")
        elif pname:
            params[pname] = decode(None, p) if p.get("numericValue") is None else p["numericValue"]
    return {"id": int(dc["id"]), "name": name, "kind": kind, "parameters": params}


def member_ids(mx: MxCatalogue, group_id: int) -> list[int]:
    """Ids of the visible member datasets of a group."""
    return [int(v) for v in mx.session.search_chunked(
        f"SELECT ds.id FROM Dataset ds JOIN ds.dataCollectionDatasets dcd "
        f"WHERE dcd.dataCollection.id = {int(group_id)} ORDER BY ds.id")]


def group(mx: MxCatalogue, name: str, datasets: Sequence[DatasetRef], *, kind: str = "merge",
          parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create (or extend) the group ``name`` of ``datasets``; returns its summary with ``size``.

    Raises:
        BadParameterError: unknown kind, empty group, or an existing group of another kind.
    """
    from mxicat.mx.detail import resolve_datasets

    if kind not in KINDS:
        raise BadParameterError(f"group kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not name or not name.strip():
        raise BadParameterError("group name is empty")
    name = name.strip()
    ids = list(dict.fromkeys(resolve_datasets(mx, datasets)))
    if not ids:
        raise BadParameterError(f"group {name!r}: no datasets given")
    existing = find_group(mx, name)
    if existing is not None:
        if existing["kind"] != kind:
            raise BadParameterError(f"group {name!r} exists with kind {existing['kind']!r}, not {kind!r}")
        have = set(member_ids(mx, existing["id"]))
        missing = [i for i in ids if i not in have]
        _add_members(mx, existing["id"], missing)
        group_id = existing["id"]
    else:
        first, rest = ids[:CHUNK], ids[CHUNK:]
        group_id = mx.session.create({"DataCollection": {
            "parameters": _group_parameters(mx, name, kind, parameters),
            "dataCollectionDatasets": [{"dataset": {"id": i}} for i in first],
        }})
        try:
            _add_members(mx, group_id, rest)
        except Exception:
            mx.session.delete([{"DataCollection": {"id": group_id}}])
            raise
    investigations = _link_investigations(mx, group_id)
    size = mx.session.search(
        f"SELECT COUNT(dcd) FROM DataCollectionDataset dcd WHERE dcd.dataCollection.id = {group_id}")
    return {"id": group_id, "name": name, "kind": kind, "size": int(size[0]) if size else len(ids),
            "investigations": investigations}


def _add_members(mx: MxCatalogue, group_id: int, ids: list[int]) -> None:
    for chunk in jpql.chunks(ids, CHUNK):
        mx.session.create_many([
            {"DataCollectionDataset": {"dataCollection": {"id": group_id}, "dataset": {"id": i}}}
            for i in chunk
        ])


def _link_investigations(mx: MxCatalogue, group_id: int) -> list[int]:
    """Add a DataCollectionInvestigation for each investigation when members span several."""
    investigations = sorted(int(v) for v in mx.session.search(
        "SELECT DISTINCT ds.investigation.id FROM Dataset ds JOIN ds.dataCollectionDatasets dcd "
        f"WHERE dcd.dataCollection.id = {group_id}"))
    if len(investigations) > 1:
        linked = {int(v) for v in mx.session.search(
            "SELECT dci.investigation.id FROM DataCollectionInvestigation dci "
            f"WHERE dci.dataCollection.id = {group_id}")}
        new = [i for i in investigations if i not in linked]
        if new:
            mx.session.create_many([
                {"DataCollectionInvestigation": {"dataCollection": {"id": group_id},
                                                 "investigation": {"id": i}}} for i in new])
    return investigations


def list_groups(mx: MxCatalogue, dataset_id: int | None = None) -> list[dict[str, Any]]:
    """Visible groups (those holding ``dataset_id`` when given), each with its visible ``size``."""
    where = f"gpt.name = {jpql.string(NAME_TYPE)}"
    if dataset_id is not None:
        where += (" AND dc.id IN (SELECT dcd.dataCollection.id FROM DataCollectionDataset dcd "
                  f"WHERE dcd.dataset.id = {int(dataset_id)})")
    rows = mx.session.search(
        "SELECT dc FROM DataCollection dc JOIN dc.parameters gp JOIN gp.type gpt "
        f"WHERE {where} ORDER BY dc.id INCLUDE dc.parameters p, p.type")
    out = []
    for row in rows:
        summary = _summary(entity(row))
        count = mx.session.search(
            "SELECT COUNT(ds) FROM Dataset ds JOIN ds.dataCollectionDatasets dcd "
            f"WHERE dcd.dataCollection.id = {summary['id']}")
        summary["size"] = int(count[0]) if count else 0
        out.append(summary)
    return out
