"""Federated search time vs the slowest live site's own time, measured in the same run.

8 peers: 6 live mxicat sites (``mxicat serve`` subprocesses, own catalogues), 1 slow (a proxy adding
``--delay`` seconds in front of a live site; beyond the timeout), 1 down (nothing listening). For each
repetition the same filter is asked of every live site on its own (sequentially, each timed) and then of
all 8 through :func:`mxicat.federation.federate`; the ratio is federated time / slowest live site's time.
Target: <= 1.2x (the slow and dead sites must not count beyond the deadline... which is why the timeout
is set just above the live sites' times).

    .venv/bin/python bench/federation.py [--sites 6] [--rows 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "federation"))

from fed_support import dead_url, mxicat_sites, slow_proxy  # noqa: E402

from mxicat.federation import PeerConfig, federate  # noqa: E402

FILTER = "wavelength < 0.95 angstrom and beamline = id23eh2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=6, help="live mxicat sites")
    parser.add_argument("--rows", type=int, default=200, help="extra public datasets per site")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--delay", type=float, default=30.0, help="delay of the slow site (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, mxicat_sites(Path(tmp), args.sites, extra_public=args.rows) \
            as servers, slow_proxy(servers[0].url, args.delay) as (slow_url, _):
        live = [PeerConfig(f"site{i}", s.url) for i, s in enumerate(servers)]
        peers = [*live, PeerConfig("slow", slow_url), PeerConfig("down", dead_url())]
        for s in servers:  # warm up (ontology, unit registry) -- not measured
            requests.get(f"{s.url}/api/v1/datasets", params={"filter": FILTER, "limit": 100}, timeout=120)
        print(f"{len(peers)} peers: {len(live)} live ({args.rows + 2} public datasets each), 1 slow "
              f"(+{args.delay:g} s), 1 down; filter: {FILTER!r}")
        ratios, totals, slowest_list = [], [], []
        for rep in range(args.repeat):
            own = []
            for peer in live:
                t0 = time.perf_counter()
                answer = federate([peer], FILTER, timeout=60)
                own.append(time.perf_counter() - t0)
                assert answer["sites"][0]["status"] == "ok", answer["sites"]
            slowest = max(own)
            timeout = max(0.2, slowest * 1.1)  # the deadline a site operator would set above normal latency
            t0 = time.perf_counter()
            answer = federate(peers, FILTER, timeout=timeout)
            total = time.perf_counter() - t0
            status = {s["name"]: s["status"] for s in answer["sites"]}
            ratios.append(total / slowest)
            totals.append(total)
            slowest_list.append(slowest)
            print(f"rep {rep}: slowest live site alone {slowest * 1000:7.1f} ms, federated (timeout "
                  f"{timeout * 1000:.0f} ms) {total * 1000:7.1f} ms, ratio {total / slowest:5.2f}x, "
                  f"results {len(answer['results'])}, statuses {sorted(set(status.values()))} "
                  f"(slow={status['slow']}, down={status['down']})")
        print(f"median: slowest live {statistics.median(slowest_list) * 1000:.1f} ms, federated "
              f"{statistics.median(totals) * 1000:.1f} ms, ratio {statistics.median(ratios):.2f}x "
              f"(target <= 1.2x)")


if __name__ == "__main__":
    main()
