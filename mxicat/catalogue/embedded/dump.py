"""python-icat dump files (``icatdump``/``icatingest``, icat.md §8) for the embedded catalogue.

Format-neutral part; :mod:`.dump_yaml` and :mod:`.dump_xml` read and write the two encodings.

Import (:func:`import_dump`): the file is a sequence of chunks; objects in a chunk reference each other by
local keys (forgotten at the chunk end, except for DataCollection and Study, which python-icat retains) and
objects outside the chunk by unique keys (parsed and looked up, as python-icat's ``searchUniqueKey``). Objects
of a chunk are created in python-icat's fixed type order (``ENTITY_ORDER``); embedded 1:N children are created
with their parent. The whole file is one transaction: a bad object leaves the catalogue unchanged and the error
names the file, chunk and key. Importing as root keeps meta fields the file supplies.

Export (:func:`export_chunks`): the chunks and include sets of python-icat's ``dump_queries`` (auth, static,
funding, one chunk per Investigation, DataCollections, one per DataPublication, other), objects sorted by
python-icat's sort key, keys as ``Entity.getUniqueKey`` makes them; so a file written here reads back in
python-icat and an export -> import -> export round trip is identical (except the header date).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mxicat.errors import BadParameterError, InsufficientPrivilegesError, MxicatError, ObjectAlreadyExistsError

from .dumpkeys import KeyMaker, KeyResolver, sort_key
from .schema import ENTITIES, INSTANCE_NAMES, TABLES, row_to_entity

#: python-icat ``dumpfile_yaml.entitytypes``: the order in which a chunk's objects are created, plus the
#: three types python-icat only ever embeds (investigationFacilityCycle, dataCollectionInvestigation, subject)
ENTITY_ORDER: tuple[str, ...] = tuple(
    "user grouping userGroup rule publicStep facility instrument instrumentScientist parameterType "
    "permissibleStringValue dataPublicationType investigationType sampleType datasetType datafileFormat "
    "technique facilityCycle application fundingReference investigation investigationParameter keyword "
    "publication shift investigationFunding investigationGroup investigationInstrument investigationUser "
    "investigationFacilityCycle sample sampleParameter dataset datasetParameter datasetInstrument "
    "datasetTechnique datafile datafileParameter dataCollection dataCollectionParameter dataCollectionDataset "
    "dataCollectionDatafile dataCollectionInvestigation dataPublication dataPublicationDate "
    "dataPublicationFunding dataPublicationUser affiliation relatedItem subject study studyInvestigation "
    "relatedDatafile job".split())

#: names older dumps use (python-icat ``AttrAlias``): (entity, alias) -> field
ATTR_ALIASES: dict[tuple[str, str], str] = {
    ("Rule", "group"): "grouping",
    ("UserGroup", "group"): "grouping",
    ("DataCollection", "dataCollectionParameters"): "parameters",
}

#: entities whose local keys live for the whole file (python-icat ``_get_retain_entities``)
RETAINED = frozenset(n for n, i in ENTITIES.items() if i.many and not i.unique_key)


@dataclass
class Ref:
    """A reference in a dump: by key (``key``) or, in XML, by attributes (``attrs``, ``x.ref`` allowed)."""

    key: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class DumpObject:
    """One top-level object of a chunk: attribute values, :class:`Ref` for N:1, lists of dicts for 1:N."""

    bean: str
    key: str | None
    data: dict[str, Any]
    ref_only: bool = False  # XML ``<fooRef id=... .../>``: names an existing object, creates nothing


def bean_of(instance_name: str, where: str) -> str:
    """``dataset`` -> ``Dataset``; BAD_PARAMETER naming the unknown entry."""
    bean = INSTANCE_NAMES.get(instance_name)
    if bean is None:
        raise BadParameterError(f"{where}: unknown entry {instance_name!r}")
    return bean


def canonical(bean: str, name: str) -> str:
    """Field name after python-icat's aliases."""
    return ATTR_ALIASES.get((bean, name), name)


# ------------------------------------------------------------------------------------------ import
DUPLICATE_MODES = ("THROW", "IGNORE", "CHECK", "OVERWRITE")


