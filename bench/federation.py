"""Federated search time vs the slowest live site's own time, measured in the same run.

8 peers: 6 mxicat sites (``mxicat serve`` subprocesses with their own catalogues), 1 slow site (a proxy
adding ``--delay`` seconds in front of a 7th site; it answers within the timeout, so it is the slowest
live site) and 1 down (nothing listening). Per repetition, every live site is first asked alone
(sequentially, each timed), then all 8 at once through :func:`mxicat.federation.federate`; the ratio is
federated time / slowest live site's own time (target <= 1.2x: the fan-out is concurrent, the dead site
costs nothing, merging is cheap).

A second scenario checks the deadline: the slow site now takes longer than the timeout; the federated time
is compared with the timeout (it must not wait for the straggler).

    .venv/bin/python bench/federation.py [--sites 6] [--rows 100] [--repeat 5] [--delay 1.0]
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


def timed(peers: list[PeerConfig], timeout: float) -> tuple[float, dict[str, object]]:
    t0 = time.perf_counter()
    answer = federate(peers, FILTER, timeout=timeout)
    return time.perf_counter() - t0, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=6, help="live mxicat sites besides the slow one")
    parser.add_argument("--rows", type=int, default=100, help="extra public datasets per site")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--delay", type=float, default=1.0, help="added latency of the slow site (s)")
    parser.add_argument("--timeout", type=float, default=10.0, help="federation timeout (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            mxicat_sites(Path(tmp), args.sites + 1, extra_public=args.rows) as servers, \
            slow_proxy(servers[-1].url, args.delay) as (slow_url, _), \
            slow_proxy(servers[-1].url, 3 * args.delay + 2) as (straggler_url, _):
        fast = [PeerConfig(f"site{i}", s.url) for i, s in enumerate(servers[:-1])]
        live = [*fast, PeerConfig("slow", slow_url)]
        peers = [*live, PeerConfig("down", dead_url())]
        for s in servers:  # warm up (ontology, unit registry) -- not measured
            requests.get(f"{s.url}/api/v1/datasets", params={"filter": FILTER, "limit": 100}, timeout=120)
        print(f"{len(peers)} peers: {len(fast)} mxicat sites ({args.rows + 2} public datasets each), 1 slow "
              f"(+{args.delay:g} s), 1 down; timeout {args.timeout:g} s; filter {FILTER!r}")
        ratios, totals, slowest_list = [], [], []
        for rep in range(args.repeat):
            own = {}
            for peer in live:
                seconds, answer = timed([peer], args.timeout)
                assert answer["sites"][0]["status"] == "ok", answer["sites"]  # type: ignore[index]
                own[peer.name] = seconds
            slowest = max(own.values())
            total, answer = timed(peers, args.timeout)
            status = {s["name"]: s["status"] for s in answer["sites"]}  # type: ignore[attr-defined]
            ratios.append(total / slowest)
            totals.append(total)
            slowest_list.append(slowest)
            print(f"rep {rep}: slowest live site alone ({max(own, key=own.__getitem__)}) {slowest * 1000:7.1f} ms, "
                  f"all 8 federated {total * 1000:7.1f} ms, ratio {total / slowest:5.2f}x; "
                  f"{len(answer['results'])} merged results; ok={sum(v == 'ok' for v in status.values())}, "  # type: ignore[arg-type]
                  f"down={status['down']}")
        print(f"median: slowest live site {statistics.median(slowest_list) * 1000:.1f} ms, federated "
              f"{statistics.median(totals) * 1000:.1f} ms, ratio {statistics.median(ratios):.2f}x (target <= 1.2x)")
        deadline = 2 * args.delay
        straggling = [*fast, PeerConfig("straggler", straggler_url), PeerConfig("down", dead_url())]
        total, answer = timed(straggling, deadline)
        status = {s["name"]: s["status"] for s in answer["sites"]}  # type: ignore[attr-defined]
        print(f"deadline: straggler +{3 * args.delay + 2:g} s, timeout {deadline:g} s -> federated "
              f"{total * 1000:.1f} ms ({total / deadline:.2f}x the timeout); straggler={status['straggler']}, "
              f"ok={sum(v == 'ok' for v in status.values())}")


if __name__ == "__main__":
    main()
