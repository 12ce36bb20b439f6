"""Portal reads beside dataset search: facets, investigations, samples and persistent identifiers.

Everything is ICAT JPQL through the caller's session, so every number and name is what that user may read:
facet counts are ``COUNT(ds)`` queries (READ restriction on the datasets counted), candidate facet values
come from tables the user can read. Facets are computed value by value (one count query per candidate)
rather than with ``GROUP BY`` over joined entities, because ICAT restricts only the *selected* entity of
a query, and a grouped select of an instrument name would not restrict the datasets behind the count.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.mx import jpql
from mxicat.mx.facility import entity
from mxicat.mx.search import compile_filter

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mxicat.mx.facade import MxCatalogue

FACETS: tuple[str, ...] = ("beamline", "technique", "space_group", "year", "investigation")
MAX_FACET_VALUES = 200


def dataset_pid(facility: str, dataset_id: int, doi: str | None) -> str:
    """The permanent identifier of a dataset: its DOI, else ``mxicat:<facility>:dataset:<id>``."""
    return doi if doi else f"mxicat:{facility}:dataset:{int(dataset_id)}"


def entity_pid(facility: str, kind: str, entity_id: int, pid: str | None = None) -> str:
    """The permanent identifier of another entity: its own pid/DOI, else ``mxicat:<facility>:<kind>:<id>``."""
    return pid if pid else f"mxicat:{facility}:{kind}:{int(entity_id)}"


def parse_local_pid(pid: str, kind: str) -> int | None:
    """The id inside a local pid ``mxicat:<facility>:<kind>:<id>`` (None for other pids, e.g. DOIs)."""
    parts = pid.rsplit(":", 2)
    if pid.startswith("mxicat:") and len(parts) == 3 and parts[1] == kind and parts[2].isdecimal():
        return int(parts[2])
    return None


def facility_name(mx: MxCatalogue) -> str:
    """Name of the catalogue's facility as the caller reads it (``mxicat`` when none is readable)."""
    rows = mx.session.search("SELECT f.name FROM Facility f ORDER BY f.id LIMIT 0, 1")
    return str(rows[0]) if rows else "mxicat"