def import_dump(store: Any, chunks: Iterable[list[DumpObject]], *, user: str | None = None,
                source: str = "dump", duplicate: str = "THROW") -> dict[str, int]:
    """Create every object of the chunks in one transaction; returns counts per entity created.

    ``duplicate`` is python-icat ``icatingest --duplicate``: for an object whose unique key already exists,
    THROW (OBJECT_ALREADY_EXISTS), IGNORE (use the existing one), CHECK (use it if its attributes agree,
    else OBJECT_ALREADY_EXISTS) or OVERWRITE (update its attributes); the last three only for objects without
    embedded children.
    """
    duplicate = duplicate.upper()
    if duplicate not in DUPLICATE_MODES:
        raise BadParameterError(f"duplicate must be one of {DUPLICATE_MODES}, got {duplicate!r}")
    user = user or store.admin_user
    counts: dict[str, int] = {}
    with store.writing(user, keep_meta=store.is_root(user)) as w:
        resolver = KeyResolver(w.conn)
        retained: dict[str, tuple[str, int]] = {}
        local: dict[str, tuple[str, int]] = {}  # keys of the current chunk
        for number, chunk in enumerate(chunks, start=1):
            local.clear()

            def lookup(ref: Ref, target: str) -> int:
                if ref.key is not None:
                    hit = local.get(ref.key) or retained.get(ref.key)
                    if hit is not None:
                        if hit[0] != target:
                            raise BadParameterError(f"reference {ref.key!r} names a {hit[0]}, not a {target}")
                        return hit[1]
                    return resolver.resolve(ref.key, target)
                attrs: dict[str, Any] = {}
                for k, v in ref.attrs.items():
                    if k.endswith(".ref"):  # a key, possibly a local one of this chunk
                        rel = ENTITIES[target].relations.get(k[:-4])
                        if rel is None or rel.many:
                            raise BadParameterError(f"{target} has no relation {k[:-4]}")
                        attrs[f"{k[:-4]}.id"] = lookup(Ref(key=v), rel.target)
                    elif k != "id":
                        attrs[k] = v
                return resolver.find_by_attributes(target, attrs)

            for obj in chunk:
                try:
                    if obj.ref_only:
                        if obj.key:
                            local[obj.key] = (obj.bean, lookup(Ref(attrs=obj.data), obj.bean))
                        continue
                    rest = to_rest(obj.bean, obj.data, lookup)
                    found = None if duplicate == "THROW" else _existing(w, obj.bean, rest)
                    if found is not None:
                        new_id = _duplicate(w, obj.bean, rest, found, duplicate)
                    else:
                        (new_id,) = w.create_many([{obj.bean: rest}])
                except MxicatError as err:
                    raise type(err)(f"{source}: chunk {number}, {obj.key or obj.bean}: {err}") from err
                except sa.exc.IntegrityError as err:
                    from .writes import classify_integrity_error

                    clash = classify_integrity_error(err)
                    raise type(clash)(f"{source}: chunk {number}, {obj.key or obj.bean}: {clash}") from err
                if obj.key:
                    (retained if obj.bean in RETAINED else local)[obj.key] = (obj.bean, new_id)
        counts.update({bean: len(ids) for bean, ids in w.created.items()})
        store._check_created(w)
    return counts


def _existing(w: Any, bean: str, rest: Mapping[str, Any]) -> int | None:
    """Id of the object with the same unique key as ``rest`` (None: no key, key incomplete, or not there)."""
    from .rowplan import plan

    info, p = ENTITIES[bean], plan(bean)
    if not info.unique_key:
        return None
    table = TABLES[bean]
    conds = []
    for name in info.unique_key:
        value = rest.get(name)
        if value is None:
            return None
        rel = info.relations.get(name)
        if rel is not None:
            conds.append(table.c[rel.column or ""] == value["id"])
        else:
            conds.append(sa.literal_column(f'"{info.fields[name].column}"') == p.attrs[name][1](value))
    found = w.conn.execute(sa.select(table.c.ID).where(*conds)).scalar()
    return None if found is None else int(found)


def _duplicate(w: Any, bean: str, rest: Mapping[str, Any], found: int, mode: str) -> int:
    """IGNORE / CHECK / OVERWRITE an existing object as python-icat's icatingest does."""
    from .rowplan import plan

    info = ENTITIES[bean]
    nested = [name for name in info.many if rest.get(name)]
    if nested:
        raise BadParameterError(f"Cannot {mode} duplicate on {bean} if {nested[0]} is not empty")
    attrs = {k: v for k, v in rest.items() if k in info.attributes and v is not None}
    if mode == "CHECK":
        p = plan(bean)
        stored = w.conn.exec_driver_sql(f'SELECT * FROM "{TABLES[bean].name}" WHERE "ID" = ?', (found,)).first()
        differ = [k for k, v in attrs.items() if stored._mapping[info.fields[k].column] != p.attrs[k][1](v)]
        if differ:
            raise ObjectAlreadyExistsError(f"{bean}[id:{found}] exists with different {', '.join(differ)}")
    elif mode == "OVERWRITE" and attrs:
        w.update({bean: {"id": found, **attrs}})
    return found


