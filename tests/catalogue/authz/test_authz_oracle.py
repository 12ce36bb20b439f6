"""The SQL path of authorization against a brute-force Python evaluation of every rule (hypothesis).

For random investigations, memberships, groupings, instrument scientists, datasets (complete or not, raw or
not, released or embargoed), datafiles, parameters and data collections, every user's readable set per entity
type -- the SQL restriction the store adds to a search -- must equal the union of the user's applicable R rules
evaluated object by object in Python (``authz_oracle``). In particular no object outside the rule set is ever
returned. The C/U/D checks of existing objects are compared the same way.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from authz_data import NOW, Rows, new_engine
from authz_oracle import Evaluator, Snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxicat.catalogue.embedded.authz import Authorizer, parse_rule_what
from mxicat.catalogue.embedded.rules_default import default_rules
from mxicat.catalogue.embedded.schema import TABLES

USERS = ["db/u0", "db/u1", "db/u2", "db/u3"]
ROOT = "simple/root"
CHECKED = [
    "Investigation", "InvestigationUser", "InvestigationParameter", "Sample", "SampleParameter", "Dataset",
    "DatasetParameter", "Datafile", "DatafileParameter", "Grouping", "UserGroup", "DataCollection",
    "DataCollectionDataset", "Instrument", "User", "Rule", "Keyword",
]

#: extra rules in ICAT's example style: concise chains, role tests, createId, grouping-bound rules
EXTRA_RULES: list[tuple[str, str, str | None]] = [
    ("R", "Grouping <-> UserGroup <-> User [name=:user]", None),
    ("R", "Investigation <-> InvestigationUser <-> User [name=:user]", None),
    ("R", "SELECT o FROM DataCollection o WHERE o.createId = :user", None),
    ("R", "SELECT o FROM DataCollectionDataset o JOIN o.dataCollection AS s1 WHERE s1.createId = :user", None),
    ("R", "SELECT o FROM Grouping o JOIN o.investigationGroups AS ig JOIN ig.investigation AS s1 "
          "JOIN s1.investigationGroups AS s2 JOIN s2.grouping AS s3 JOIN s3.userGroups AS s4 "
          "JOIN s4.user AS s5 WHERE s5.name = :user AND s2.role = 'owner'", None),
    ("R", "Dataset [complete = TRUE]", "staff"),
    ("R", "SELECT o FROM Datafile o JOIN o.dataset AS ds WHERE ds.name LIKE 'a%' OR o.name IN ('f1', 'f3')",
     "staff"),
    ("R", "Rule", "staff"),
    ("R", "SELECT o FROM UserGroup o JOIN o.user AS u WHERE u.name <> :user AND NOT (u.name = 'db/u3')", None),
]


def build(seed: st.DataObject, path: Path) -> sa.Engine:
    """A random catalogue with the default policy plus :data:`EXTRA_RULES`."""
    engine = new_engine(path)
    rows = Rows()
    draw = seed.draw
    with engine.begin() as conn:
        fac = rows.add(conn, "Facility", name="F")
        itype = rows.add(conn, "InvestigationType", name="exp", facility=fac)
        dtypes = [rows.add(conn, "DatasetType", name=n, facility=fac) for n in ("raw", "processed")]
        ptype = rows.add(conn, "ParameterType", name="p", units="1", valueType="NUMERIC", facility=fac)
        insts = [rows.add(conn, "Instrument", name=f"BL{i}", facility=fac) for i in range(2)]
        users = [rows.add(conn, "User", name=n) for n in USERS]
        staff = rows.add(conn, "Grouping", name="staff")
        for u in users:
            if draw(st.booleans()):
                rows.add(conn, "UserGroup", user=u, grouping=staff)
        for u in users:
            for ins in insts:
                if draw(st.integers(0, 6)) == 0:
                    rows.add(conn, "InstrumentScientist", user=u, instrument=ins)
        datasets: list[int] = []
        for n in range(draw(st.integers(1, 3))):
            release = draw(st.sampled_from([None, NOW - timedelta(days=400), NOW + timedelta(days=400)]))
            inv = rows.add(conn, "Investigation", name=f"inv{n}", visitId="v", title="t", facility=fac,
                           type=itype, releaseDate=release)
            rows.add(conn, "Keyword", name="k", investigation=inv)
            rows.add(conn, "InvestigationParameter", type=ptype, investigation=inv, numericValue=1.0)
            for ins in insts:
                if draw(st.booleans()):
                    rows.add(conn, "InvestigationInstrument", investigation=inv, instrument=ins)
            for u in users:
                if draw(st.integers(0, 5)) == 0:
                    rows.add(conn, "InvestigationUser", user=u, investigation=inv, role="member")
            for role in ("owner", "writer", "reader"):
                g = rows.add(conn, "Grouping", name=f"inv{n}_{role}")
                rows.add(conn, "InvestigationGroup", grouping=g, investigation=inv, role=role)
                for u in users:
                    if draw(st.integers(0, 5)) == 0:
                        rows.add(conn, "UserGroup", user=u, grouping=g)
            sample = rows.add(conn, "Sample", name="s", investigation=inv)
            rows.add(conn, "SampleParameter", type=ptype, sample=sample, numericValue=2.0)
            for d in range(draw(st.integers(0, 3))):
                ds = rows.add(conn, "Dataset", name=draw(st.sampled_from(["a1", "b", "a2", "c"])) + str(d),
                              investigation=inv, type=draw(st.sampled_from(dtypes)),
                              complete=draw(st.booleans()), sample=sample if d % 2 else None)
                datasets.append(ds)
                rows.add(conn, "DatasetParameter", type=ptype, dataset=ds, numericValue=3.0)
                for f in range(draw(st.integers(0, 2))):
                    df = rows.add(conn, "Datafile", name=f"f{f + d}", dataset=ds)
                    rows.add(conn, "DatafileParameter", type=ptype, datafile=df, numericValue=4.0)
        for _ in range(draw(st.integers(0, 2))):
            dc = rows.add(conn, "DataCollection", creator=draw(st.sampled_from(USERS + [ROOT])))
            for ds in datasets[:2]:
                rows.add(conn, "DataCollectionDataset", dataCollection=dc, dataset=ds)
        grouping_ids = dict(conn.execute(sa.select(TABLES["Grouping"].c.NAME, TABLES["Grouping"].c.ID)).all())
        specs = [(r.crud_flags, r.what, r.grouping) for r in default_rules()] + EXTRA_RULES
        for flags, what, gname in specs:
            gid = None
            if gname is not None:
                gid = grouping_ids.get(gname) or rows.add(conn, "Grouping", name=gname)
                grouping_ids[gname] = gid
            rows.add(conn, "Rule", crudFlags=flags, what=what, grouping=gid)
    return engine


def oracle_readable(snap: Snapshot, user: str, bean: str, flag: str = "R") -> set[int]:
    """ICAT's semantics evaluated in Python: root, public tables (READ only), unrestricted rules, else the union
    of the user's applicable rules with ``flag``."""
    all_ids = set(snap.rows[bean])
    if user == ROOT:
        return all_ids
    groups = {
        ug["grouping"] for ug in snap.rows["UserGroup"].values()
        if snap.rows["User"][ug["user"]]["name"] == user
    }
    rules = [(r, parse_rule_what(r["what"], r["crudFlags"])) for r in snap.rows["Rule"].values()]
    mine = [(r, w) for r, w in rules if w.bean == bean]
    if flag == "R" and any(r["grouping"] is None and not w.restricted for r, w in mine):
        return all_ids  # public table
    applicable = [w for r, w in mine if flag in r["crudFlags"] and (r["grouping"] is None or r["grouping"] in groups)]
    if any(not w.restricted for w in applicable):
        return all_ids
    ev = Evaluator(snap, {"user": user}, NOW)
    out: set[int] = set()
    for w in applicable:
        out |= ev.selected_ids(w.query)
    return out


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sql_read_restriction_equals_bruteforce(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(data, Path(tmp) / "cat.db")
        authz = Authorizer([ROOT])
        with engine.connect() as conn:
            snap = Snapshot(conn)
            for user in USERS + [ROOT]:
                for bean in CHECKED:
                    t = TABLES[bean].alias()
                    cond = authz.read_restriction(conn, user, bean, t.c.ID)
                    stmt = sa.select(t.c.ID)
                    if cond is not None:
                        stmt = stmt.where(cond)
                    got = set(conn.execute(stmt).scalars())
                    expected = oracle_readable(snap, user, bean)
                    assert got == expected, (user, bean, sorted(got - expected), sorted(expected - got))
                    # the batch check used for INCLUDE and isAccessAllowed agrees too
                    assert authz.readable_ids(conn, user, bean, snap.rows[bean]) == expected
                    # and the C/U/D checks on existing objects (create is checked after the insert the same way)
                    for flag in "CUD":
                        allowed = authz._allowed(conn, user, bean, flag, snap.rows[bean])
                        assert allowed == oracle_readable(snap, user, bean, flag), (user, bean, flag)
        engine.dispose()
