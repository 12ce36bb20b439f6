"""Schema migrations of the embedded catalogue file: a version-1 file upgrades to the partial value indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mxicat.catalogue.embedded.schema import PARAMETER_ENTITIES, PARTIAL_VALUE_COLUMNS, entity
from mxicat.catalogue.embedded.store import EmbeddedStore, init_catalogue
from mxicat.errors import ConfigurationError

FULL_INDEX_SQL = 'CREATE INDEX "IX_{table}_TYPE_{col}" ON "{table}" ("PARAMETER_TYPE_ID", "{col}")'


def _fill(path: Path) -> dict[str, int]:
    """A catalogue with 300 datasets, each with a numeric, a string and a date parameter."""
    store = EmbeddedStore(path, create=True)
    cat = store.admin()
    fid = cat.create({"Facility": {"name": "F"}})
    it = cat.create({"InvestigationType": {"name": "MX", "facility": {"id": fid}}})
    dt = cat.create({"DatasetType": {"name": "raw", "facility": {"id": fid}}})
    inv = cat.create(
        {"Investigation": {"name": "mx1", "visitId": "1", "title": "t", "facility": {"id": fid}, "type": {"id": it}}}
    )
    types = {
        name: cat.create({"ParameterType": {"name": name, "units": "N/A", "valueType": kind, "facility": {"id": fid}}})
        for name, kind in (("res", "NUMERIC"), ("shape", "STRING"), ("when", "DATE_AND_TIME"))
    }
    cat.create_many(
        [
            {
                "Dataset": {
                    "name": f"d{i:03d}",
                    "complete": False,
                    "investigation": {"id": inv},
                    "type": {"id": dt},
                    "parameters": [
                        {"type": {"id": types["res"]}, "numericValue": i / 100},
                        {"type": {"id": types["shape"]}, "stringValue": "ELLIPTICAL" if i % 3 else "RECTANGLE"},
                        {"type": {"id": types["when"]}, "dateTimeValue": f"2026-11-20T10:{i % 60:02d}:00+00:00"},
                    ],
                }
            }
            for i in range(300)
        ]
    )
    store.close()
    return types


def _as_version_1(path: Path) -> None:
    """Turn a current file back into what migration 1 used to create: full (type, value) indexes."""
    con = sqlite3.connect(path)
    for name in PARAMETER_ENTITIES:
        table = entity(name).table
        for col in PARTIAL_VALUE_COLUMNS:
            con.execute(f'DROP INDEX "IX_{table}_TYPE_{col}"')
            con.execute(FULL_INDEX_SQL.format(table=table, col=col))
    con.execute("DELETE FROM MXICAT_MIGRATIONS WHERE VERSION > 1")
    con.commit()
    con.close()


def _index_sql(path: Path) -> dict[str, str]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    finally:
        con.close()


QUERIES = (
    "SELECT ds.name FROM Dataset ds JOIN ds.parameters p WHERE p.type.name = 'shape' AND p.stringValue = 'RECTANGLE'",
    "SELECT ds.name FROM Dataset ds JOIN ds.parameters p "
    "WHERE p.type.name = 'when' AND p.dateTimeValue > {ts 2026-11-20 10:40:00}",
    "SELECT ds.name FROM Dataset ds JOIN ds.parameters p WHERE p.type.name = 'res' AND p.numericValue < 0.5",
    "SELECT ds.name FROM Dataset ds JOIN ds.parameters p WHERE p.type.name = 'shape' AND p.stringValue LIKE 'ELL%'",
    "SELECT COUNT(p) FROM DatasetParameter p WHERE p.stringValue IS NULL",
)


def _answers(path: Path) -> list[Any]:
    store = EmbeddedStore(path)
    try:
        cat = store.admin()
        return [sorted(cat.search(q)) for q in QUERIES]
    finally:
        store.close()


def test_new_file_has_partial_value_indexes(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    _fill(path)
    sql = _index_sql(path)
    for name in PARAMETER_ENTITIES:
        table = entity(name).table
        assert "WHERE" not in sql[f"IX_{table}_TYPE_NUMERIC_VALUE"]  # the one full index leading with the type
        for col in PARTIAL_VALUE_COLUMNS:
            assert sql[f"IX_{table}_TYPE_{col}"].endswith(f'WHERE "{col}" IS NOT NULL')


def test_version_1_file_upgrades_with_same_answers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _fill(path)
    _as_version_1(path)
    assert "WHERE" not in _index_sql(path)["IX_DATASETPARAMETER_TYPE_STRING_VALUE"]
    with pytest.raises(ConfigurationError, match="older than this mxicat.*mxicat init"):
        EmbeddedStore(path)
    result = init_catalogue(path, bare=True)
    assert result["migrations"] == ["partial-parameter-value-indexes"] and not result["created"]
    assert _index_sql(path)["IX_DATASETPARAMETER_TYPE_STRING_VALUE"].endswith('WHERE "STRING_VALUE" IS NOT NULL')
    fresh = tmp_path / "fresh.db"
    _fill(fresh)
    upgraded, expected = _answers(path), _answers(fresh)
    assert upgraded == expected
    assert [len(a) for a in expected[:4]] == [100, 95, 50, 200]  # computed from _fill's values
    assert expected[4] == [600]  # the numeric and date parameters


def test_value_queries_use_the_partial_indexes(tmp_path: Path) -> None:
    path = tmp_path / "plan.db"
    _fill(path)
    from mxicat.catalogue.embedded import sql

    store = EmbeddedStore(path)
    try:
        store.analyze()  # planner statistics, as the store keeps them while datasets are added
        plans = []
        with store.engine.connect() as conn:
            for query in QUERIES[:3]:
                compiled = sql.compile_query(query).select.compile(dialect=store.engine.dialect)
                args = tuple(compiled.params[k] for k in compiled.positiontup or ())
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args).fetchall()
                plans.append(" | ".join(str(r[3]) for r in rows))
    finally:
        store.close()
    assert "IX_DATASETPARAMETER_TYPE_STRING_VALUE (PARAMETER_TYPE_ID=? AND STRING_VALUE=?)" in plans[0]
    assert "IX_DATASETPARAMETER_TYPE_DATETIME_VALUE (PARAMETER_TYPE_ID=? AND DATETIME_VALUE>?)" in plans[1]
    assert "IX_DATASETPARAMETER_TYPE_NUMERIC_VALUE (PARAMETER_TYPE_ID=? AND NUMERIC_VALUE<?)" in plans[2]
