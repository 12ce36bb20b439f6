"""Benchmark: bulk ingest through the embedded catalogue's createMany vs raw sqlite3 executemany.

Both sides write the same rows -- N Datasets, each with P DatasetParameters -- into identical fresh catalogue
files (same schema, indexes, foreign keys, WAL, ``synchronous=FULL``), in transactions of ``--batch``
Datasets, in the same process. The mxicat side goes through the public API (``EmbeddedCatalogue.create_many``
with ICAT REST-shaped nested objects: validation, meta fields, id allocation, enforced-parameter lookups,
authorization hook, fileSize bookkeeping); the raw side gets prebuilt tuples and only runs ``executemany``
+ ``COMMIT``. Inputs are built batch by batch outside both timers. The order of the two runs alternates
with ``--rounds`` and the best round of each is reported.

Usage:
    .venv/bin/python bench/ingest.py [--datasets 100000] [--params 20] [--batch 1000] [--rounds 1]

Target (issue 3): createMany rate >= 0.25 x raw executemany rate.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mxicat.catalogue.embedded.schema import TABLES
from mxicat.catalogue.embedded.store import EmbeddedStore


def _setup(path: Path, n_params: int) -> tuple[EmbeddedStore, dict[str, Any]]:
    store = EmbeddedStore(path, create=True)
    cat = store.admin()
    fid = cat.create({"Facility": {"name": "BENCH"}})
    itype = cat.create({"InvestigationType": {"name": "MX", "facility": {"id": fid}}})
    dtype = cat.create({"DatasetType": {"name": "raw", "facility": {"id": fid}}})
    inv = cat.create({"Investigation": {"name": "mx0001", "visitId": "1", "title": "bench",
                                        "facility": {"id": fid}, "type": {"id": itype}}})
    ptypes = cat.create_many([{"ParameterType": {"name": f"p{i:02d}", "units": "mm", "valueType": "NUMERIC",
                                                 "facility": {"id": fid}}} for i in range(n_params)])
    return store, {"inv": inv, "dtype": dtype, "ptypes": ptypes}


def _objects(ids: dict[str, Any], start: int, count: int) -> list[dict[str, Any]]:
    inv, dtype = {"id": ids["inv"]}, {"id": ids["dtype"]}
    ptypes = [{"id": pt} for pt in ids["ptypes"]]
    return [{"Dataset": {"name": f"ds{n:07d}", "complete": False, "investigation": inv, "type": dtype,
                         "parameters": [{"type": pt, "numericValue": n + k / 100}
                                        for k, pt in enumerate(ptypes)]}}
            for n in range(start, start + count)]


def _raw_rows(ids: dict[str, Any], start: int, count: int, ds_id0: int, p_id0: int
              ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    user = "simple/root"
    datasets, params = [], []
    pid = p_id0
    for i, n in enumerate(range(start, start + count)):
        dsid = ds_id0 + i
        datasets.append((dsid, user, now, user, now, 0, 0, 0, f"ds{n:07d}", ids["inv"], ids["dtype"]))
        for k, pt in enumerate(ids["ptypes"]):
            params.append((pid, user, now, user, now, n + k / 100, dsid, pt))
            pid += 1
    return datasets, params


def run_mxicat(path: Path, n: int, p: int, batch: int) -> float:
    store, ids = _setup(path, p)
    cat = store.admin()
    elapsed = 0.0
    for start in range(0, n, batch):
        objs = _objects(ids, start, min(batch, n - start))  # input building is not timed
        t0 = time.perf_counter()
        cat.create_many(objs)
        elapsed += time.perf_counter() - t0
    assert cat.search("SELECT COUNT(p) FROM DatasetParameter p") == [n * p]
    store.close()
    return elapsed


def run_raw(path: Path, n: int, p: int, batch: int) -> float:
    store, ids = _setup(path, p)
    store.close()
    ds_cols = ("ID", "CREATE_ID", "CREATE_TIME", "MOD_ID", "MOD_TIME", "COMPLETE", "FILECOUNT", "FILESIZE",
               "NAME", "INVESTIGATION_ID", "TYPE_ID")
    p_cols = ("ID", "CREATE_ID", "CREATE_TIME", "MOD_ID", "MOD_TIME", "NUMERIC_VALUE", "DATASET_ID",
              "PARAMETER_TYPE_ID")
    ds_sql = f'INSERT INTO {TABLES["Dataset"].name} ({", ".join(ds_cols)}) VALUES ({", ".join("?" * len(ds_cols))})'
    p_sql = (f'INSERT INTO {TABLES["DatasetParameter"].name} ({", ".join(p_cols)}) '
             f'VALUES ({", ".join("?" * len(p_cols))})')
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    elapsed = 0.0
    for start in range(0, n, batch):
        datasets, params = _raw_rows(ids, start, min(batch, n - start), start + 1, start * p + 1)  # not timed
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(ds_sql, datasets)
        con.executemany(p_sql, params)
        con.execute("COMMIT")
        elapsed += time.perf_counter() - t0
    assert con.execute("SELECT COUNT(*) FROM DATASETPARAMETER").fetchone()[0] == n * p
    con.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=100_000)
    ap.add_argument("--params", type=int, default=20)
    ap.add_argument("--batch", type=int, default=1000, help="datasets per createMany / transaction")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    n, p = args.datasets, args.params
    rows = n * (p + 1)
    best = {"mxicat": float("inf"), "raw": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ("raw", "mxicat") if r % 2 == 0 else ("mxicat", "raw")
            for side in order:
                path = Path(tmp) / f"{side}-{r}.db"
                run = run_raw if side == "raw" else run_mxicat
                best[side] = min(best[side], run(path, n, p, args.batch))
    print(f"{n} datasets x {p} DatasetParameters = {rows} rows, {args.batch} datasets per transaction")
    for side, label in (("raw", "raw sqlite3 executemany"), ("mxicat", "mxicat create_many")):
        print(f"{label:<26}: {best[side]:8.2f} s  {rows / best[side]:>10,.0f} rows/s  "
              f"{n / best[side]:>9,.0f} datasets/s")
    print(f"ratio create_many / raw: {best['raw'] / best['mxicat']:.3f}  (target >= 0.25)")


if __name__ == "__main__":
    main()
