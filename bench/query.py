"""Benchmark: the portal query through mxicat's query compiler vs the same query as hand-written SQL.

Builds (or reuses) an embedded catalogue file with ``--datasets`` Datasets (default 1,000,000) in investigations
of ``--per-investigation`` datasets, each dataset with ``--params`` DatasetParameters (default 10, so 10 M
parameters), one per ParameterType: half numeric, half string. Generation uses raw ``sqlite3.executemany``
into the tables of :mod:`mxicat.catalogue.embedded.schema` (indexes built after loading, then ``ANALYZE``).

The portal query -- datasets of one investigation with two parameter conditions, ordered, first 50 --::

    SELECT ds FROM Dataset ds JOIN ds.investigation i JOIN ds.parameters p1 JOIN p1.type t1
    JOIN ds.parameters p2 JOIN p2.type t2 WHERE i.name = '…' AND t1.name = 'num0' AND p1.numericValue < 0.5
    AND t2.name = 'str0' AND p2.stringValue = 'v3' ORDER BY ds.name LIMIT 0, 50

runs, for a random investigation each time and in alternation, as

* ``mxicat``: query text → parse → compile (:func:`sql.compile_query`) → :func:`sql.execute` → ICAT-shaped
  ``{"Dataset": {...}}`` dicts (what the store does, without authorization);
* ``compile + SQLAlchemy rows``: the same without shaping (rows of the compiled SELECT), to show where time goes;
* ``hand SQL``: the equivalent SQL written by hand, run with raw ``sqlite3``, rows as tuples.

The three run on the same random investigation in rotating order (each meets cold pages equally often).

It prints p50/p95 and the ratio mxicat / hand SQL; all must return the same dataset ids (checked every time).

Usage:
    .venv/bin/python bench/query.py [--datasets 1000000] [--per-investigation 1000] [--params 10]
                                    [--repeat 200] [--db bench/out/query-1000000-10.db] [--no-analyze]

Without ``ANALYZE`` statistics SQLite's planner starts this query with a full scan of DATASETPARAMETER (for both
the compiled and the hand-written SQL), so a catalogue should be analysed after bulk loads.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import TABLES, metadata
from mxicat.catalogue.embedded.sql import compile_query, execute

PORTAL = (
    "SELECT ds FROM Dataset ds JOIN ds.investigation i JOIN ds.parameters p1 JOIN p1.type t1 "
    "JOIN ds.parameters p2 JOIN p2.type t2 WHERE i.name = '{inv}' AND t1.name = 'num0' "
    "AND p1.numericValue < 0.5 AND t2.name = 'str0' AND p2.stringValue = 'v3' ORDER BY ds.name LIMIT 0, 50"
)
HAND_SQL = """
SELECT d.* FROM DATASET d
JOIN INVESTIGATION i ON i.ID = d.INVESTIGATION_ID
JOIN DATASETPARAMETER p1 ON p1.DATASET_ID = d.ID
JOIN PARAMETERTYPE t1 ON t1.ID = p1.PARAMETER_TYPE_ID
JOIN DATASETPARAMETER p2 ON p2.DATASET_ID = d.ID
JOIN PARAMETERTYPE t2 ON t2.ID = p2.PARAMETER_TYPE_ID
WHERE i.NAME = ? AND t1.NAME = ? AND p1.NUMERIC_VALUE < ? AND t2.NAME = ? AND p2.STRING_VALUE = ?
ORDER BY d.NAME LIMIT 50 OFFSET 0
"""
TS = "2024-01-01 00:00:00.000000"
META = ("root", TS, "root", TS)
STRINGS = [f"v{k}" for k in range(10)]


def build(path: Path, n: int, per_inv: int, n_params: int, seed: int = 11, analyze: bool = True) -> None:
    """Create the catalogue file with raw executemany (fast setup; the benchmark is about reading)."""
    rng = random.Random(seed)
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    big = [TABLES["Dataset"], TABLES["DatasetParameter"]]
    index_sql = [r[0] for t in big for r in con.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (t.name,))]
    for t in big:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=? "
                                   "AND sql IS NOT NULL", (t.name,)).fetchall():
            con.execute(f'DROP INDEX "{name}"')
    meta_cols = "ID, CREATE_ID, CREATE_TIME, MOD_ID, MOD_TIME"
    con.execute(f"INSERT INTO FACILITY ({meta_cols}, NAME) VALUES (1, ?, ?, ?, ?, 'BENCH')", META)
    con.execute(f"INSERT INTO INVESTIGATIONTYPE ({meta_cols}, NAME, FACILITY_ID) VALUES (1, ?, ?, ?, ?, 'MX', 1)",
                META)
    con.execute(f"INSERT INTO DATASETTYPE ({meta_cols}, NAME, FACILITY_ID) VALUES (1, ?, ?, ?, ?, 'raw', 1)", META)
    half = n_params // 2
    types = [(k + 1, f"num{k}", "NUMERIC") for k in range(half)] + [
        (half + k + 1, f"str{k}", "STRING") for k in range(n_params - half)]
    con.executemany(
        f"INSERT INTO PARAMETERTYPE ({meta_cols}, NAME, UNITS, VALUETYPE, FACILITY_ID, ENFORCED, VERIFIED, "
        "APPLICABLETODATASET, APPLICABLETODATAFILE, APPLICABLETOINVESTIGATION, APPLICABLETOSAMPLE, "
        "APPLICABLETODATACOLLECTION) VALUES (?, ?, ?, ?, ?, ?, 'u', ?, 1, 0, 0, 1, 0, 0, 0, 0)",
        [(tid, *META, name, vt) for tid, name, vt in types])
    n_inv = max(1, (n + per_inv - 1) // per_inv)
    con.executemany(
        f"INSERT INTO INVESTIGATION ({meta_cols}, NAME, VISIT_ID, TITLE, FACILITY_ID, TYPE_ID) "
        "VALUES (?, ?, ?, ?, ?, ?, '1', 'bench', 1, 1)",
        [(k + 1, *META, f"mx{k:05d}") for k in range(n_inv)])
    pid = 0
    batch = 50_000
    for start in range(0, n, batch):
        ids = range(start + 1, min(n, start + batch) + 1)
        con.executemany(
            f"INSERT INTO DATASET ({meta_cols}, NAME, COMPLETE, INVESTIGATION_ID, TYPE_ID) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, 1)",
            [(i, *META, f"ds{rng.randrange(10**8):08d}_{i}", (i - 1) // per_inv + 1) for i in ids])
        rows = []
        for i in ids:
            for tid, _name, vt in types:
                pid += 1
                if vt == "NUMERIC":
                    rows.append((pid, *META, i, tid, rng.random(), None))
                else:
                    rows.append((pid, *META, i, tid, None, rng.choice(STRINGS)))
        con.executemany(
            f"INSERT INTO DATASETPARAMETER ({meta_cols}, DATASET_ID, PARAMETER_TYPE_ID, NUMERIC_VALUE, "
            "STRING_VALUE) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.commit()
    for stmt in index_sql:
        con.execute(stmt)
    if analyze:
        con.execute("ANALYZE")
    con.commit()
    con.close()


def _ours(conn: sa.Connection, raw: sqlite3.Connection, inv: str) -> list[Any]:
    return execute(conn, compile_query(PORTAL.format(inv=inv)))


def _sql_only(conn: sa.Connection, raw: sqlite3.Connection, inv: str) -> list[Any]:
    return list(conn.execute(compile_query(PORTAL.format(inv=inv)).select).all())


def _hand(conn: sa.Connection, raw: sqlite3.Connection, inv: str) -> list[Any]:
    return raw.execute(HAND_SQL, (inv, "num0", 0.5, "str0", "v3")).fetchall()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=1_000_000)
    ap.add_argument("--per-investigation", type=int, default=1000)
    ap.add_argument("--params", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--db", type=Path, default=None, help="catalogue file (reused when it exists)")
    ap.add_argument("--no-analyze", action="store_true",
                    help="build without ANALYZE statistics (shows what the planner does without them)")
    args = ap.parse_args()
    suffix = "-noanalyze" if args.no_analyze else ""
    path = args.db or Path(__file__).parent / "out" / f"query-{args.datasets}-{args.params}{suffix}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.datasets, args.per_investigation, args.params, analyze=not args.no_analyze)
        print(f"built {path} ({args.datasets} datasets, {args.datasets * args.params} parameters) "
              f"in {time.perf_counter() - t0:.1f} s")
    raw = sqlite3.connect(path)
    n_inv = raw.execute("SELECT COUNT(*) FROM INVESTIGATION").fetchone()[0]
    engine = sa.create_engine(f"sqlite:///{path}")
    rng = random.Random(5)
    ours: list[float] = []
    sql_only: list[float] = []
    hand: list[float] = []
    hits = 0
    with engine.connect() as conn:
        for k in range(args.repeat + 5):
            inv = f"mx{rng.randrange(n_inv):05d}"
            timings: dict[str, float] = {}

            runs = [("ours", _ours), ("sql", _sql_only), ("hand", _hand)]
            order = runs[k % 3:] + runs[: k % 3]  # rotate which one meets the pages first
            out: dict[str, list[Any]] = {}
            for name, fn in order:
                t0 = time.perf_counter()
                out[name] = fn(conn, raw, inv)
                timings[name] = time.perf_counter() - t0
            assert [r["Dataset"]["id"] for r in out["ours"]] == [r[0] for r in out["hand"]], inv
            assert [r[0] for r in out["sql"]] == [r[0] for r in out["hand"]], inv
            hits += len(out["hand"])
            if k >= 5:  # warm-up
                ours.append(timings["ours"])
                sql_only.append(timings["sql"])
                hand.append(timings["hand"])
    p50o, p95o, p50h, p95h = (pct(ours, 0.5), pct(ours, 0.95), pct(hand, 0.5), pct(hand, 0.95))
    print(f"catalogue: {args.datasets} datasets, {args.datasets * args.params} parameters, {n_inv} investigations; "
          f"{args.repeat} portal queries, {hits / (args.repeat + 5):.1f} rows each on average")
    print(f"mxicat (parse+compile+execute+shape): p50 {p50o * 1e3:8.2f} ms   p95 {p95o * 1e3:8.2f} ms   "
          f"mean {statistics.fmean(ours) * 1e3:8.2f} ms")
    print(f"  of which compile + SQLAlchemy rows: p50 {pct(sql_only, 0.5) * 1e3:8.2f} ms   "
          f"p95 {pct(sql_only, 0.95) * 1e3:8.2f} ms   mean {statistics.fmean(sql_only) * 1e3:8.2f} ms")
    print(f"hand-written SQL (raw sqlite3):       p50 {p50h * 1e3:8.2f} ms   p95 {p95h * 1e3:8.2f} ms   "
          f"mean {statistics.fmean(hand) * 1e3:8.2f} ms")
    print(f"ratio mxicat / hand SQL:              p50 {p50o / p50h:8.2f} x    p95 {p95o / p95h:8.2f} x")


if __name__ == "__main__":
    main()
