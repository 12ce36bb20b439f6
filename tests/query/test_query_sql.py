"""Every query construct, run on a small real SQLite catalogue and checked on its results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from query_support import populated

from mxicat.catalogue.embedded.sql import compile_query, execute, fetch_includes, id_subquery
from mxicat.errors import BadParameterError, ValidationError


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Connection]:
    with populated(tmp_path_factory.mktemp("cat") / "catalogue.db") as c:
        yield c


def run(conn: sa.Connection, query: str, *, params: dict[str, Any] | None = None, restrict: Any = None,
        max_entities: int | None = None) -> list[Any]:
    params = {"user": "db/jdoe"} if params is None else params
    return execute(conn, compile_query(query, params=params, restrict=restrict), max_entities=max_entities)


def names(results: list[Any]) -> list[str]:
    return [next(iter(r.values()))["name"] for r in results]


# (query, expected result) -- values computed by hand from query_support.populate
CASES: list[tuple[str, Any]] = [
    # SELECT forms
    ("SELECT ds.name FROM Dataset ds ORDER BY ds.id", ["ds_a", "ds_b", "ds_c", "ds_d", "DS_E"]),
    ("SELECT ds.id, ds.name FROM Dataset ds WHERE ds.id < 3 ORDER BY ds.id", [[1, "ds_a"], [2, "ds_b"]]),
    ("SELECT ds.investigation.name FROM Dataset ds WHERE ds.id = 4", ["mx9999"]),
    ("SELECT DISTINCT ds.investigation.name FROM Dataset ds ORDER BY ds.investigation.name", ["mx2532", "mx9999"]),
    ("SELECT DISTINCT(o.type.name) FROM Dataset o ORDER BY o.type.name", ["processed", "raw"]),
    ("SELECT COUNT(ds) FROM Dataset ds", [5]),
    ("SELECT COUNT(ds) FROM Dataset ds WHERE ds.name = 'nothing'", [0]),
    ("SELECT COUNT(DISTINCT ds.investigation) FROM Dataset ds", [2]),
    ("SELECT COUNT(DISTINCT(o.type.name)) FROM Dataset o", [2]),
    ("SELECT MIN(ds.fileSize) FROM Dataset ds", [100]),
    ("SELECT MAX(ds.fileSize) FROM Dataset ds", [500]),
    ("SELECT SUM(ds.fileSize) FROM Dataset ds", [1100]),
    ("SELECT SUM(DISTINCT ds.complete) FROM Dataset ds", [1]),
    ("SELECT AVG(ds.fileSize) FROM Dataset ds WHERE ds.investigation.id = 1", [200.0]),
    ("SELECT MAX(ds.startDate) FROM Dataset ds", [datetime(2025, 6, 3, 9, 0, tzinfo=UTC)]),
    ("SELECT MAX(ds.fileSize) FROM Dataset ds WHERE ds.id < 0", [None]),
    ("SELECT ds.type.name, COUNT(ds) FROM Dataset ds GROUP BY ds.type.name HAVING COUNT(ds) > 1 "
     "ORDER BY ds.type.name", [["processed", 2], ["raw", 3]]),
    # FROM / JOIN forms
    ("SELECT ds.name FROM Dataset ds, ds.parameters dp1, ds.parameters dp2 WHERE dp1.type.name = "
     "'MX_exposureTime' AND dp1.numericValue < 0.05 AND dp2.type.name = 'MX_beamline' "
     "AND dp2.stringValue = 'ID30A-1'", ["ds_a"]),
    ("SELECT ds.name FROM Dataset ds JOIN ds.investigation i JOIN ds.parameters p JOIN p.type pt "
     "WHERE i.name = 'mx2532' AND pt.name = 'MX_exposureTime' AND p.numericValue < 0.05 ORDER BY ds.name",
     ["ds_a", "ds_c"]),
    ("SELECT ds.name FROM Dataset ds INNER JOIN ds.sample AS s WHERE s.name = 'lyso1' ORDER BY ds.name",
     ["ds_a", "ds_c"]),
    ("SELECT ds.name FROM Dataset ds LEFT JOIN ds.sample s WHERE s IS NULL ORDER BY ds.name", ["DS_E", "ds_b"]),
    ("SELECT ds.name FROM Dataset ds LEFT OUTER JOIN ds.datafiles df WHERE df.id IS NULL ORDER BY ds.id",
     ["ds_c", "DS_E"]),
    ("SELECT COUNT(df) FROM Datafile df JOIN df.dataset ds WHERE ds.id = 1", [2]),
    ("SELECT i.name FROM Investigation i, i.investigationUsers ius WHERE ius.user.name = :user", ["mx2532"]),
    ("SELECT DISTINCT i.name FROM Investigation i, Dataset ds WHERE ds.investigation = i AND ds.complete = FALSE "
     "ORDER BY i.name", ["mx2532", "mx9999"]),
    # WHERE operators
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize <> 100 ORDER BY ds.id", [2, 3, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize != 100 ORDER BY ds.id", [2, 3, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize <= 200 OR ds.fileSize >= 500 ORDER BY ds.id", [1, 2, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE NOT (ds.fileSize > 100) ORDER BY ds.id", [1]),
    ("SELECT ds.id FROM Dataset ds WHERE (ds.fileSize + 50) * 2 > 700 ORDER BY ds.id", [5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize BETWEEN 150 AND 300 ORDER BY ds.id", [2, 3]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize NOT BETWEEN 150 AND 300 ORDER BY ds.id", [1, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.name IN ('ds_a', 'DS_E', 'zz') ORDER BY ds.id", [1, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.id NOT IN (1, 2, 3) ORDER BY ds.id", [4, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.id IN (SELECT p.dataset.id FROM DatasetParameter p "
     "WHERE p.numericValue > 0.05) ORDER BY ds.id", [2, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.description IS NULL", [2]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.fileSize IS NOT NULL ORDER BY ds.id", [1, 2, 3, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.name LIKE 'ds\\_%' ESCAPE '\\' ORDER BY ds.id", [1, 2, 3, 4, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.description LIKE '%50!%%' ESCAPE '!'", [3]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.description LIKE 'x_y' ORDER BY ds.id", [4, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.description LIKE 'x!_y' ESCAPE '!'", [4]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.name NOT LIKE 'ds%' ORDER BY ds.id", []),
    ("SELECT ds.id FROM Dataset ds WHERE ds.name LIKE 'ds_e'", [5]),  # ASCII case-insensitive, as SQLite/MySQL
    ("SELECT ds.id FROM Dataset ds WHERE ds.name = 'ds_e'", []),  # = is exact
    ("SELECT ds.id FROM Dataset ds WHERE ds.datafiles IS EMPTY ORDER BY ds.id", [3, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.datafiles IS NOT EMPTY ORDER BY ds.id", [1, 2, 4]),
    ("SELECT p.id FROM DatasetParameter p, Dataset ds WHERE ds.id = 1 AND p MEMBER OF ds.parameters "
     "ORDER BY p.id", [1, 2]),
    ("SELECT COUNT(p) FROM DatasetParameter p, Dataset ds WHERE ds.id = 1 AND p NOT MEMBER OF ds.parameters", [6]),
    ("SELECT ds.complete FROM Dataset ds ORDER BY ds.id", [True, False, True, False, True]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.complete = TRUE ORDER BY ds.id", [1, 3, 5]),
    # functions
    ("SELECT ds.id FROM Dataset ds WHERE UPPER(ds.name) = 'DS_E'", [5]),
    ("SELECT LOWER(ds.name) FROM Dataset ds WHERE ds.id = 5", ["ds_e"]),
    ("SELECT ds.id FROM Dataset ds WHERE LENGTH(ds.description) = 3 ORDER BY ds.id", [4, 5]),
    ("SELECT CONCAT(ds.name, '/', ds.investigation.name) FROM Dataset ds WHERE ds.id = 1", ["ds_a/mx2532"]),
    ("SELECT SUBSTRING(ds.name, 4) FROM Dataset ds WHERE ds.id = 2", ["b"]),
    ("SELECT SUBSTRING(ds.name, 1, 2) FROM Dataset ds WHERE ds.id = 2", ["ds"]),
    ("SELECT TRIM(LEADING 'd' FROM ds.name) FROM Dataset ds WHERE ds.id = 1", ["s_a"]),
    ("SELECT TRIM(ds.name) FROM Dataset ds WHERE ds.id = 1", ["ds_a"]),
    ("SELECT LOCATE('_', ds.name) FROM Dataset ds WHERE ds.id = 1", [3]),
    ("SELECT LOCATE('a', ds.name, 4) FROM Dataset ds WHERE ds.id = 1", [4]),
    ("SELECT ABS(0 - ds.fileSize) FROM Dataset ds WHERE ds.id = 1", [100]),
    ("SELECT MOD(ds.fileSize, 300) FROM Dataset ds WHERE ds.id = 5", [200]),
    ("SELECT SQRT(ds.fileSize) FROM Dataset ds WHERE ds.id = 1", [10.0]),
    ("SELECT SIZE(ds.datafiles) FROM Dataset ds WHERE ds.id = 1", [2]),
    # literals
    ("SELECT i.id FROM Investigation i WHERE i.title = 'It''s a trap'", [2]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.startDate > {ts 2025-01-01 00:00:00} ORDER BY ds.id", [4, 5]),
    ("SELECT ds.id FROM Dataset ds WHERE ds.startDate < CURRENT_TIMESTAMP ORDER BY ds.id", [1, 2, 4, 5]),
    ("SELECT pt.name FROM ParameterType pt WHERE pt.valueType = org.icatproject.ParameterValueType.NUMERIC",
     ["MX_exposureTime"]),
    ("SELECT p.id FROM DatasetParameter p WHERE p.numericValue > 1.2e-1", [8]),
    ("SELECT p.id FROM DatasetParameter p WHERE -p.numericValue < -1", [8]),
    ("SELECT p.id FROM DatasetParameter p WHERE p.numericValue-0.05 > 0 ORDER BY p.id", [3, 8]),
    # ORDER BY and LIMIT
    ("SELECT ds.name FROM Dataset ds ORDER BY ds.fileSize DESC, ds.name ASC", ["DS_E", "ds_c", "ds_b", "ds_a", "ds_d"]),
    ("SELECT ds.name FROM Dataset ds ORDER BY ds.id LIMIT 1, 2", ["ds_b", "ds_c"]),
    ("SELECT ds.name FROM Dataset ds ORDER BY ds.id LIMIT 3, *", ["ds_d", "DS_E"]),
    ("SELECT ds.name FROM Dataset ds ORDER BY ds.sample.name, ds.id", ["ds_a", "ds_c", "ds_d"]),
    # concise syntax
    ("Dataset.name [complete = TRUE] ORDER BY id", ["ds_a", "ds_c", "DS_E"]),
    ("Dataset.id [type.name IN ('processed')] ORDER BY id", [3, 5]),
    ("Dataset.id <-> DatasetParameter [type.name = 'MX_collected']", [4]),
    ("Dataset.name <-> Investigation [name = 'mx9999'] ORDER BY name DESC", ["ds_d", "DS_E"]),
    ("Investigation.name <-> InvestigationUser <-> User [name = :user]", ["mx2532"]),
    ("User.name <-> InvestigationUser <-> Investigation [name = 'mx9999']", ["db/nbour"]),
    ("3,5 Dataset.id ORDER BY id", [4, 5]),
    ("3, Dataset.id ORDER BY id", [4, 5]),
    (",2 Dataset.id ORDER BY id", [1, 2]),
    ("MAX (Dataset.fileSize)", [500]),
    ("COUNT (Dataset)", [5]),
    ("ParameterType.name [valueType = DATE_AND_TIME]", ["MX_collected"]),
    ("Dataset.id [startDate > {ts 2025-06-02 12:00:00}]", [5]),
    ("DISTINCT Dataset.complete ORDER BY complete", [False, True]),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_query_results(conn: sa.Connection, query: str, expected: Any) -> None:
    assert run(conn, query) == expected


def test_entities_are_icat_shaped(conn: sa.Connection) -> None:
    (obj,) = run(conn, "SELECT ds FROM Dataset ds WHERE ds.id = 2")
    ds = obj["Dataset"]
    assert ds["id"] == 2 and ds["name"] == "ds_b" and ds["complete"] is False
    assert ds["createId"] == "db/root" and ds["createTime"] == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert ds["startDate"].tzinfo is UTC
    assert "description" not in ds  # null attributes omitted
    assert "investigation" not in ds and "type" not in ds  # N:1 only when INCLUDEd
    for coll in ("datafiles", "parameters", "dataCollectionDatasets", "datasetInstruments", "datasetTechniques"):
        assert ds[coll] == []


def test_enum_values_come_back_as_strings(conn: sa.Connection) -> None:
    assert run(conn, "SELECT pt.valueType FROM ParameterType pt ORDER BY pt.id") == [
        "NUMERIC", "STRING", "DATE_AND_TIME"]


def test_include_paths_and_aliases(conn: sa.Connection) -> None:
    (obj,) = run(conn, "SELECT ds FROM Dataset ds WHERE ds.id = 1 "
                       "INCLUDE ds.datafiles df, ds.parameters AS p, p.type, ds.investigation.facility")
    ds = obj["Dataset"]
    assert [f["name"] for f in ds["datafiles"]] == ["a_0001.cbf", "a_0002.cbf"]
    assert ds["datafiles"][0]["parameters"] == []  # not included one level down
    assert {p["type"]["name"] for p in ds["parameters"]} == {"MX_exposureTime", "MX_beamline"}
    assert ds["investigation"]["name"] == "mx2532"
    assert ds["investigation"]["facility"]["name"] == "ESRF"
    assert "type" not in ds and "sample" not in ds


def test_include_one_gives_all_many_to_one_relations(conn: sa.Connection) -> None:
    (obj,) = run(conn, "SELECT ds FROM Dataset ds WHERE ds.id = 2 INCLUDE 1")
    ds = obj["Dataset"]
    assert ds["investigation"]["name"] == "mx2532" and ds["type"]["name"] == "raw"
    assert "sample" not in ds  # null relation stays absent
    assert ds["datafiles"] == [] and ds["parameters"] == []


def test_include_before_limit_and_limit_before_include(conn: sa.Connection) -> None:
    a = run(conn, "SELECT ds FROM Dataset ds ORDER BY ds.id INCLUDE ds.type LIMIT 0, 2")
    b = run(conn, "SELECT ds FROM Dataset ds ORDER BY ds.id LIMIT 0, 2 INCLUDE ds.type")
    assert a == b and [o["Dataset"]["type"]["name"] for o in a] == ["raw", "raw"]


def test_concise_include_by_type(conn: sa.Connection) -> None:
    res = run(conn, "Dataset [id = 1] INCLUDE Datafile, DatasetParameter, ParameterType")
    ds = res[0]["Dataset"]
    assert len(ds["datafiles"]) == 2 and len(ds["parameters"]) == 2
    assert all("type" in p for p in ds["parameters"])
    assert "investigation" not in ds


def test_max_entities(conn: sa.Connection) -> None:
    with pytest.raises(ValidationError, match="more than 4 entities"):
        run(conn, "SELECT ds FROM Dataset ds", max_entities=4)
    assert len(run(conn, "SELECT ds FROM Dataset ds", max_entities=5)) == 5
    assert run(conn, "SELECT COUNT(ds) FROM Dataset ds", max_entities=1) == [5]  # COUNT not limited
    assert len(run(conn, "SELECT ds FROM Dataset ds ORDER BY ds.id LIMIT 0, 3", max_entities=3)) == 3
    with pytest.raises(ValidationError):  # INCLUDEd objects count
        run(conn, "SELECT ds FROM Dataset ds WHERE ds.id = 1 INCLUDE ds.datafiles, ds.parameters", max_entities=4)


def test_restrict_applies_to_selected_entities_only(conn: sa.Connection) -> None:
    seen: list[str] = []

    def restrict(entity: str, table: sa.FromClause) -> Any:
        seen.append(entity)
        return table.c.ID != 1 if entity == "Dataset" else None

    q = "SELECT ds FROM Dataset ds JOIN ds.investigation i WHERE i.name = 'mx2532' ORDER BY ds.id"
    assert [o["Dataset"]["id"] for o in run(conn, q, restrict=restrict)] == [2, 3]
    assert seen == ["Dataset"]
    seen.clear()
    run(conn, "SELECT ds.investigation.name FROM Dataset ds", restrict=restrict)
    assert seen == ["Investigation"]


def test_id_subquery_for_rules(conn: sa.Connection) -> None:
    rule = ("SELECT ds FROM Dataset ds JOIN ds.investigation i JOIN i.investigationUsers iu "
            "JOIN iu.user u WHERE u.name = :user")
    sub = id_subquery(rule, params={"user": "db/nbour"})
    assert sorted(r[0] for r in conn.execute(sub)) == [4, 5]
    unbound = id_subquery(rule)  # :user stays a named bind parameter
    assert sorted(r[0] for r in conn.execute(unbound, {"user": "db/jdoe"})) == [1, 2, 3]
    assert [r[0] for r in conn.execute(id_subquery(rule, params={"user": "db/jdoe"}, ids=[2, 4]))] == [2]
    assert sorted(r[0] for r in conn.execute(id_subquery("Grouping <-> UserGroup <-> User [name = :user]",
                                                        params={"user": "x"}))) == []


def test_fetch_includes_with_can_read(conn: sa.Connection) -> None:
    objs = [o["Dataset"] for o in run(conn, "SELECT ds FROM Dataset ds WHERE ds.id IN (1, 4) ORDER BY ds.id")]
    calls: list[tuple[str, str, str]] = []

    def can_read(origin: str, rel: str, target: str, ids: Any) -> set[int]:
        calls.append((origin, rel, target))
        hidden = 2 if target in ("Datafile", "DatasetParameter") else None
        return {i for i in ids if i != hidden}  # hide Datafile 2 and DatasetParameter 2

    n = fetch_includes(conn, "Dataset", objs, {"datafiles": {}, "parameters": {"type": {}}, "sample": {}},
                       can_read=can_read)
    assert [f["id"] for f in objs[0]["datafiles"]] == [1]
    assert [p["id"] for p in objs[0]["parameters"]] == [1]
    assert objs[1]["sample"]["name"] == "thau1"
    assert ("Dataset", "datafiles", "Datafile") in calls and ("DatasetParameter", "type", "ParameterType") in calls
    assert [p["id"] for p in objs[1]["parameters"]] == [6, 7]
    assert n == 2 + 3 + 3 + 2  # datafiles, parameters, their types, samples


@pytest.mark.parametrize(("query", "needle"), [
    ("SELECT x FROM Nonsense x", "Nonsense"),
    ("SELECT ds.nonsense FROM Dataset ds", "nonsense"),
    ("SELECT ds FROM Dataset ds WHERE ds.investigation.bogus = 1", "bogus"),
    ("SELECT ds FROM Dataset ds WHERE zz.name = 'x'", "zz"),
    ("SELECT ds FROM Dataset ds JOIN ds.nothing n", "nothing"),
    ("SELECT ds.datafiles.name FROM Dataset ds", "datafiles"),
    ("SELECT ds FROM Dataset ds INCLUDE ds.name", "name"),
    ("SELECT ds FROM Dataset ds INCLUDE xx.datafiles", "xx"),
    ("Nonsense [name = 'x']", "Nonsense"),
    ("Dataset [bogus = 1]", "bogus"),
    ("Dataset <-> Facility", "Facility"),
    ("SELECT pt FROM ParameterType pt WHERE pt.valueType = org.icatproject.ParameterValueType.BOGUS", "BOGUS"),
    ("SELECT ds FROM Dataset ds WHERE ds.startDate > 'not a date'", "not a date"),
    ("SELECT ds FROM Dataset ds WHERE ds.name LIKE 'x' ESCAPE 'ab'", "ESCAPE"),
    ("SELECT ds, i FROM Dataset ds, Investigation i INCLUDE ds.type", "INCLUDE"),
])
def test_unknown_names_are_bad_parameters(conn: sa.Connection, query: str, needle: str) -> None:
    with pytest.raises(BadParameterError, match=needle):
        run(conn, query)


def test_unbound_parameter_is_reported(conn: sa.Connection) -> None:
    with pytest.raises(BadParameterError, match=":who"):
        run(conn, "SELECT u FROM User u WHERE u.name = :who", params={})


def test_several_entities_per_row(conn: sa.Connection) -> None:
    rows = run(conn, "SELECT ds, ds.investigation FROM Dataset ds WHERE ds.id = 4")
    assert rows[0][0]["Dataset"]["name"] == "ds_d" and rows[0][1]["Investigation"]["name"] == "mx9999"


def test_duplicates_follow_jpql(conn: sa.Connection) -> None:
    q = "SELECT ds.id FROM Dataset ds JOIN ds.parameters p WHERE ds.id = 1"
    assert run(conn, q) == [1, 1]
    assert run(conn, q.replace("SELECT ds.id", "SELECT DISTINCT ds.id")) == [1]
    assert names(run(conn, "SELECT DISTINCT ds FROM Dataset ds JOIN ds.parameters p WHERE ds.id = 1")) == ["ds_a"]


def test_rule_subqueries_embed_in_main_queries(conn: sa.Connection) -> None:
    """Several rule id-sets OR-ed (plain IN and correlated EXISTS) inside a main query over the same entity."""
    mine = id_subquery("SELECT ds FROM Dataset ds JOIN ds.investigation i JOIN i.investigationUsers iu "
                       "WHERE iu.user.name = :user", params={"user": "db/nbour"})
    processed = id_subquery("Dataset [type.name = 'processed']")

    def restrict(entity: str, table: sa.FromClause) -> Any:
        assert entity == "Dataset"
        return sa.or_(table.c.ID.in_(mine), sa.exists(processed.where(processed.selected_columns[0] == table.c.ID)))

    got = run(conn, "SELECT ds.id FROM Dataset ds WHERE ds.id IN (SELECT d2.id FROM Dataset d2 WHERE d2.id > 2) "
                    "ORDER BY ds.id", restrict=restrict)
    assert got == [3, 4, 5]  # (>2) and (nbour's: 4, 5 or processed: 3, 5)
    assert run(conn, "SELECT COUNT(ds) FROM Dataset ds", restrict=restrict) == [3]


def test_parameters_of_every_type(conn: sa.Connection) -> None:
    when = datetime(2024, 3, 2, 10, 0, tzinfo=UTC)
    q = "SELECT ds.id FROM Dataset ds WHERE ds.startDate < :t AND ds.complete = :c AND ds.fileSize >= :n"
    assert run(conn, q, params={"t": when, "c": True, "n": 100}) == [1]
    assert run(conn, "SELECT ds.id FROM Dataset ds WHERE :t > ds.startDate", params={"t": when}) == [1, 2]
    assert run(conn, "SELECT ds.id FROM Dataset ds WHERE ds.startDate < :t", params={"t": "2024-03-02 10:00:00"}) == [
        1, 2]


@pytest.mark.parametrize(("query", "params"), [
    ("SELECT ds FROM Dataset ds WHERE COUNT(ds) > 1", {}),
    ("SELECT ds.name FROM Dataset ds WHERE ds.name LIKE 'a' ESCAPE :e", {"e": "ab"}),
    ("SELECT ds.name FROM Dataset ds HAVING COUNT(ds) > 1", {}),
    ("SELECT ds.name FROM Dataset ds GROUP BY COUNT(ds)", {}),
    ("SELECT MAX(COUNT(ds)) FROM Dataset ds", {}),
])
def test_sql_level_mistakes_are_bad_parameters(conn: sa.Connection, query: str, params: dict[str, Any]) -> None:
    with pytest.raises(BadParameterError, match="Invalid query"):
        run(conn, query, params=params)


def test_concise_chain_with_two_ways_is_an_error(conn: sa.Connection) -> None:
    with pytest.raises(BadParameterError, match="loop"):
        run(conn, "Investigation <-> Dataset <-> Sample [name = 'lyso1']")


def test_include_may_visit_a_type_twice(conn: sa.Connection) -> None:
    (obj,) = run(conn, "SELECT ds FROM Dataset ds WHERE ds.id = 5 INCLUDE ds.type t, t.datasets")
    assert sorted(d["id"] for d in obj["Dataset"]["type"]["datasets"]) == [3, 5]


@pytest.mark.parametrize(("query", "check"), [
    ("Dataset", lambda ds: "datafiles" in ds and "type" not in ds),
    ("Dataset ds", lambda ds: ds["name"] == "ds_a"),
    ("Dataset AS ds INCLUDE ds.datafiles, ds.investigation", lambda ds: len(ds["datafiles"]) == 2
     and ds["investigation"]["name"] == "mx2532"),
    ("Dataset INCLUDE 1", lambda ds: ds["type"]["name"] == "raw" and ds["sample"]["name"] == "lyso1"),
    ("Dataset INCLUDE Datafile, DatasetParameter, ParameterType", lambda ds: len(ds["parameters"]) == 2
     and all("type" in p for p in ds["parameters"])),
])
def test_get_queries(conn: sa.Connection, query: str, check: Any) -> None:
    from mxicat.catalogue.embedded.sql import parse_get

    (obj,) = execute(conn, compile_query(parse_get(query, 1)))
    assert obj["Dataset"]["id"] == 1 and check(obj["Dataset"])
    assert execute(conn, compile_query(parse_get(query, 999))) == []


@pytest.mark.parametrize("query", ["Dataset ds WHERE ds.id = 1", "Nothing", "Dataset INCLUDE ds.datafiles",
                                   "Dataset ds INCLUDE Datafile", "Dataset ds ds"])
def test_bad_get_queries(query: str) -> None:
    from mxicat.catalogue.embedded.sql import parse_get

    with pytest.raises(BadParameterError):
        parse_get(query, 1)
    with pytest.raises(BadParameterError):
        parse_get("Dataset", True)  # type: ignore[arg-type]
