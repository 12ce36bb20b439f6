"""The PaNOSC search API data model over an ICAT catalogue: Datasets, Documents, Instruments, Samples,
Techniques, with LoopBack filters (:mod:`mxicat.mx.loopback`).

Mapping (as DataGateway's search API, plus unit conversion): Document = Investigation (``type``
``"proposal"``), Dataset = Dataset (``title`` = name, ``creationDate`` = startDate, else createTime),
Instrument, Sample, Technique = the ICAT entities, Parameter = DatasetParameter / InvestigationParameter in
canonical names and units (:mod:`mxicat.mx.detail`). ``pid`` is the DOI or ICAT pid where one exists, else a
stable local ``mxicat:<facility>:<kind>:<id>``.

Who sees what is the session's business: a PaNOSC provider runs these as the anonymous user, so only public
(released) data comes back and ``isPublic`` is true for everything returned. An ``include`` whose scope has
a ``where`` keeps only the parents with at least one matching related item (the PaNOSC search semantics) and
lists only the matching items. With ``query`` every result carries a relevance ``score`` strictly inside
(0, 1), as the PaNOSC federated search service requires (it drops scores of 0 or 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, NoSuchObjectFoundError
from mxicat.mx import jpql
from mxicat.mx.facility import entity
from mxicat.mx.loopback import (
    FieldSpec,
    Filter,
    Include,
    ParameterCompiler,
    compile_where,
    condition,
    matches,
    parameter_matches,
)
from mxicat.mx.portal import entity_pid, facility_name, parse_local_pid

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue


MAX_SCORED = 5000  # candidates read and scored for a ``query`` (relevance) search


def _pid_special(kind: str, pid_path: str) -> Callable[[str, str, Any], str]:
    """Condition on ``pid``: the stored pid/DOI, or the id inside a local ``mxicat:...`` pid."""

    def special(alias: str, op: str, value: Any) -> str:
        path = pid_path.format(a=alias)
        if op in ("eq", "inq", "neq", "nin"):
            values = value if isinstance(value, list) else [value]
            alts = []
            for v in values:
                if not isinstance(v, str):
                    raise BadParameterError(f"filter: pid must be text, got {v!r}")
                local = parse_local_pid(v, kind)
                alts.append(f"{alias}.id = {local}" if local is not None else f"{path} = {jpql.string(v)}")
            cond = "(" + " OR ".join(alts) + ")" if alts else "1 = 0"
            return cond if op in ("eq", "inq") else f"(NOT {cond})"
        return condition(path, "str", op, value)

    return special


@dataclass(frozen=True)
class Relation:
    """A relation of a PaNOSC class: target class and the JPQL sub-select giving the parent ids."""

    target: str
    parent_ids: str  # SELECT ... parent id ... FROM ... {t} ... WHERE {cond}; {t} is the target alias
    children: str = ""  # condition on the target alias {c} selecting the children of parent {id}


@dataclass(frozen=True)
class Kind:
    bean: str
    alias: str
    fields: dict[str, FieldSpec]
    text: tuple[str, ...]  # PaNOSC fields matched by free text
    relations: dict[str, Relation]
    include: str  # INCLUDE clause fetching what the output needs
    order: str


KINDS: dict[str, Kind] = {
    "Dataset": Kind(
        "Dataset", "ds",
        {"pid": FieldSpec(None, special=_pid_special("dataset", "{a}.doi")),
         "title": FieldSpec("{a}.name"), "creationDate": FieldSpec("{a}.startDate", "datetime"),
         "size": FieldSpec("{a}.fileSize", "number"), "isPublic": FieldSpec(None, "bool", constant=True)},
        ("title",),
        {"parameters": Relation("Parameter", "SELECT {t}.dataset.id FROM DatasetParameter {t} WHERE {cond}"),
         "documents": Relation("Document", "SELECT d{t}.id FROM Dataset d{t} JOIN d{t}.investigation {t} "
                                           "WHERE {cond}"),
         "techniques": Relation("Technique", "SELECT x{t}.dataset.id FROM DatasetTechnique x{t} "
                                             "JOIN x{t}.technique {t} WHERE {cond}"),
         "instrument": Relation("Instrument", "SELECT x{t}.dataset.id FROM DatasetInstrument x{t} "
                                              "JOIN x{t}.instrument {t} WHERE {cond}"),
         "samples": Relation("Sample", "SELECT d{t}.id FROM Dataset d{t} JOIN d{t}.sample {t} WHERE {cond}"),
         "files": Relation("File", "SELECT {t}.dataset.id FROM Datafile {t} WHERE {cond}")},
        "INCLUDE ds.parameters p, p.type, ds.investigation, ds.sample, ds.datasetInstruments di, "
        "di.instrument, ds.datasetTechniques dt, dt.technique, ds.datafiles",
        "ds.id"),
    "Document": Kind(
        "Investigation", "i",
        {"pid": FieldSpec(None, special=_pid_special("investigation", "{a}.doi")),
         "title": FieldSpec("{a}.title"), "summary": FieldSpec("{a}.summary"), "doi": FieldSpec("{a}.doi"),
         "startDate": FieldSpec("{a}.startDate", "datetime"), "endDate": FieldSpec("{a}.endDate", "datetime"),
         "releaseDate": FieldSpec("{a}.releaseDate", "datetime"), "isPublic": FieldSpec(None, "bool", constant=True),
         "type": FieldSpec(None, constant="proposal")},
        ("title", "summary"),
        {"datasets": Relation("Dataset", "SELECT {t}.investigation.id FROM Dataset {t} WHERE {cond}",
                              "{c}.investigation.id = {id}"),
         "parameters": Relation("Parameter", "SELECT {t}.investigation.id FROM InvestigationParameter {t} "
                                             "WHERE {cond}"),
         "members": Relation("Member", "SELECT {t}.investigation.id FROM InvestigationUser {t} WHERE {cond}")},
        "INCLUDE i.parameters p, p.type, i.investigationUsers iu, iu.user, i.keywords",
        "i.id"),
    "Instrument": Kind(
        "Instrument", "ins",
        {"pid": FieldSpec(None, special=_pid_special("instrument", "{a}.pid")), "name": FieldSpec("{a}.name"),
         "facility": FieldSpec("{a}.facility.name")},
        ("name", "facility"),
        {"datasets": Relation("Dataset", "SELECT x{t}.instrument.id FROM DatasetInstrument x{t} "
                                         "JOIN x{t}.dataset {t} WHERE {cond}",
                              "{c}.id IN (SELECT xc.dataset.id FROM DatasetInstrument xc "
                              "WHERE xc.instrument.id = {id})")},
        "INCLUDE ins.facility", "ins.id"),
    "Sample": Kind(
        "Sample", "s",
        {"pid": FieldSpec(None, special=_pid_special("sample", "{a}.pid")), "name": FieldSpec("{a}.name"),
         "description": FieldSpec(None)},
        ("name",),
        {"datasets": Relation("Dataset", "SELECT {t}.sample.id FROM Dataset {t} WHERE {cond}",
                              "{c}.sample.id = {id}")},
        "", "s.id"),
    "Technique": Kind(
        "Technique", "t",
        {"pid": FieldSpec(None, special=_pid_special("technique", "{a}.pid")), "name": FieldSpec("{a}.name")},
        ("name",),
        {"datasets": Relation("Dataset", "SELECT x{t}.technique.id FROM DatasetTechnique x{t} "
                                         "JOIN x{t}.dataset {t} WHERE {cond}",
                              "{c}.id IN (SELECT xc.dataset.id FROM DatasetTechnique xc "
                              "WHERE xc.technique.id = {id})")},
        "", "t.id"),
    "File": Kind("Datafile", "df", {"name": FieldSpec("{a}.name"), "path": FieldSpec("{a}.location"),
                                   "size": FieldSpec("{a}.fileSize", "number")}, ("name",), {}, "", "df.id"),
    "Member": Kind("InvestigationUser", "iu", {"role": FieldSpec("{a}.role")}, (), {}, "", "iu.id"),
}


class PanoscQuery:
    """Answers PaNOSC search API calls through one (anonymous) MX catalogue session."""

    def __init__(self, mx: MxCatalogue) -> None:
        self.mx = mx
        self.params = ParameterCompiler(mx)
        self._facility: str | None = None
        self._counter = 0

    @property
    def facility(self) -> str:
        if self._facility is None:
            self._facility = facility_name(self.mx)
        return self._facility

    # -- conditions ------------------------------------------------------------------------------
    def _alias(self) -> str:
        self._counter += 1
        return f"r{self._counter}"

    def where(self, kind_name: str, where: Mapping[str, Any], alias: str) -> str:
        kind = KINDS[kind_name]
        if kind_name == "Parameter":  # pragma: no cover - parameters are compiled by self.params
            raise AssertionError
        return compile_where(where, kind.fields, alias, text=lambda t: self.text_condition(kind, alias, t))

    def text_condition(self, kind: Kind, alias: str, text: str) -> str:
        paths = [path for f in kind.text if (path := kind.fields[f].path)]
        if not paths:
            return "1 = 0"
        needle = jpql.string(f"%{text.lower()}%")
        return "(" + " OR ".join(f"LOWER({p.format(a=alias)}) LIKE {needle}" for p in paths) + ")"

    def relation_condition(self, kind_name: str, alias: str, inc: Include) -> str | None:
        kind = KINDS[kind_name]
        relation = kind.relations.get(inc.relation)
        if relation is None:
            raise BadParameterError(f"filter: {kind_name} has no relation {inc.relation!r}; known: "
                                    f"{sorted(kind.relations)}")
        if not inc.where:
            return None
        t = self._alias()
        if relation.target == "Parameter":
            cond = self.params.compile(inc.where, t)
        else:
            cond = self.where(relation.target, inc.where, t)
        return f"{alias}.id IN ({relation.parent_ids.format(t=t, cond=cond)})"

    def conditions(self, kind_name: str, flt: Filter) -> str:
        kind = KINDS[kind_name]
        parts = [self.where(kind_name, flt.where, kind.alias)]
        for inc in flt.include:
            cond = self.relation_condition(kind_name, kind.alias, inc)
            if cond:
                parts.append(cond)
        if flt.query:
            words = [w for w in flt.query.split() if w]
            parts.append("(" + " OR ".join(self.query_condition(kind, w) for w in words) + ")")
        return " AND ".join(parts)

    def query_condition(self, kind: Kind, word: str) -> str:
        """A relevance word: in the text fields, or (datasets) the sample name or investigation title."""
        base = self.text_condition(kind, kind.alias, word)
        if kind.bean == "Dataset":
            needle = jpql.string(f"%{word.lower()}%")
            t = self._alias()
            return (f"({base} OR ds.id IN (SELECT d{t}.id FROM Dataset d{t} JOIN d{t}.sample s{t} "
                    f"WHERE LOWER(s{t}.name) LIKE {needle}) OR LOWER(ds.investigation.title) LIKE {needle})")
        return base

    # -- reads -----------------------------------------------------------------------------------
    def count(self, kind_name: str, where: Mapping[str, Any]) -> int:
        kind = KINDS[kind_name]
        cond = self.where(kind_name, where, kind.alias)
        rows = self.mx.session.search(f"SELECT COUNT({kind.alias}) FROM {kind.bean} {kind.alias} WHERE {cond}")
        return int(rows[0]) if rows else 0

    def find(self, kind_name: str, flt: Filter) -> list[dict[str, Any]]:
        kind = KINDS[kind_name]
        head = f"SELECT {kind.alias} FROM {kind.bean} {kind.alias} WHERE {self.conditions(kind_name, flt)}"
        if flt.query:
            # relevance needs every candidate scored; at most MAX_SCORED of them (oldest first) are read
            query = f"{head} ORDER BY {kind.order} {kind.include}".strip()
            rows = list(islice(self.mx.session.search_chunked(query, chunk=500), MAX_SCORED))
            items = [self.render(kind_name, r, flt.include) for r in rows]
            scored = sorted(((score(i, flt.query, kind.text), n, i) for n, i in enumerate(items)),
                            key=lambda x: (-x[0], x[1]))
            page = [dict(i, score=s) for s, _, i in scored[flt.skip:flt.skip + flt.limit]]
            return page
        rows = self.mx.session.search(
            f"{head} ORDER BY {kind.order} LIMIT {flt.skip}, {flt.limit} {kind.include}".strip())
        return [self.render(kind_name, r, flt.include) for r in rows]

    def find_by_pid(self, kind_name: str, pid: str, flt: Filter) -> dict[str, Any]:
        found = self.find(kind_name, Filter({"and": [{"pid": pid}, flt.where]} if flt.where else {"pid": pid},
                                            flt.include, 1, 0))
        if not found:
            raise NoSuchObjectFoundError(f"no public {kind_name} with pid {pid!r}")
        return found[0]

    # -- rendering -------------------------------------------------------------------------------
    def render(self, kind_name: str, row: Any, includes: tuple[Include, ...]) -> dict[str, Any]:
        obj = entity(row)
        render = getattr(self, f"_render_{kind_name.lower()}")
        out: dict[str, Any] = render(obj)
        for inc in includes:
            out[inc.relation] = self.related(kind_name, obj, out, inc)
        return out

    def related(self, kind_name: str, obj: dict[str, Any], rendered: dict[str, Any], inc: Include) -> Any:
        relation = KINDS[kind_name].relations[inc.relation]
        if relation.target == "Parameter":
            views = (parameter_matches(x, inc.where, self.mx.ontology) if inc.where else x
                     for x in self._parameters(obj))
            return [p for p in views if p is not None]
        if (kind_name, inc.relation) not in _EMBEDDED:
            return self._children(relation, obj, inc)
        text_fields = KINDS[relation.target].text
        items = [i for i in _EMBEDDED[(kind_name, inc.relation)](self, obj)
                 if not inc.where or matches(i, inc.where, text_fields)]
        if inc.relation == "instrument":
            return items[0] if items else None
        return items

    def _children(self, relation: Relation, obj: dict[str, Any], inc: Include) -> list[dict[str, Any]]:
        """The other side of a 1:N relation (a document's datasets, ...), scoped, as the session sees it."""
        target = KINDS[relation.target]
        scoped = self.where(relation.target, inc.where, target.alias) if inc.where else "1 = 1"
        link = relation.children.format(c=target.alias, id=int(obj["id"]))
        rows = self.mx.session.search(f"SELECT {target.alias} FROM {target.bean} {target.alias} WHERE {scoped} "
                                      f"AND {link} ORDER BY {target.order} LIMIT 0, 1000 {target.include}".strip())
        return [self.render(relation.target, r, inc.include) for r in rows]

    def _parameters(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        from mxicat.mx.detail import decode_parameters

        decoded = decode_parameters(self.mx, obj.get("parameters", []))
        units = decoded["units"]
        out = [{"name": k, "value": _plain(v), "unit": units.get(k)} for k, v in decoded["metadata"].items()]
        out += [{"name": k, "value": _plain(v), "unit": None} for k, v in decoded["unverified"].items()]
        return out

    def _render_dataset(self, ds: dict[str, Any]) -> dict[str, Any]:
        created = ds.get("startDate") or ds.get("createTime")
        return {"pid": entity_pid(self.facility, "dataset", ds["id"], ds.get("doi")), "title": ds.get("name"),
                "isPublic": True, "creationDate": created, "size": ds.get("fileSize")}

    def _render_document(self, inv: dict[str, Any]) -> dict[str, Any]:
        return {"pid": entity_pid(self.facility, "investigation", inv["id"], inv.get("doi")), "isPublic": True,
                "type": "proposal", "title": inv.get("title"), "summary": inv.get("summary"),
                "doi": inv.get("doi"), "startDate": inv.get("startDate"), "endDate": inv.get("endDate"),
                "releaseDate": inv.get("releaseDate"),
                "keywords": sorted(str(entity(k).get("name")) for k in inv.get("keywords", []))}

    def _render_instrument(self, ins: dict[str, Any]) -> dict[str, Any]:
        facility = entity(ins.get("facility") or {}).get("name") or self.facility
        return {"pid": entity_pid(self.facility, "instrument", ins["id"], ins.get("pid")),
                "name": ins.get("name"), "facility": facility}

    def _render_sample(self, s: dict[str, Any]) -> dict[str, Any]:
        return {"pid": entity_pid(self.facility, "sample", s["id"], s.get("pid")), "name": s.get("name"),
                "description": None}

    def _render_technique(self, t: dict[str, Any]) -> dict[str, Any]:
        return {"pid": entity_pid(self.facility, "technique", t["id"], t.get("pid")), "name": t.get("name")}

    def _render_file(self, df: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(df["id"]), "name": df.get("name"), "path": df.get("location"),
                "size": df.get("fileSize")}

    def _render_member(self, iu: dict[str, Any]) -> dict[str, Any]:
        user = entity(iu.get("user") or {})
        person = {"id": str(user["id"]), "fullName": user.get("fullName") or user.get("name"),
                  "orcid": user.get("orcidId"), "firstName": user.get("givenName"),
                  "lastName": user.get("familyName")} if user else None
        return {"role": iu.get("role"), "person": person}


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str) or value is None else str(value)


def _dataset_documents(q: PanoscQuery, ds: dict[str, Any]) -> list[dict[str, Any]]:
    inv = ds.get("investigation")
    return [q._render_document(entity(inv))] if inv else []  # noqa: SLF001


_EMBEDDED: dict[tuple[str, str], Callable[[PanoscQuery, dict[str, Any]], list[dict[str, Any]]]] = {
    ("Dataset", "documents"): _dataset_documents,
    ("Dataset", "techniques"): lambda q, ds: [q._render_technique(entity(x["technique"]))  # noqa: SLF001
                                              for x in ds.get("datasetTechniques", []) if x.get("technique")],
    ("Dataset", "instrument"): lambda q, ds: [q._render_instrument(entity(x["instrument"]))  # noqa: SLF001
                                              for x in ds.get("datasetInstruments", []) if x.get("instrument")],
    ("Dataset", "samples"): lambda q, ds: [q._render_sample(entity(ds["sample"]))] if ds.get("sample")  # noqa: SLF001
    else [],
    ("Dataset", "files"): lambda q, ds: [q._render_file(entity(f)) for f in ds.get("datafiles", [])],  # noqa: SLF001
    ("Document", "members"): lambda q, inv: [q._render_member(entity(x))  # noqa: SLF001
                                             for x in inv.get("investigationUsers", [])],
}


def score(item: Mapping[str, Any], query: str, text_fields: tuple[str, ...]) -> float:
    """Relevance strictly inside (0, 1): ``(words found in the item's text fields + 0.5) / (words + 1)``.

    The PaNOSC federated search service drops results whose score is not in the open interval (0, 1), so
    0 and 1 are never returned; more query words found in the title (etc.) rank higher.
    """
    words = [w.lower() for w in query.split() if w]
    haystack = " ".join(str(item.get(f) or "") for f in text_fields).lower()
    hits = sum(1 for w in words if w in haystack)
    return round((hits + 0.5) / (len(words) + 1), 6)
