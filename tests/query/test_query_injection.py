"""Values never reach SQL text: every literal is a bound parameter, and hostile values are just values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from query_support import insert, populated
from test_query_sql import CASES

from mxicat.catalogue.embedded.sql import compile_query, execute, id_subquery
from mxicat.errors import BadParameterError

HOSTILE = [
    "x' OR 1=1 --",
    "'; DROP TABLE DATASET; --",
    "*/ OR 1=1 /*",
    "\" OR \"\"=\"",
    "%' OR ds.name LIKE '%",
    "\\'; DELETE FROM DATASET WHERE '1'='1",
    "Robert'); DROP TABLE USER_;--",
    "a; SELECT * FROM SESSION_",
    "' UNION SELECT ID FROM USER_ --",
]


def _hostile(c: sa.Connection) -> None:
    for k, value in enumerate(HOSTILE):
        insert(c, "Dataset", 100 + k, name=value, investigation=1, type=1, complete=False)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Connection]:
    with populated(tmp_path_factory.mktemp("hostile") / "catalogue.db", _hostile) as c:
        yield c


def sql_text(stmt: sa.ClauseElement) -> tuple[str, dict[str, object]]:
    compiled = stmt.compile(dialect=sa.dialects.sqlite.dialect())
    return str(compiled), dict(compiled.params)


def jpql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_string_literal_is_bound_and_matches_exactly(conn: sa.Connection, value: str) -> None:
    q = compile_query(f"SELECT ds.id FROM Dataset ds WHERE ds.name = {jpql_quote(value)}")
    text, params = sql_text(q.select)
    assert value not in text and "'" not in text
    assert value in params.values()
    assert execute(conn, q) == [100 + HOSTILE.index(value)]
    assert execute(conn, compile_query("SELECT COUNT(ds) FROM Dataset ds")) == [5 + len(HOSTILE)]  # nothing dropped


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_parameter_value(conn: sa.Connection, value: str) -> None:
    q = compile_query("SELECT ds.id FROM Dataset ds WHERE ds.name = :user", params={"user": value})
    text, params = sql_text(q.select)
    assert value not in text and params["user"] == value
    assert execute(conn, q) == [100 + HOSTILE.index(value)]
    sub = id_subquery("Dataset [name = :user]", params={"user": value})
    assert value not in sql_text(sub)[0]
    assert [r[0] for r in conn.execute(sub)] == [100 + HOSTILE.index(value)]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_like_in_and_concise(conn: sa.Connection, value: str) -> None:
    queries = [
        f"SELECT ds.id FROM Dataset ds WHERE ds.name LIKE {jpql_quote(value)} ESCAPE '!'",
        f"SELECT ds.id FROM Dataset ds WHERE ds.name IN ({jpql_quote(value)}, 'zz')",
        f"Dataset.id [name = {jpql_quote(value)}]",
        f"SELECT ds.id FROM Dataset ds WHERE UPPER(ds.name) = UPPER({jpql_quote(value)})",
    ]
    for query in queries:
        q = compile_query(query)
        text, _ = sql_text(q.select)
        assert value not in text and "'" not in text
        assert 100 + HOSTILE.index(value) in execute(conn, q)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_no_quote_characters_in_any_compiled_query(query: str, expected: object) -> None:
    """Every literal of every construct is a parameter: the SQL text has no string literals at all."""
    text, _ = sql_text(compile_query(query, params={"user": "db/jdoe"}).select)
    assert "'" not in text
    assert "db/jdoe" not in text


def test_jpql_level_tricks_stay_jpql(conn: sa.Connection) -> None:
    # A query author may write OR 1=1 -- it is JPQL, compiled with bound 1s, and means what it says.
    q = compile_query("SELECT COUNT(ds) FROM Dataset ds WHERE ds.name = 'none' OR 1=1")
    assert "1 = 1" not in sql_text(q.select)[0] and execute(conn, q) == [5 + len(HOSTILE)]
    # SQL comments and statement separators are not part of the language.
    for query in ["SELECT ds FROM Dataset ds; DELETE FROM Dataset ds",
                  "SELECT ds FROM Dataset ds WHERE ds.id = 1 /* x */",
                  "Dataset [name = 'x'] ; DROP TABLE DATASET",
                  "SELECT ds FROM Dataset ds WHERE ds.name = 'a' --"]:
        with pytest.raises(BadParameterError):
            compile_query(query)
    # "--" followed by a name is arithmetic on an undefined variable, rejected by the compiler.
    with pytest.raises(BadParameterError, match="comment"):
        compile_query("SELECT ds FROM Dataset ds WHERE ds.name = 'a' -- comment")
    assert execute(conn, compile_query("SELECT COUNT(ds) FROM Dataset ds")) == [5 + len(HOSTILE)]


def test_names_cannot_smuggle_sql() -> None:
    for query in ["SELECT ds FROM Dataset ds WHERE ds.name_or_1 = 1",
                  "SELECT ds FROM DATASET ds",
                  "SELECT ds FROM Dataset ds ORDER BY ds.id$desc"]:
        with pytest.raises(BadParameterError):
            compile_query(query)


def test_limit_and_timestamps_are_bound() -> None:
    q = compile_query("SELECT ds FROM Dataset ds WHERE ds.startDate > {ts 2011-01-15 00:00:00} "
                      "AND ds.fileSize > 12345 ORDER BY ds.id LIMIT 67890, 4242")
    text, params = sql_text(q.select)
    for literal in ("2011", "12345", "67890", "4242"):
        assert literal not in text
    assert 12345 in params.values() and 4242 in params.values() and 67890 in params.values()
