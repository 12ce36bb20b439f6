"""python-icat compatibility: queries rendered by ``icat.query.Query`` (offline, entity info generated from the
schema) and python-icat's concise convenience queries run unchanged on the embedded catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from query_support import OfflineIcatClient, populated

from mxicat.catalogue.embedded.sql import compile_query, execute
from mxicat.query import ast

pytest.importorskip("icat.query")
from icat.query import Query  # noqa: E402


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Connection]:
    with populated(tmp_path_factory.mktemp("pyicat") / "catalogue.db") as c:
        yield c


@pytest.fixture(scope="module")
def client() -> OfflineIcatClient:
    return OfflineIcatClient()


def run(conn: sa.Connection, query: Any) -> list[Any]:
    return execute(conn, compile_query(str(query), params={"user": "db/jdoe"}))


def ids(results: list[Any]) -> list[int]:
    return [next(iter(r.values()))["id"] for r in results]


# (Query keyword arguments, expected result); the entity is the first element
QUERIES: list[tuple[str, dict[str, Any], Any]] = [
    ("Dataset", {"order": ["id"]}, [1, 2, 3, 4, 5]),
    ("Dataset", {"conditions": {"investigation.name": "= 'mx2532'",
                                "parameters.type.name": "= 'MX_exposureTime'",
                                "parameters.numericValue": "< 0.05"},
                 "includes": ["parameters.type"], "order": ["name"]}, [1, 3]),
    ("Dataset", {"conditions": {"name": "LIKE 'ds%'", "fileSize": ["> 100", "< 500"]}, "order": ["id"]}, [2, 3]),
    ("Dataset", {"conditions": {"UPPER(name)": "= 'DS_E'"}}, [5]),
    ("Dataset", {"conditions": {"description": "IS NULL"}}, [2]),
    ("Dataset", {"conditions": {"id": "IN (1, 3)"}, "order": [("name", "DESC")]}, [3, 1]),
    ("Dataset", {"conditions": {"fileSize": "BETWEEN 100 AND 300"}, "order": ["id"]}, [1, 2, 3]),
    ("Dataset", {"conditions": {"startDate": "< CURRENT_TIMESTAMP"}, "order": ["id"]}, [1, 2, 4, 5]),
    ("Dataset", {"conditions": {"startDate": "> {ts 2025-01-01 00:00:00}"}, "order": ["id"]}, [4, 5]),
    ("Dataset", {"conditions": {"type.name": "= 'raw'"}, "order": True, "limit": (1, 2)}, [2, 4]),
    ("Dataset", {"order": ["sample.name", "id"], "join_specs": {"sample": "LEFT JOIN"}}, [2, 5, 1, 3, 4]),
    ("Dataset", {"order": ["LENGTH(description)", "id"]}, [2, 4, 5, 1, 3]),
    ("Dataset", {"includes": "1", "conditions": {"id": "= 2"}}, [2]),
    ("Dataset", {"includes": ["datafiles.parameters", "investigation.facility", "type"],
                 "conditions": {"complete": "= TRUE"}, "order": ["id"]}, [1, 3, 5]),
    ("Investigation", {"conditions": {"investigationUsers.user.name": "= :user"}}, [1]),
    ("ParameterType", {"conditions": {"valueType": "= org.icatproject.ParameterValueType.STRING"}}, [2]),
    ("DatasetParameter", {"conditions": {"type.valueType": "= org.icatproject.ParameterValueType.NUMERIC",
                                         "dataset.investigation.name": "= 'mx9999'"}}, [8]),
    ("Datafile", {"conditions": {"dataset.name": "= 'ds_a'"}, "order": True}, [1, 2]),
]

VALUE_QUERIES: list[tuple[str, dict[str, Any], Any]] = [
    ("Dataset", {"attributes": "name", "order": ["id"], "limit": (0, 2)}, ["ds_a", "ds_b"]),
    ("Dataset", {"attributes": ["name", "investigation.name"], "conditions": {"id": "< 3"}, "order": ["id"]},
     [["ds_a", "mx2532"], ["ds_b", "mx2532"]]),
    ("Dataset", {"attributes": "investigation.name", "aggregate": "DISTINCT", "order": ["investigation.name"]},
     ["mx2532", "mx9999"]),
    ("Dataset", {"attributes": ["type.name", "complete"], "aggregate": "DISTINCT",
                 "conditions": {"investigation.id": "= 1"}, "order": ["type.name", "complete"]},
     [["processed", True], ["raw", False], ["raw", True]]),
    ("Dataset", {"aggregate": "COUNT"}, [5]),
    ("Dataset", {"aggregate": "COUNT", "conditions": {"name": "= 'none'"}}, [0]),
    ("Dataset", {"attributes": "type.name", "aggregate": "COUNT:DISTINCT"}, [2]),
    ("Dataset", {"attributes": "fileSize", "aggregate": "MAX"}, [500]),
    ("Dataset", {"attributes": "fileSize", "aggregate": "SUM:DISTINCT"}, [1100]),
    ("Dataset", {"attributes": "fileSize", "aggregate": "AVG", "conditions": {"investigation.name": "= 'mx2532'"}},
     [200.0]),
    ("Datafile", {"attributes": "fileSize", "aggregate": "SUM", "conditions": {"dataset.investigation.id": "= 1"}},
     [60]),
]


@pytest.mark.parametrize(("entity", "kwargs", "expected"), QUERIES, ids=[f"{q[0]}-{i}" for i, q in enumerate(QUERIES)])
def test_entity_queries(conn: sa.Connection, client: OfflineIcatClient, entity: str, kwargs: dict[str, Any],
                        expected: Any) -> None:
    query = Query(client, entity, **kwargs)
    got = run(conn, query)
    assert (sorted(ids(got)) if "order" not in kwargs else ids(got)) == expected, str(query)


@pytest.mark.parametrize(("entity", "kwargs", "expected"), VALUE_QUERIES,
                         ids=[f"{q[0]}-{i}" for i, q in enumerate(VALUE_QUERIES)])
def test_value_queries(conn: sa.Connection, client: OfflineIcatClient, entity: str, kwargs: dict[str, Any],
                       expected: Any) -> None:
    query = Query(client, entity, **kwargs)
    assert run(conn, query) == expected, str(query)


def test_includes_rendered_by_python_icat_are_attached(conn: sa.Connection, client: OfflineIcatClient) -> None:
    query = Query(client, "Dataset", conditions={"id": "= 1"},
                  includes=["datafiles", "parameters.type", "investigation.facility"])
    (obj,) = run(conn, query)
    ds = obj["Dataset"]
    assert len(ds["datafiles"]) == 2 and {p["type"]["name"] for p in ds["parameters"]} == {
        "MX_exposureTime", "MX_beamline"}
    assert ds["investigation"]["facility"]["name"] == "ESRF"


def test_python_icat_concise_convenience_queries(conn: sa.Connection) -> None:
    # the concise forms python-icat's client helpers emit (icat.md §5.3)
    assert ids(run(conn, "User [name='db/jdoe']")) == [1]
    assert ids(run(conn, "User <-> InvestigationUser <-> Investigation [id=2]")) == [2]
    assert run(conn, "Investigation.name <-> InvestigationUser <-> User [name=:user]") == ["mx2532"]


def test_python_icat_dump_queries_run(conn: sa.Connection, client: OfflineIcatClient) -> None:
    """Every query python-icat's icatdump issues (icat.dump_queries) runs and finds what the catalogue holds."""
    from icat import dump_queries as dq

    queries = [*dq.getAuthQueries(client), *dq.getStaticQueries(client), *dq.getFundingQueries(client),
               *dq.getInvestigationQueries(client, 1), *dq.getDataCollectionQueries(client),
               *dq.getDataPublicationQueries(client, 1), *dq.getOtherQueries(client)]
    assert len(queries) > 20
    found: dict[str, int] = {}
    for q in queries:
        for obj in run(conn, q):
            (name,) = obj
            found[name] = found.get(name, 0) + 1
    assert found["Investigation"] == 1 and found["Dataset"] == 3 and found["Datafile"] == 3
    assert found["User"] == 2 and found["ParameterType"] == 3 and found["Facility"] == 1


def test_rules_of_the_example_dump_compile(shared: Any) -> None:
    """All 159 Rule.what strings of python-icat's example dump (concise and JPQL) compile to id sub-queries."""
    import yaml

    from mxicat.catalogue.embedded.sql import id_subquery, parse

    path = shared.file("icat", "icatdump-5.0.yaml")
    whats = [r["what"] for doc in yaml.safe_load_all(path.read_text()) if doc and "rule" in doc
             for r in doc["rule"].values()]
    assert len(whats) == 159
    for what in whats:
        q = parse(what)
        item = q.select.items[0]
        if isinstance(item, ast.Path) and len(item.parts) > 1:  # attribute rule (SELECT o.doi FROM …)
            continue
        assert "'" not in str(id_subquery(q, params={"user": "db/jdoe"}))
