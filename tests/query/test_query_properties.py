"""Property tests: compiled queries agree with a small in-Python evaluator on random catalogues.

The evaluator implements the documented semantics independently: SQL three-valued logic for nulls, LIKE with
``%``/``_``/ESCAPE (ASCII case-insensitive, as SQLite), inner-join semantics of N:1 paths (a dataset whose
``sample`` is null drops out of any query that navigates ``ds.sample.name``) and the foreign-key shortcut for
``ds.sample.id``; ordering with NULLs first ascending (SQLite); ICAT's ``LIMIT offset, count``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_support import insert, make_engine

from mxicat.catalogue.embedded.sql import compile_query, execute

Tri = bool | None  # SQL truth value: True, False or unknown
NAMES = st.text(alphabet="aAb_%'", min_size=0, max_size=4)
DATES = [datetime(2024, 1, d, 12) for d in (1, 2, 3)]


@dataclass
class DS:
    id: int
    name: str
    inv: int
    sample: int | None
    complete: bool
    size: int | None
    start: datetime | None
    a: float | None = None  # numeric parameter "A"
    b: str | None = None  # string parameter "B"
    row: dict[str, Any] = field(default_factory=dict)

    def attr(self, path: str) -> Any:
        return {"name": self.name, "fileSize": self.size, "complete": self.complete, "startDate": self.start,
                "investigation.name": f"inv{self.inv}", "sample.name": None if self.sample is None
                else f"s{self.sample}", "sample.id": None if self.sample is None else self.sample + 1,
                "id": self.id}[path]


datasets_st = st.lists(
    st.builds(
        lambda name, inv, sample, complete, size, start, a, b: DS(0, name, inv, sample, complete, size, start, a, b),
        NAMES, st.integers(0, 1), st.none() | st.integers(0, 1), st.booleans(), st.none() | st.integers(-3, 3),
        st.none() | st.sampled_from(DATES), st.none() | st.sampled_from([-1.5, 0.0, 0.5, 2.0]),
        st.none() | st.sampled_from(["x", "y", "it's"]),
    ),
    min_size=0, max_size=10, unique_by=lambda d: (d.inv, d.name),  # ICAT's key (investigation, name)
)


# ----------------------------------------------------------------------------- conditions: (text, evaluator)
Atom = tuple[str, Callable[[DS], Tri], bool]  # relative JPQL text, truth function, navigates ds.sample


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _cmp(op: str, a: Any, b: Any) -> Tri:
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _like(value: str | None, pattern: str, escape: str | None) -> Tri:
    if value is None:
        return None
    rx, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.fullmatch(rx, value, re.DOTALL | re.IGNORECASE) is not None


OPS = st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="])


@st.composite
def atoms(draw: st.DrawFn) -> Atom:
    kind = draw(st.sampled_from(["size", "name", "like", "like", "like", "null", "between", "in", "complete",
                                 "inv", "sample", "sample_id", "date"]))
    if kind == "size":
        op, k = draw(OPS), draw(st.integers(-3, 3))
        return f"fileSize {op} {k}", lambda d: _cmp(op, d.size, k), False
    if kind == "name":
        op, s = draw(OPS), draw(NAMES)
        return f"name {op} {_q(s)}", lambda d: _cmp(op, d.name, s), False
    if kind == "like":
        pat, neg = draw(NAMES), draw(st.booleans())
        esc = draw(st.none() | st.just("!"))
        if esc:
            pat = pat.replace("!", "") + draw(st.sampled_from(["", "!%", "!_"]))
        text = f"name {'NOT ' if neg else ''}LIKE {_q(pat)}" + (f" ESCAPE {_q(esc)}" if esc else "")

        def like(d: DS) -> Tri:
            r = _like(d.name, pat, esc)
            return None if r is None else (not r if neg else r)
        return text, like, False
    if kind == "null":
        neg = draw(st.booleans())
        return (f"fileSize IS {'NOT ' if neg else ''}NULL",
                lambda d: (d.size is not None) if neg else (d.size is None), False)
    if kind == "between":
        lo, hi = sorted(draw(st.lists(st.integers(-3, 3), min_size=2, max_size=2)))
        return f"fileSize BETWEEN {lo} AND {hi}", lambda d: None if d.size is None else lo <= d.size <= hi, False
    if kind == "in":
        vals = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3))
        neg = draw(st.booleans())

        def in_(d: DS) -> Tri:
            if d.size is None:
                return None
            return (d.size not in vals) if neg else (d.size in vals)
        return f"fileSize {'NOT ' if neg else ''}IN ({', '.join(map(str, vals))})", in_, False
    if kind == "complete":
        b = draw(st.booleans())
        return f"complete = {'TRUE' if b else 'FALSE'}", lambda d: d.complete == b, False
    if kind == "inv":
        k = draw(st.integers(0, 1))
        return f"investigation.name = 'inv{k}'", lambda d: d.inv == k, False
    if kind == "sample":
        k = draw(st.integers(0, 1))
        return f"sample.name = 's{k}'", lambda d: _cmp("=", d.attr("sample.name"), f"s{k}"), True
    if kind == "sample_id":
        op, k = draw(OPS), draw(st.integers(1, 2))
        return f"sample.id {op} {k}", lambda d: _cmp(op, d.attr("sample.id"), k), False
    op, dt = draw(OPS), draw(st.sampled_from(DATES))
    return (f"startDate {op} {{ts {dt:%Y-%m-%d %H:%M:%S}}}", lambda d: _cmp(op, d.start, dt), False)


def _and(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def conditions() -> st.SearchStrategy[Atom]:
    def extend(inner: st.SearchStrategy[Atom]) -> st.SearchStrategy[Atom]:
        def combine(op: str, x: Atom, y: Atom) -> Atom:
            fn = _and if op == "AND" else _or
            return f"({x[0]}) {op} ({y[0]})", lambda d: fn(x[1](d), y[1](d)), x[2] or y[2]

        def negate(x: Atom) -> Atom:
            return f"NOT ({x[0]})", lambda d: None if x[1](d) is None else not x[1](d), x[2]
        return st.one_of(st.builds(combine, st.sampled_from(["AND", "OR"]), inner, inner), inner.map(negate))
    return st.recursive(atoms(), extend, max_leaves=5)


def prefixed(text: str, alias: str) -> str:
    """Relative field names in a condition → ``alias.field`` (names are the words followed by an operator)."""
    return re.sub(r"(?<![\w.'$])(fileSize|name|complete|investigation\.name|sample\.name|sample\.id|startDate)"
                  r"(?=\s)", lambda m: f"{alias}.{m.group(1)}", text)


# ----------------------------------------------------------------------------- catalogue per example


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    eng = make_engine(str(tmp_path_factory.mktemp("prop") / "catalogue.db"))
    with eng.begin() as c:
        insert(c, "Facility", 1, name="F")
        insert(c, "InvestigationType", 1, name="t", facility=1)
        insert(c, "DatasetType", 1, name="raw", facility=1)
        insert(c, "ParameterType", 1, name="A", units="u", valueType="NUMERIC", facility=1)
        insert(c, "ParameterType", 2, name="B", units="u", valueType="STRING", facility=1)
        for k in (0, 1):
            insert(c, "Investigation", k + 1, name=f"inv{k}", visitId="v", title="t", facility=1, type=1)
            insert(c, "Sample", k + 1, name=f"s{k}", investigation=k + 1)
    yield eng
    eng.dispose()


def load(conn: sa.Connection, dss: list[DS]) -> None:
    pid = 0
    for i, d in enumerate(dss):
        d.id = i + 1
        values: dict[str, Any] = {"name": d.name, "investigation": d.inv + 1, "type": 1, "complete": d.complete}
        if d.sample is not None:
            values["sample"] = d.sample + 1
        if d.size is not None:
            values["fileSize"] = d.size
        if d.start is not None:
            values["startDate"] = d.start
        insert(conn, "Dataset", d.id, **values)
        for typ, val in ((1, {"numericValue": d.a}), (2, {"stringValue": d.b})):
            if next(iter(val.values())) is not None:
                pid += 1
                insert(conn, "DatasetParameter", pid, dataset=d.id, type=typ, **val)


def _sort_key(value: Any, desc: bool) -> tuple[int, Any]:  # noqa: ARG001
    # SQLite: NULLs are smallest (first ascending, last descending)
    return (0, 0) if value is None else (1, value)


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(dss=datasets_st, cond=conditions(), order=st.sampled_from(["name", "fileSize", "startDate"]),
       desc=st.booleans(), limit=st.none() | st.tuples(st.integers(0, 3), st.integers(0, 4)))
def test_where_order_limit_agree_with_evaluator(engine: sa.Engine, dss: list[DS], cond: Atom, order: str,
                                                desc: bool, limit: tuple[int, int] | None) -> None:
    text, truth, uses_sample = cond
    with engine.connect() as conn, conn.begin() as tx:
        load(conn, dss)
        where = prefixed(text, "ds")
        jpql = (f"SELECT ds.id FROM Dataset ds WHERE {where} ORDER BY ds.{order} {'DESC' if desc else 'ASC'}, "
                "ds.id" + (f" LIMIT {limit[0]}, {limit[1]}" if limit else ""))
        if desc:  # the id tie-break stays ascending
            expected_all = [d for d in dss if truth(d) is True and (d.sample is not None or not uses_sample)]
            groups: dict[Any, list[DS]] = {}
            for d in sorted(expected_all, key=lambda d: d.id):
                groups.setdefault(d.attr(order), []).append(d)
            keys = sorted(groups, key=lambda v: _sort_key(v, True), reverse=True)
            expected = [d.id for k in keys for d in groups[k]]
        else:
            expected = [d.id for d in sorted(
                sorted((d for d in dss if truth(d) is True and (d.sample is not None or not uses_sample)),
                       key=lambda d: d.id), key=lambda d: _sort_key(d.attr(order), False))]
        if limit:
            expected = expected[limit[0]: limit[0] + limit[1]]
        assert execute(conn, compile_query(jpql)) == expected, jpql
        count = execute(conn, compile_query(f"SELECT COUNT(ds) FROM Dataset ds WHERE {where}"))
        assert count == [sum(1 for d in dss if truth(d) is True and (d.sample is not None or not uses_sample))]
        concise = sorted(execute(conn, compile_query(f"Dataset.id [{text}]")))
        assert concise == sorted(d.id for d in dss if truth(d) is True and (d.sample is not None or not uses_sample))
        tx.rollback()


@SETTINGS
@given(dss=datasets_st, op=OPS, x=st.sampled_from([-1.0, 0.0, 0.5, 1.0]), y=st.sampled_from(["x", "y", "it's"]),
       inv=st.integers(0, 1), limit=st.tuples(st.integers(0, 2), st.integers(1, 3)))
def test_two_parameter_portal_query(engine: sa.Engine, dss: list[DS], op: str, x: float, y: str, inv: int,
                                    limit: tuple[int, int]) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        load(conn, dss)
        jpql = (f"SELECT ds FROM Dataset ds, ds.parameters p1, ds.parameters p2 WHERE ds.investigation.id = {inv + 1}"
                f" AND p1.type.name = 'A' AND p1.numericValue {op} {x} AND p2.type.name = 'B' AND p2.stringValue ="
                f" {_q(y)} ORDER BY ds.name LIMIT {limit[0]}, {limit[1]} INCLUDE ds.parameters")
        hits = sorted((d for d in dss if d.inv == inv and _cmp(op, d.a, x) is True and d.b == y),
                      key=lambda d: d.name)
        expected = hits[limit[0]: limit[0] + limit[1]]
        got = execute(conn, compile_query(jpql))
        assert [o["Dataset"]["id"] for o in got] == [d.id for d in expected], jpql
        for obj, d in zip(got, expected, strict=True):
            params = obj["Dataset"]["parameters"]
            assert {p.get("numericValue") for p in params if "numericValue" in p} == {d.a}
            assert {p.get("stringValue") for p in params if "stringValue" in p} == {d.b}
        tx.rollback()


@SETTINGS
@given(dss=datasets_st)
def test_aggregates_agree(engine: sa.Engine, dss: list[DS]) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        load(conn, dss)
        sizes = [d.size for d in dss if d.size is not None]
        assert execute(conn, compile_query("SELECT MAX(ds.fileSize) FROM Dataset ds")) == [max(sizes, default=None)]
        assert execute(conn, compile_query("SELECT MIN(ds.fileSize) FROM Dataset ds")) == [min(sizes, default=None)]
        assert execute(conn, compile_query("SELECT SUM(ds.fileSize) FROM Dataset ds")) == [
            sum(sizes) if sizes else None]
        assert execute(conn, compile_query("SELECT COUNT(DISTINCT ds.fileSize) FROM Dataset ds")) == [len(set(sizes))]
        assert execute(conn, compile_query("SELECT COUNT(ds.fileSize) FROM Dataset ds")) == [len(sizes)]
        groups = sorted({(d.inv, d.complete) for d in dss})
        rows = execute(conn, compile_query(
            "SELECT DISTINCT ds.investigation.name, ds.complete FROM Dataset ds "
            "ORDER BY ds.investigation.name, ds.complete"))
        assert rows == [[f"inv{i}", c] for i, c in groups]
        tx.rollback()