def to_rest(bean: str, data: Mapping[str, Any], lookup: Callable[[Ref, str], int]) -> dict[str, Any]:
    """A dump object as ICAT REST create JSON (references resolved to ``{"id": n}``)."""
    info = ENTITIES[bean]
    out: dict[str, Any] = {}
    for raw_name, value in data.items():
        name = canonical(bean, raw_name)
        rel = info.relations.get(name)
        if rel is None:
            if name not in info.fields or name == "id":
                raise BadParameterError(f"invalid attribute {raw_name!r} in {bean}")
            out[name] = value
        elif rel.many:
            if not isinstance(value, list):
                raise BadParameterError(f"{bean}.{name} must be a list of objects")
            out[name] = [to_rest(rel.target, child, lookup) for child in value]
        else:
            ref = value if isinstance(value, Ref) else Ref(key=str(value))
            out[name] = {"id": lookup(ref, rel.target)}
    return out


# ------------------------------------------------------------------------------------------ export
def _tree(paths: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths.split():
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


_INV = ("facility type.facility investigationInstruments.instrument.facility shifts.instrument.facility keywords "
        "publications investigationUsers.user parameters.type.facility investigationGroups.grouping "
        "investigationFacilityCycles.facilityCycle.facility fundingReferences.funding")
_DS = ("investigation type.facility sample parameters.type.facility datasetInstruments.instrument.facility "
       "datasetTechniques.technique")

Spec = tuple[str, str, Callable[[Any], Any] | None]


def _by(column: str, value: int) -> Callable[[Any], Any]:
    return lambda t: t.c[column] == value


def _in(column: str, ids: Any) -> Callable[[Any], Any]:
    return lambda t: t.c[column].in_(ids)


def _chunk_specs(conn: Connection) -> Iterator[list[Spec]]:
    yield [("User", "", None), ("Grouping", "userGroups.user", None), ("Rule", "grouping", None),
           ("PublicStep", "", None)]
    yield [("Technique", "", None), ("Facility", "", None), ("Instrument", "facility instrumentScientists.user", None),
           ("ParameterType", "facility permissibleStringValues", None), ("DataPublicationType", "facility", None),
           ("InvestigationType", "facility", None), ("SampleType", "facility", None),
           ("DatasetType", "facility", None), ("DatafileFormat", "facility", None),
           ("FacilityCycle", "facility", None), ("Application", "facility", None)]
    yield [("FundingReference", "", None)]
    inv, fac = TABLES["Investigation"], TABLES["Facility"]
    for (iid,) in conn.execute(sa.select(inv.c.ID).join(fac, fac.c.ID == inv.c.FACILITY_ID)
                               .order_by(fac.c.NAME, inv.c.NAME, inv.c.VISIT_ID)):
        ds = TABLES["Dataset"]
        in_inv = sa.select(ds.c.ID).where(ds.c.INVESTIGATION_ID == iid)
        yield [("Investigation", _INV, _by("ID", iid)),
               ("Sample", "investigation type.facility parameters.type.facility", _by("INVESTIGATION_ID", iid)),
               ("Dataset", _DS, _by("INVESTIGATION_ID", iid)),
               ("Datafile", "dataset datafileFormat.facility parameters.type.facility",
                _in("DATASET_ID", in_inv))]
    yield [("DataCollection", "dataCollectionDatasets.dataset.investigation.facility "
            "dataCollectionDatafiles.datafile.dataset.investigation.facility parameters.type.facility "
            "dataCollectionInvestigations.investigation.facility", None)]
    pub = TABLES["DataPublication"]
    for (pid,) in conn.execute(sa.select(pub.c.ID).join(fac, fac.c.ID == pub.c.FACILITY_ID)
                               .order_by(fac.c.NAME, pub.c.PID)):
        yield [("DataPublication", "facility content type.facility dates fundingReferences.funding relatedItems "
                "subjects", _by("ID", pid)),
               ("DataPublicationUser", "publication user affiliations", _by("DATAPUBLICATION_ID", pid))]
    yield [("Study", "user studyInvestigations.investigation.facility", None),
           ("RelatedDatafile", "sourceDatafile.dataset.investigation.facility "
            "destDatafile.dataset.investigation.facility", None),
           ("Job", "application.facility inputDataCollection outputDataCollection", None)]


def _load(conn: Connection, bean: str, includes: str, where: Callable[[Any], Any] | None) -> list[dict[str, Any]]:
    from .sql import fetch_includes

    table = TABLES[bean]
    stmt = sa.select(table)
    if where is not None:
        stmt = stmt.where(where(table))
    info = ENTITIES[bean]
    objs = [row_to_entity(info, dict(row._mapping)) for row in conn.execute(stmt)]
    tree = _tree(includes)
    if objs and tree:
        fetch_includes(conn, bean, objs, tree)
    return objs


@dataclass
class ExportObject:
    """One top-level object to write: its key and its python-icat dump content."""

    bean: str
    key: str
    data: dict[str, Any]


def dump_value(value: Any) -> Any:
    """python-icat YAML value rules: bool/int kept, datetimes UTC ISO 8601, everything else ``str``."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return str(value)


def _entity_dict(bean: str, obj: Mapping[str, Any], keys: KeyMaker) -> dict[str, Any]:
    info = ENTITIES[bean]
    out: dict[str, Any] = {}
    for name in info.attributes:
        if obj.get(name) is not None:
            out[name] = dump_value(obj[name])
    for name, rel in info.one.items():
        ref = obj.get(name)
        if isinstance(ref, Mapping) and ref.get("id") is not None:
            out[name] = keys.key(rel.target, int(ref["id"]))
    for name, rel in info.many.items():
        children = obj.get(name) or []
        if children:
            ordered = sorted(children, key=_sorter(rel.target))
            out[name] = [_entity_dict(rel.target, c, keys) for c in ordered]
    return out


def _sorter(bean: str) -> Callable[[Mapping[str, Any]], list[Any]]:
    return lambda obj: sort_key(bean, obj)


def export_chunks(store: Any, user: str | None = None) -> Iterator[list[ExportObject]]:
    """The chunks of a python-icat dump of the whole catalogue (root/owner only)."""
    user = user or store.admin_user
    if not store.is_root(user):
        raise InsufficientPrivilegesError(f"exporting the whole catalogue needs a root user, not {user}")
    with store.engine.connect() as conn:
        keys = KeyMaker(conn)
        counters: dict[str, int] = {}
        for specs in _chunk_specs(conn):
            chunk: list[ExportObject] = []
            for bean, includes, where in specs:
                objs = _load(conn, bean, includes, where)
                for obj in sorted(objs, key=_sorter(bean)):
                    if ENTITIES[bean].unique_key:
                        key = keys.key(bean, obj["id"])
                    else:
                        counters[bean] = counters.get(bean, 0) + 1
                        key = f"{bean}_{counters[bean]:08d}"
                        keys.assign(bean, obj["id"], key)
                    chunk.append(ExportObject(bean, key, _entity_dict(bean, obj, keys)))
            if chunk:
                yield chunk



# ------------------------------------------------------------------------------------------ files
def dump_format(path: str | Path, given: str | None = None) -> str:
    """``yaml`` or ``xml``: as given, else from the file suffix (``.xml`` -> xml, anything else yaml)."""
    if given:
        fmt = given.lower()
        if fmt not in ("yaml", "xml"):
            raise BadParameterError(f"dump format must be yaml or xml, got {given!r}")
        return fmt
    return "xml" if Path(str(path)).suffix.lower() == ".xml" else "yaml"


def load_file(store: Any, source: str | Path | IO[Any], *, fmt: str | None = None, duplicate: str = "THROW",
              user: str | None = None) -> dict[str, int]:
    """Import a python-icat dump file (path or open file; binary for XML) into the store; counts per entity."""
    from .dump_xml import read_xml
    from .dump_yaml import read_yaml

    name = str(getattr(source, "name", source))
    fmt = dump_format(name, fmt)
    if isinstance(source, str | Path):
        if fmt == "xml":
            with open(source, "rb") as fb:
                return load_file(store, fb, fmt=fmt, duplicate=duplicate, user=user)
        with open(source, encoding="utf-8") as ft:
            return load_file(store, ft, fmt=fmt, duplicate=duplicate, user=user)
    chunks = read_xml(source, name) if fmt == "xml" else read_yaml(source, name)
    return import_dump(store, chunks, user=user, source=name, duplicate=duplicate)


def save_file(store: Any, target: str | Path | IO[Any], *, fmt: str | None = None, service: str = "") -> None:
    """Export the whole catalogue as a python-icat dump (path, written atomically, or an open file)."""
    from .dump_xml import write_xml
    from .dump_yaml import write_yaml

    fmt = dump_format(str(getattr(target, "name", target)), fmt)
    if isinstance(target, str | Path):
        path = Path(target)
        tmp = path.with_name(path.name + ".part")
        try:
            if fmt == "xml":
                with tmp.open("wb") as fb:
                    save_file(store, fb, fmt=fmt, service=service)
            else:
                with tmp.open("w", encoding="utf-8") as ft:
                    save_file(store, ft, fmt=fmt, service=service)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return
    if fmt == "xml":
        write_xml(export_chunks(store), target, service=service)
    else:
        write_yaml(export_chunks(store), target, service=service)