def attach_pids(mx: MxCatalogue, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``pid`` and ``doi`` to dataset summaries (one query for the page, when they lack ``doi``)."""
    if not items:
        return items
    facility = facility_name(mx)
    dois: dict[int, str | None] = {int(i["id"]): i["doi"] for i in items if "doi" in i}
    missing = [int(i["id"]) for i in items if "doi" not in i]
    for chunk in jpql.chunks(missing, 500):
        for row in mx.session.search(f"SELECT ds.id, ds.doi FROM Dataset ds WHERE ds.id IN {jpql.ids(chunk)}"):
            dois[int(row[0])] = row[1]
    for item in items:
        doi = dois.get(int(item["id"]))
        item["doi"] = doi
        item["pid"] = dataset_pid(facility, int(item["id"]), doi)
    return items


def parameter_list(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"name", "value", "unit"}]`` of a dataset detail's canonical ``metadata`` and ``units``."""
    units = detail.get("units", {})
    return [{"name": k, "value": v, "unit": units.get(k)} for k, v in detail.get("metadata", {}).items()]


def _count(mx: MxCatalogue, where: str) -> int:
    rows = mx.session.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE {where}")
    return int(rows[0]) if rows else 0


def _candidates(mx: MxCatalogue, facet: str) -> list[Any]:
    if facet == "beamline":
        query = ("SELECT DISTINCT ins.name FROM Instrument ins JOIN ins.datasetInstruments di "
                 "ORDER BY ins.name")
    elif facet == "technique":
        query = "SELECT DISTINCT t.name FROM Technique t JOIN t.datasetTechniques dt ORDER BY t.name"
    elif facet == "investigation":
        query = "SELECT DISTINCT i.name FROM Investigation i JOIN i.datasets ds ORDER BY i.name"
    elif facet == "space_group":
        resolved = mx.ontology.resolve("space_group")
        if resolved is None:
            return []
        query = ("SELECT DISTINCT p.stringValue FROM DatasetParameter p JOIN p.type pt "
                 f"WHERE pt.name = {jpql.string(resolved.icat_name)} ORDER BY p.stringValue")
    elif facet == "year":
        rows = mx.session.search("SELECT MIN(ds.startDate), MAX(ds.startDate) FROM Dataset ds")
        first = rows[0] if rows else None
        if not first or first[0] is None:
            return []
        lo, hi = (v if isinstance(v, datetime) else datetime.fromisoformat(str(v)) for v in first)
        return list(range(lo.year, hi.year + 1))
    else:
        raise BadParameterError(f"unknown facet {facet!r}; known: {', '.join(FACETS)}")
    return [v for v in mx.session.search(f"{query} LIMIT 0, {MAX_FACET_VALUES}") if v is not None]


def _value_condition(mx: MxCatalogue, facet: str, value: Any) -> str:
    if facet == "beamline":
        return (f"ds.id IN (SELECT fdi.dataset.id FROM DatasetInstrument fdi JOIN fdi.instrument fins "
                f"WHERE fins.name = {jpql.string(str(value))})")
    if facet == "technique":
        return (f"ds.id IN (SELECT fdt.dataset.id FROM DatasetTechnique fdt JOIN fdt.technique ft "
                f"WHERE ft.name = {jpql.string(str(value))})")
    if facet == "investigation":
        return f"ds.investigation.name = {jpql.string(str(value))}"
    if facet == "space_group":
        name = mx.ontology.resolve("space_group").icat_name  # type: ignore[union-attr]
        return (f"ds.id IN (SELECT fp.dataset.id FROM DatasetParameter fp JOIN fp.type fpt "
                f"WHERE fpt.name = {jpql.string(name)} AND fp.stringValue = {jpql.string(str(value))})")
    start, end = datetime(int(value), 1, 1), datetime(int(value) + 1, 1, 1)
    return f"ds.startDate >= {jpql.timestamp(start)} AND ds.startDate < {jpql.timestamp(end)}"


def facets(mx: MxCatalogue, text: str | None = None, names: Iterable[str] = FACETS
           ) -> dict[str, list[dict[str, Any]]]:
    """Counts of the visible datasets matching ``text`` per value of each facet (zero counts left out).

    Returns ``{"beamline": [{"value": "id23eh2", "count": 12}, ...], ...}``, values in ascending order.
    """
    where = compile_filter(mx, text)  # "" without a filter
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in names:
        counts = []
        for value in _candidates(mx, facet):
            condition = _value_condition(mx, facet, value)
            n = _count(mx, f"({where}) AND {condition}" if where else condition)
            if n:
                counts.append({"value": value, "count": n})
        out[facet] = counts
    return out


def _investigation(row: Any, facility: str) -> dict[str, Any]:
    inv = entity(row)
    instruments = sorted(str(entity(ii["instrument"]).get("name")) for ii in
                         inv.get("investigationInstruments", []) if ii.get("instrument"))
    return {"id": int(inv["id"]), "pid": entity_pid(facility, "investigation", inv["id"], inv.get("doi")),
            "name": inv.get("name"), "visit": inv.get("visitId"), "title": inv.get("title"),
            "summary": inv.get("summary"), "doi": inv.get("doi"), "start_time": inv.get("startDate"),
            "end_time": inv.get("endDate"), "release_time": inv.get("releaseDate"),
            "beamlines": instruments}


def list_investigations(mx: MxCatalogue, *, name: str | None = None, limit: int = 100, offset: int = 0
                        ) -> list[dict[str, Any]]:
    """Visible investigations (optionally of one proposal name), ordered by name, visit and id."""
    if limit < 1 or offset < 0:
        raise BadParameterError(f"limit must be >= 1 and offset >= 0, got {limit}, {offset}")
    where = f"WHERE i.name = {jpql.string(name)} " if name else ""
    rows = mx.session.search(
        f"SELECT i FROM Investigation i {where}ORDER BY i.name, i.visitId, i.id LIMIT {int(offset)}, {int(limit)} "
        "INCLUDE i.investigationInstruments ii, ii.instrument")
    facility = facility_name(mx)
    return [_investigation(r, facility) for r in rows]


def investigation_detail(mx: MxCatalogue, investigation_id: int) -> dict[str, Any]:
    """One visible investigation with its dataset count and samples (404 when not visible)."""
    from mxicat.errors import NoSuchObjectFoundError

    rows = mx.session.search(
        f"SELECT i FROM Investigation i WHERE i.id = {int(investigation_id)} "
        "INCLUDE i.investigationInstruments ii, ii.instrument")
    if not rows:
        raise NoSuchObjectFoundError(f"investigation {investigation_id} not found (or not visible)")
    out = _investigation(rows[0], facility_name(mx))
    out["datasets"] = _count(mx, f"ds.investigation.id = {int(investigation_id)}")
    out["samples"] = list_samples(mx, investigation_id=int(investigation_id))
    return out


def list_samples(mx: MxCatalogue, *, investigation_id: int | None = None, limit: int = 1000,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Visible samples (of one investigation), with their investigation name and dataset count."""
    if limit < 1 or offset < 0:
        raise BadParameterError(f"limit must be >= 1 and offset >= 0, got {limit}, {offset}")
    where = f"WHERE s.investigation.id = {int(investigation_id)} " if investigation_id is not None else ""
    rows = mx.session.search(f"SELECT s FROM Sample s {where}ORDER BY s.name, s.id "
                             f"LIMIT {int(offset)}, {int(limit)} INCLUDE s.investigation")
    facility = facility_name(mx)
    out = []
    for row in rows:
        s = entity(row)
        inv = entity(s.get("investigation") or {})
        out.append({"id": int(s["id"]), "pid": entity_pid(facility, "sample", s["id"], s.get("pid")),
                    "name": s.get("name"), "investigation": inv.get("name"),
                    "investigation_id": inv.get("id"),
                    "datasets": _count(mx, f"ds.sample.id = {int(s['id'])}")})
    return out
