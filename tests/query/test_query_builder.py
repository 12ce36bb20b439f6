"""The python-icat-shaped builder: same text as python-icat for the same query, values always quoted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from query_support import OfflineIcatClient, insert, populated

from mxicat.catalogue.embedded.sql import compile_query, execute
from mxicat.query import ast
from mxicat.query.builder import Enum, Param, Query, literal


def _hostile(c: sa.Connection) -> None:
    insert(c, "Dataset", 50, name="x' OR '1'='1", investigation=1, type=1, complete=False)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Connection]:
    with populated(tmp_path_factory.mktemp("builder") / "catalogue.db", _hostile) as c:
        yield c


def run(conn: sa.Connection, q: Query, **params: Any) -> list[Any]:
    return execute(conn, compile_query(q.to_ast(), params=params))


def test_literals() -> None:
    assert literal("it's") == "'it''s'"
    assert literal(True) == "TRUE" and literal(3) == "3" and literal(-2.5) == "-2.5"
    assert literal(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))) == "{ts 2024-05-01 12:00:00}"
    assert literal(Enum("ParameterValueType", "NUMERIC")) == "org.icatproject.ParameterValueType.NUMERIC"
    assert literal(Param("user")) == ":user"
    for bad in (float("nan"), object(), Enum("a b", "X"), Param("x; DROP")):
        with pytest.raises((TypeError, ValueError)):
            literal(bad)


def test_renders_like_python_icat() -> None:
    pytest.importorskip("icat.query")
    from icat.query import Query as IcatQuery

    client = OfflineIcatClient()
    ours = Query("Dataset", where={"investigation.name": "mx2532", "parameters.type.name": "MX_exposureTime",
                                   "parameters.numericValue": ("<", 0.05)},
                 includes=["parameters.type"], order=["name"], limit=(0, 10))
    theirs = IcatQuery(client, "Dataset", conditions={"investigation.name": "= 'mx2532'",
                                                      "parameters.type.name": "= 'MX_exposureTime'",
                                                      "parameters.numericValue": "< 0.05"},
                       includes=["parameters.type"], order=["name"], limit=(0, 10))
    assert str(ours) == str(theirs)
    ours = Query("Dataset", attributes=["name", "investigation.name"], aggregate="DISTINCT",
                 join_specs={"investigation": "LEFT JOIN"})
    theirs = IcatQuery(client, "Dataset", attributes=["name", "investigation.name"], aggregate="DISTINCT",
                       join_specs={"investigation": "LEFT JOIN"})
    assert str(ours) == str(theirs)
    assert str(Query("Dataset", attributes="name", aggregate="COUNT:DISTINCT")) == str(
        IcatQuery(client, "Dataset", attributes="name", aggregate="COUNT:DISTINCT"))


def test_builder_queries_run(conn: sa.Connection) -> None:
    q = Query("Dataset", attributes="id", where={"fileSize": [(">", 100), ("<", 500)],
                                                  "UPPER(name)": ("LIKE", "DS%")}, order=["id"])
    assert run(conn, q) == [2, 3]
    q = Query("Dataset", attributes="id", where={"description": None, "startDate": ("BETWEEN", (
        datetime(2024, 3, 2, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)))})
    assert run(conn, q) == [2]
    q = Query("Dataset", attributes="id", where={"id": ("NOT IN", [1, 2, 3, 50]), "complete": False})
    assert run(conn, q) == [4]
    q = Query("ParameterType", attributes="name", where={"valueType": Enum("ParameterValueType", "STRING")})
    assert run(conn, q) == ["MX_beamline"]
    q = Query("Investigation", attributes="name", where={"investigationUsers.user.name": Param("user")})
    assert run(conn, q, user="db/nbour") == ["mx9999"]
    (obj,) = run(conn, Query("Dataset", where={"id": 2}, includes="1"))
    assert obj["Dataset"]["type"]["name"] == "raw"
    assert run(conn, Query("Dataset", aggregate="COUNT")) == [6]
    assert run(conn, Query("Dataset", attributes="name", order=[("LENGTH(name)", "DESC")], limit=(0, 1))) == [
        "x' OR '1'='1"]


def test_hostile_values_stay_values(conn: sa.Connection) -> None:
    q = Query("Dataset", attributes="id", where={"name": "x' OR '1'='1"})
    assert str(q).endswith("WHERE o.name = 'x'' OR ''1''=''1'")
    assert q.to_ast().where == ast.Compare("=", ast.Path(("o", "name")), ast.Literal("x' OR '1'='1"))
    assert run(conn, q) == [50]
    assert run(conn, Query("Dataset", attributes="id", where={"name": "' OR 1=1 --"})) == []


@pytest.mark.parametrize("kwargs", [
    {"where": {"name; DROP": "x"}},
    {"where": {"name": ("OR 1=1 --", "x")}},
    {"where": {"EXEC(name)": "x"}},
    {"where": {"id": ("IN", [])}},
    {"order": [("name", "SIDEWAYS")]},
    {"aggregate": "DROP"},
    {"join_specs": {"investigation": "CROSS JOIN"}},
    {"attributes": "name) FROM User u --"},
    {"limit": (0, "5; DROP")},
    {"order": True},
])
def test_builder_rejects_anything_but_names_and_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        Query("Dataset", **kwargs)
