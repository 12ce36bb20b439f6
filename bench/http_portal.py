"""Portal query latency over HTTP (``mxicat serve`` subprocess) vs the same query in-process, same run.

(Named ``http_portal.py``: a ``bench/http.py`` would shadow the standard library's ``http`` package for
every script run from ``bench/``.)

The same seeded catalogue file; the same user (a member, under the MX default rules); the same filter and
page size. Prints p50/p95 of each and the HTTP/in-process ratio.

    .venv/bin/python bench/http_portal.py [--rows 500] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "http"))

from api_seed import PASSWORDS, seed_catalogue  # noqa: E402

from mxicat.catalogue.open import open_embedded_store  # noqa: E402
from mxicat.http.launcher import serve_subprocess  # noqa: E402
from mxicat.mx import MxCatalogue  # noqa: E402

FILTER = "wavelength < 0.9 angstrom and beamline = id23eh2"


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500, help="extra public datasets")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        seed_catalogue(path, extra_public=args.rows)
        store = open_embedded_store(f"sqlite:///{path}")
        mx = MxCatalogue(store.login("db", {"username": "alice", "password": PASSWORDS["alice"]}))
        with serve_subprocess({"catalogue": f"sqlite:///{path}"}) as server:
            token = requests.post(f"{server.url}/api/v1/auth/login", json={
                "plugin": "db", "username": "alice", "password": PASSWORDS["alice"]}, timeout=30).json()["token"]
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"
            params = {"filter": FILTER, "limit": args.limit}
            n_http = len(http.get(f"{server.url}/api/v1/datasets", params=params, timeout=60).json()["items"])
            n_local = len(mx.search_datasets(FILTER, limit=args.limit).items)
            assert n_http == n_local, (n_http, n_local)
            local, remote = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                mx.search_datasets(FILTER, limit=args.limit)
                local.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                answer = http.get(f"{server.url}/api/v1/datasets", params=params, timeout=60)
                remote.append(time.perf_counter() - t0)
                assert answer.status_code == 200
        store.close()
    print(f"portal query {FILTER!r}, page of {n_local} (of {args.rows + 9} datasets), user db/alice, "
          f"{args.repeat} runs")
    print(f"in-process  p50 {pct(local, 50):7.1f} ms   p95 {pct(local, 95):7.1f} ms")
    print(f"HTTP        p50 {pct(remote, 50):7.1f} ms   p95 {pct(remote, 95):7.1f} ms")
    print(f"ratio HTTP / in-process: p50 {pct(remote, 50) / pct(local, 50):.2f}x, "
          f"p95 {pct(remote, 95) / pct(local, 95):.2f}x")


if __name__ == "__main__":
    main()
