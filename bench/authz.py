"""Benchmark: the portal query as root and as an ordinary user under the MX default rules.

One embedded catalogue file with ``--datasets`` Datasets (default 1,000,000) spread over investigations of
``--per-investigation`` datasets each, two DatasetParameters per dataset (``resolution``, ``wavelength``), half
the investigations released. The MX default policy is installed (``install_policy``); user ``db/portal`` is a
writer (through an InvestigationGroup grouping) of 1 % of the investigations and InvestigationUser of another
1 %. The portal query -- datasets of one investigation with two parameter conditions, ordered, first 50 -- is
run through the public store API (parse, compile, authorization, execute, shape results) alternately as root
(no restriction) and as ``db/portal`` (4 applicable Dataset READ rules, OR-ed), over the investigations the
user may read, and the p50 of each is printed with their ratio. Both must return the same rows (checked).

Usage:
    .venv/bin/python bench/authz.py [--datasets 1000000] [--per-investigation 1000] [--repeat 41] [--keep F]

Target (issue 4): p50(user) <= 2 x p50(root).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mxicat.catalogue.embedded.rules_default import install_policy
from mxicat.catalogue.embedded.store import EmbeddedStore

USER = "db/portal"
PORTAL = (
    "SELECT ds FROM Dataset ds JOIN ds.investigation i JOIN ds.parameters p1 JOIN p1.type t1 "
    "JOIN ds.parameters p2 JOIN p2.type t2 "
    "WHERE i.name = '{inv}' AND t1.name = 'resolution' AND p1.numericValue < 2.5 "
    "AND t2.name = 'wavelength' AND p2.numericValue BETWEEN 0.9 AND 1.1 "
    "ORDER BY ds.startDate DESC LIMIT 0, 50"
)


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime storage form


def build(path: Path, n_datasets: int, per_inv: int, seed: int = 7) -> list[str]:
    """Create the catalogue; return the names of the investigations the user may read."""
    rng = random.Random(seed)
    store = EmbeddedStore(path, create=True)
    root = store.admin()
    install_policy(root)
    c = root.create
    fac = c({"Facility": {"name": "BENCH"}})
    itype = c({"InvestigationType": {"name": "MX", "facility": {"id": fac}}})
    raw = c({"DatasetType": {"name": "raw", "facility": {"id": fac}}})
    pts = [c({"ParameterType": {"name": n, "units": u, "valueType": "NUMERIC", "facility": {"id": fac}}})
           for n, u in (("resolution", "angstrom"), ("wavelength", "angstrom"))]
    inst = [c({"Instrument": {"name": f"BL{i:02d}", "facility": {"id": fac}}}) for i in range(10)]
    users = root.create_many([{"User": {"name": f"db/u{i:03d}"}} for i in range(200)] + [{"User": {"name": USER}}])
    me = users[-1]
    n_inv = max(10, n_datasets // per_inv)
    now = datetime.now(UTC)
    invs = []
    readable: list[str] = []
    for k in range(n_inv):
        released = k % 2 == 0
        member = k % 100 in (1, 2)  # 1: writer grouping, 2: InvestigationUser
        body = {
            "name": f"mx{k:06d}", "visitId": "1", "title": "bench", "facility": {"id": fac},
            "type": {"id": itype}, "releaseDate": now + timedelta(days=-400 if released else 400),
            "investigationInstruments": [{"instrument": {"id": inst[k % 10]}}],
            "investigationUsers": [{"user": {"id": users[rng.randrange(200)]}, "role": "member"}]
            + ([{"user": {"id": me}, "role": "member"}] if k % 100 == 2 else []),
        }
        invs.append({"Investigation": body})
        if member:
            readable.append(body["name"])
    inv_ids = root.create_many(invs)
    groupings = []
    for k, inv_id in enumerate(inv_ids):
        members = [users[rng.randrange(200)]] + ([me] if k % 100 == 1 else [])
        groupings.append({"Grouping": {"name": f"inv{k}_writer",
                                       "userGroups": [{"user": {"id": u}} for u in members],
                                       "investigationGroups": [{"investigation": {"id": inv_id}, "role": "writer"}]}})
    root.create_many(groupings)
    store.close()
    # bulk rows straight into SQLite (setup only; not what is measured)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    stamp = _ts(now.replace(tzinfo=None))
    ds_rows, p_rows = [], []
    pid = 0
    for n in range(n_datasets):
        inv_id = inv_ids[n % n_inv]
        start = _ts((now - timedelta(minutes=n)).replace(tzinfo=None))
        ds_rows.append((n + 1, "simple/root", stamp, "simple/root", stamp, f"ds{n:07d}", 1, start, inv_id, raw))
        for pt, value in ((pts[0], rng.uniform(1.0, 4.0)), (pts[1], rng.uniform(0.7, 1.5))):
            pid += 1
            p_rows.append((pid, "simple/root", stamp, "simple/root", stamp, value, n + 1, pt))
        if len(ds_rows) >= 50000 or n == n_datasets - 1:
            db.executemany(
                "INSERT INTO DATASET (ID, CREATE_ID, CREATE_TIME, MOD_ID, MOD_TIME, NAME, COMPLETE, STARTDATE, "
                "INVESTIGATION_ID, TYPE_ID) VALUES (?,?,?,?,?,?,?,?,?,?)", ds_rows)
            db.executemany(
                "INSERT INTO DATASETPARAMETER (ID, CREATE_ID, CREATE_TIME, MOD_ID, MOD_TIME, NUMERIC_VALUE, "
                "DATASET_ID, PARAMETER_TYPE_ID) VALUES (?,?,?,?,?,?,?,?)", p_rows)
            db.commit()
            ds_rows, p_rows = [], []
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return readable


def measure(path: Path, readable: list[str], repeat: int) -> None:
    store = EmbeddedStore(path)
    root, user = store.admin(), store.as_user(USER)
    times: dict[str, list[float]] = {"root": [], "user": []}
    rows = 0
    for i in range(repeat):
        query = PORTAL.format(inv=readable[i % len(readable)])
        order = (("root", root), ("user", user)) if i % 2 == 0 else (("user", user), ("root", root))
        results = {}
        for name, cat in order:
            t0 = time.perf_counter()
            results[name] = cat.search(query)
            times[name].append(time.perf_counter() - t0)
        assert results["root"] == results["user"], f"different rows for {query}"
        rows += len(results["root"])
    # an investigation the user may not read (embargoed, not a member): nothing comes back
    hidden = store.search(USER, PORTAL.format(inv="mx000003"))
    p50 = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"portal query, {repeat} runs each, {rows / repeat:.1f} rows per run on average")
    print(f"  root  p50 {p50['root']:8.2f} ms")
    print(f"  user  p50 {p50['user']:8.2f} ms   ({USER}, MX default rules)")
    print(f"  ratio user/root {p50['user'] / p50['root']:.2f}x (target <= 2x)")
    print(f"  unreadable investigation as user: {len(hidden)} rows")
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=int, default=1_000_000)
    ap.add_argument("--per-investigation", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=41)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the catalogue at this path")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        if args.keep and path.exists():
            n_inv = max(10, args.datasets // args.per_investigation)
            readable = [f"mx{k:06d}" for k in range(n_inv) if k % 100 in (1, 2)]
        else:
            t0 = time.perf_counter()
            readable = build(path, args.datasets, args.per_investigation)
            size = path.stat().st_size >> 20
            print(f"built {args.datasets} datasets in {time.perf_counter() - t0:.1f} s ({size} MiB)")
        measure(path, readable, args.repeat)


if __name__ == "__main__":
    main()
