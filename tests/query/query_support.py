"""A small real SQLite catalogue for the query tests, built with direct Core inserts into schema.TABLES."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import ENTITIES, TABLES, metadata

T0 = datetime(2024, 1, 1, 12, 0, 0)


def insert(conn: sa.Connection, entity: str, id: int, **values: Any) -> None:
    """Insert one object; keyword names are ICAT field/N:1 relation names (relations take the target id)."""
    info = ENTITIES[entity]
    row: dict[str, Any] = {"ID": id, "CREATE_ID": "db/root", "CREATE_TIME": T0, "MOD_ID": "db/root",
                           "MOD_TIME": T0}
    for name, value in values.items():
        if name in info.fields:
            row[info.fields[name].column] = value
        else:
            rel = info.relations[name]
            assert not rel.many and rel.column
            row[rel.column] = value
    for f in info.fields.values():
        if f.not_null and f.default is not None:
            row.setdefault(f.column, f.default)
    conn.execute(TABLES[entity].insert(), row)


def make_engine(path: str = ":memory:") -> sa.Engine:
    """An engine on a fresh catalogue (file or memory) with the ICAT schema."""
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def populate(conn: sa.Connection) -> None:
    """Facility, types, two investigations, samples, datasets, parameters, datafiles, users."""
    insert(conn, "Facility", 1, name="ESRF", fullName="European Synchrotron")
    insert(conn, "InvestigationType", 1, name="proposal", facility=1)
    insert(conn, "DatasetType", 1, name="raw", facility=1)
    insert(conn, "DatasetType", 2, name="processed", facility=1)
    insert(conn, "ParameterType", 1, name="MX_exposureTime", units="s", valueType="NUMERIC", facility=1)
    insert(conn, "ParameterType", 2, name="MX_beamline", units="N/A", valueType="STRING", facility=1)
    insert(conn, "ParameterType", 3, name="MX_collected", units="N/A", valueType="DATE_AND_TIME", facility=1)
    insert(conn, "Investigation", 1, name="mx2532", visitId="1", title="Lysozyme", facility=1, type=1,
           startDate=datetime(2024, 3, 1, 8, 0, 0))
    insert(conn, "Investigation", 2, name="mx9999", visitId="1", title="It's a trap", facility=1, type=1,
           startDate=datetime(2025, 6, 1, 8, 0, 0))
    insert(conn, "SampleType", 1, name="protein", molecularFormula="C", facility=1)
    insert(conn, "Sample", 1, name="lyso1", investigation=1, type=1)
    insert(conn, "Sample", 2, name="thau1", investigation=2)
    insert(conn, "User", 1, name="db/jdoe", fullName="John Doe")
    insert(conn, "User", 2, name="db/nbour", fullName="N. Bour")
    insert(conn, "InvestigationUser", 1, role="PI", user=1, investigation=1)
    insert(conn, "InvestigationUser", 2, role="CoI", user=2, investigation=2)
    datasets = [
        # id, name, inv, type, sample, complete, startDate, fileSize, description
        (1, "ds_a", 1, 1, 1, True, datetime(2024, 3, 1, 9, 0, 0), 100, "first"),
        (2, "ds_b", 1, 1, None, False, datetime(2024, 3, 2, 9, 0, 0), 200, None),
        (3, "ds_c", 1, 2, 1, True, None, 300, "it's 50% done"),
        (4, "ds_d", 2, 1, 2, False, datetime(2025, 6, 2, 9, 0, 0), None, "x_y"),
        (5, "DS_E", 2, 2, None, True, datetime(2025, 6, 3, 9, 0, 0), 500, "xzy"),
    ]
    for id_, name, inv, typ, sample, complete, start, size, desc in datasets:
        values: dict[str, Any] = {"name": name, "investigation": inv, "type": typ, "complete": complete,
                                  "startDate": start, "fileSize": size, "description": desc}
        if sample is not None:
            values["sample"] = sample
        insert(conn, "Dataset", id_, **{k: v for k, v in values.items() if v is not None})
    params = [
        (1, 1, 1, {"numericValue": 0.04}), (2, 1, 2, {"stringValue": "ID30A-1"}),
        (3, 2, 1, {"numericValue": 0.1}), (4, 2, 2, {"stringValue": "ID23-2"}),
        (5, 3, 1, {"numericValue": 0.02}),
        (6, 4, 2, {"stringValue": "ID30A-1"}), (7, 4, 3, {"dateTimeValue": datetime(2025, 6, 2, 10, 0, 0)}),
        (8, 5, 1, {"numericValue": 1.5}),
    ]
    for id_, ds, pt, value in params:
        insert(conn, "DatasetParameter", id_, dataset=ds, type=pt, **value)
    files = [(1, "a_0001.cbf", 1, 10), (2, "a_0002.cbf", 1, 20), (3, "b_0001.h5", 2, 30), (4, "d.h5", 4, 40)]
    for id_, name, ds, size in files:
        insert(conn, "Datafile", id_, name=name, dataset=ds, fileSize=size, location=f"/data/{name}")


# ------------------------------------------------------------------------------------------ python-icat offline

_JAVA_TYPES = {"str": "String", "int": "Long", "float": "Double", "bool": "Boolean", "datetime": "Date"}


class _Info(dict):  # suds objects allow both item and attribute access; python-icat uses both
    __getattr__ = dict.__getitem__


def _entity_info(name: str) -> _Info:
    if name == "Parameter":  # python-icat's abstract parent of the *Parameter entities
        base = ENTITIES["DatasetParameter"]
        fields = {n: f for n, f in base.fields.items()}
        relations = {"type": base.relations["type"]}
        key: tuple[str, ...] = ()
    else:
        info = ENTITIES[name]
        fields, relations, key = info.fields, info.relations, info.unique_key
    out = [_Info(name=f.name, relType="ATTRIBUTE", notNullable=f.not_null,
                 type=f.enum_class if f.type == "enum" else _JAVA_TYPES[f.type]) for f in fields.values()]
    out += [_Info(name=r.name, relType="MANY" if r.many else "ONE", notNullable=r.not_null, type=r.target)
            for r in relations.values()]
    return _Info(fields=out, classComment="", constraints=[_Info(fieldNames=list(key))])


class OfflineIcatClient:
    """Just enough of ``icat.client.Client`` for ``icat.query.Query`` to render queries without a server,
    with entity information generated from mxicat's schema (icat.md §9)."""

    def __init__(self) -> None:
        from icat.entities import getTypeMap
        from icat.helper import Version

        self.apiversion = Version("6.2.0")
        self.typemap = getTypeMap(self)

    def getEntityNames(self) -> list[str]:  # noqa: N802 (python-icat's API)
        return sorted(ENTITIES)

    def getEntityInfo(self, name: str) -> _Info:  # noqa: N802
        return _entity_info(name)

    def getEntityClass(self, name: str) -> Any:  # noqa: N802
        for cls in self.typemap.values():
            if cls.BeanName == name:
                return cls
        raise KeyError(name)

    def _has_wsdl_type(self, name: str) -> bool:
        return name == "fieldSet"


@contextmanager
def populated(path: Path, extra: Callable[[sa.Connection], None] | None = None) -> Iterator[sa.Connection]:
    """A connection on a new catalogue file filled by :func:`populate` (and ``extra``)."""
    engine = make_engine(str(path))
    with engine.begin() as c:
        populate(c)
        if extra is not None:
            extra(c)
    try:
        with engine.connect() as c:
            yield c
    finally:
        engine.dispose()
