"""Remote client start: connect + first query over loopback, against in-process embedded as the baseline.

Starts ``mxicat serve`` in a subprocess on 127.0.0.1 (its own catalogue file with ``--objects`` datasets),
then measures in this process, ``--repeat`` times each, the median and the minimum of:

* ``import``     -- a fresh interpreter importing ``mxicat.catalogue.remote`` and, for comparison,
  python-icat's ``icat.client`` (subprocess wall time minus a bare interpreter's);
* ``login+query`` -- ``RemoteIcat(url).login(...)`` + one search, new connection pool each time (the server
  verifies the password with scrypt, which is most of this);
* ``session+query`` -- ``RemoteIcat(url).session(sid)`` + one search (an existing session id: what a
  pooled or pre-authenticated client pays), new connection each time;
* ``query``      -- one more search on an open RemoteCatalogue (connection reused);
* ``embedded``   -- the same search on the embedded catalogue in this process (the baseline).

python-icat's ``icat.client.Client`` is started against the same server too: it needs ICAT's SOAP WSDL
(``/ICATService/ICAT?wsdl``), which mxicat does not serve, so what is printed is how it fails, not a timing.

Usage: ``python bench/remote_latency.py [--objects 200] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mxicat.catalogue.base import Catalogue

QUERY = "SELECT ds FROM Dataset ds WHERE ds.name = 'ds-00007'"


def timings_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, minimum) wall time of ``fn`` in milliseconds; the minimum is the least disturbed by load."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def import_ms(module: str, repeat: int) -> float | None:
    """Median wall time of a fresh interpreter importing ``module``, minus a bare interpreter's."""

    def run(code: str) -> float | None:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True)
        return (time.perf_counter() - start) * 1000 if done.returncode == 0 else None

    bare = statistics.median(run("pass") or 0.0 for _ in range(repeat))
    times = [run(f"import {module}") for _ in range(repeat)]
    if any(t is None for t in times):
        return None
    return statistics.median(t for t in times if t is not None) - bare


def try_python_icat(wsdl_url: str) -> str:
    """What happens when python-icat's SOAP client is started against ``wsdl_url``."""
    start = time.perf_counter()
    try:
        import icat.client

        icat.client.Client(wsdl_url, checkCert=False)
    except Exception as err:  # any failure is the result being reported
        return f"fails after {(time.perf_counter() - start) * 1000:.0f} ms: {type(err).__name__}: {str(err)[:80]}"
    return f"started in {(time.perf_counter() - start) * 1000:.0f} ms"


def remote_start_ms(icat_url: str, plugin: str, credentials: dict[str, str], query: str, *, repeat: int = 15,
                    baseline: Catalogue | None = None) -> dict[str, tuple[float, float]]:
    """(median, min) milliseconds of remote client start-up phases (reusable by other benchmarks, e.g. bench/mx.py).

    Keys: ``login+query``, ``session+query``, ``query (reused connection)`` and, when ``baseline`` (an
    embedded catalogue session) is given, ``embedded query (baseline)``. ``query`` must find something.
    """
    from mxicat.catalogue.remote import RemoteIcat

    def login_query() -> None:
        server = RemoteIcat(icat_url)
        with server.login(plugin, credentials) as cat:
            assert cat.search(query)
        server.close()

    keep = RemoteIcat(icat_url).login(plugin, credentials)

    def session_query() -> None:
        server = RemoteIcat(icat_url)
        assert server.session(keep.session_id).search(query)
        server.close()

    def warm_query() -> None:
        assert keep.search(query)

    warm_query()  # the server's first-call costs (query parser caches) out of the way
    results = {
        "login+query": timings_ms(login_query, repeat),
        "session+query": timings_ms(session_query, repeat),
        "query (reused connection)": timings_ms(warm_query, repeat),
    }
    keep.close()
    if baseline is not None:
        assert baseline.search(query)
        results["embedded query (baseline)"] = timings_ms(lambda: baseline.search(query), repeat)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from mxicat.catalogue.embedded.auth import write_simple_user
    from mxicat.catalogue.open import open_catalogue
    from mxicat.http.launcher import serve_subprocess
    from mxicat.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        auth = root / "users.yaml"
        write_simple_user(auth, "root", "pw")
        url = f"sqlite:///{root / 'bench.db'}"
        settings = Settings(catalogue=url, auth_file=auth, outbox=root / "outbox.db")
        with open_catalogue(url, settings=settings) as admin:
            fid = admin.create({"Facility": {"name": "F", "datasetTypes": [{"name": "raw"}],
                                             "investigationTypes": [{"name": "MX"}]}})
            (it,) = admin.search("SELECT t.id FROM InvestigationType t")
            (dt,) = admin.search("SELECT t.id FROM DatasetType t")
            inv = admin.create({"Investigation": {"name": "mx1", "visitId": "1", "title": "t",
                                                  "facility": {"id": fid}, "type": {"id": it}}})
            admin.create_many([{"Dataset": {"name": f"ds-{i:05d}", "complete": False, "investigation": {"id": inv},
                                            "type": {"id": dt}}} for i in range(args.objects)])
        served_settings = {"catalogue": url, "auth_file": auth, "outbox": root / "outbox.db"}
        with serve_subprocess(served_settings) as served:
            with open_catalogue(url, settings=settings) as embedded:
                results = remote_start_ms(served.icat_url, "simple", {"username": "root", "password": "pw"},
                                          QUERY, repeat=args.repeat, baseline=embedded)
            imports = {m: import_ms(m, max(3, args.repeat // 3)) for m in ("mxicat.catalogue.remote", "icat.client")}
            python_icat = try_python_icat(f"{served.url}/ICATService/ICAT?wsdl")
    from mxicat.catalogue.embedded.auth import hash_password, verify_password

    stored = hash_password("pw")
    scrypt = timings_ms(lambda: verify_password("pw", stored), args.repeat)

    baseline = results["embedded query (baseline)"][0]
    load = os.getloadavg()[0]
    print(f"remote latency on loopback, {args.objects} datasets, {args.repeat} runs each: median (min); "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    for module, value in imports.items():
        shown = "not importable" if value is None else f"{value:8.1f} ms"
        print(f"  {'import ' + module:32s} {shown}  (fresh interpreter, minus a bare one)")
    for name, (med, low) in results.items():
        print(f"  {name:32s} {med:8.1f} ms ({low:6.1f})  {med / baseline:6.1f}x embedded")
    print(f"  {'(server password check, scrypt)':32s} {scrypt[0]:8.1f} ms ({scrypt[1]:6.1f})  part of every login")
    print(f"  python-icat Client(url): {python_icat}")
    print("    (it fetches ICAT's SOAP WSDL and calls getEntityInfo per entity, ~60 calls; mxicat serves REST only)")


if __name__ == "__main__":
    main()
