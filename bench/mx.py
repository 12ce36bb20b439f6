"""Benchmark: the MX layer on the embedded catalogue and on ``mxicat serve`` (remote ICAT REST, loopback).

Measured side by side in one process, each against a baseline that does the same ICAT writes without the MX
layer, so the ratio is the cost of the facade (validation, unit conversion, idempotency check, sample and
type lookups):

1. ``register_collection`` throughput: ``--collections`` raw collections (20 metadata keys each, one datafile)
   vs. one nested ``create`` of the identical Dataset tree per collection, prepared untimed (baseline),
   alternating item by item;
   and the throughput of registering the same collections again (idempotent no-op);
2. a ``--group-size`` (default 10,000) SSX chunk group: ``MxCatalogue.group`` vs. one ``create_many`` of the
   DataCollectionDatasets (baseline); remote also counts HTTP requests (issue 6 target: <= 10);
3. remote connect + first query: ``open_catalogue(url, credentials)`` + one ``search_datasets`` page, vs. a
   bare ``requests`` GET of ``/icat/version`` on a fresh connection (baseline).

Targets (issue 6): 10k group <= 2 s embedded and <= 10 HTTP requests remote; connect + first query <= 50 ms.

Usage:
    .venv/bin/python bench/mx.py [--collections 200] [--group-size 10000] [--no-remote]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "mx"))

from mx_support import serve  # noqa: E402

from mxicat.mx import MxCatalogue, open_catalogue  # noqa: E402


def metadata(i: int) -> dict[str, Any]:
    """20 keys as MXCuBE sends them (ESRF names, string values) plus one unknown key."""
    return {
        "Sample_name": f"sample-{i % 17}", "MX_wavelength": f"{0.9 + (i % 50) / 1000:.4f}",
        "MX_exposureTime": "0.01", "MX_numberOfImages": "3600", "MX_oscillationRange": "0.1",
        "MX_axis_start": "0.0", "MX_detectorDistance": "250.5", "MX_transmission": "12.5",
        "MX_flux": "2.1e12", "MX_beamSizeAtSampleX": "0.05", "MX_beamSizeAtSampleY": "0.02",
        "MX_xBeam": "155.2", "MX_yBeam": "160.1", "MX_resolution": "1.8",
        "MX_dataCollectionId": str(1_000_000 + i), "MX_scanType": "datacollection",
        "MX_template": f"run_{i}_%05d.cbf", "InstrumentSource_current": "200.0",
        "startDate": "2025-03-25T10:00:00+01:00", "bench_unknown_key": str(i),
    }


def baseline_tree(cat: MxCatalogue, investigation_id: int, i: int) -> dict[str, Any]:
    """The Dataset tree register_collection writes for collection ``i``, built outside the timing.

    Same parameters (types resolved), datafile, sample, instrument and technique links: the baseline is
    the bare ICAT write of what the facade writes, without validation, lookups or the idempotency check.
    """
    from mxicat.mx.collections import _parameter_fields, _sample_id, build_collection_spec

    spec = build_collection_spec(cat, investigation_id, f"base_{i}", metadata(i), beamline="id23eh2",
                                 datafiles=[f"/data/base_{i}_master.h5"])
    params = _parameter_fields(cat, spec)
    return {"Dataset": {
        "name": spec.name, "complete": True, "investigation": {"id": investigation_id},
        "type": {"id": cat.registry.dataset_type("raw")},
        "sample": {"id": _sample_id(cat, investigation_id, str(spec.sample))[0]}, "startDate": spec.start,
        "parameters": [{"type": {"id": tid}, **fields} for tid, fields in params.values()],
        "datafiles": spec.datafiles,
        "datasetInstruments": [{"instrument": {"id": cat.registry.instrument("id23eh2")}}],
        "datasetTechniques": [{"technique": {"id": cat.registry.technique("MX")}}]}}


def bench_collections(cat: MxCatalogue, n: int, label: str) -> None:
    """Facade and baseline alternate item by item, so both see the same catalogue size and machine load."""
    facade = base = repeat = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = cat.ensure_investigation(f"mx{label}", beamline="id23eh2")
        cat.register_collection(inv, "warmup", metadata(0), beamline="id23eh2", datafiles=["/d/w.h5"])
        for i in range(n):
            t0 = time.perf_counter()
            cat.register_collection(inv, f"run_{i}", metadata(i), beamline="id23eh2",
                                    datafiles=[f"/data/run_{i}_master.h5"])
            facade += time.perf_counter() - t0
            tree = baseline_tree(cat, int(inv["id"]), i)
            t0 = time.perf_counter()
            cat.session.create(tree)
            base += time.perf_counter() - t0
        for i in range(n):
            t0 = time.perf_counter()
            cat.register_collection(inv, f"run_{i}", metadata(i), beamline="id23eh2",
                                    datafiles=[f"/data/run_{i}_master.h5"])
            repeat += time.perf_counter() - t0
    print(f"[{label}] register_collection: {n / facade:8.1f}/s ({facade / n * 1000:.2f} ms each); "
          f"re-register (no-op): {n / repeat:8.1f}/s; baseline nested create: {n / base:8.1f}/s; "
          f"ratio facade/baseline time = {facade / base:.2f}")


def bench_group(cat: MxCatalogue, size: int, label: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = cat.ensure_investigation(f"ssx{label}", beamline="id29")
    tid = cat.registry.dataset_type("raw")
    ids: list[int] = []
    for start in range(0, size, 5000):
        ids += cat.session.create_many([
            {"Dataset": {"name": f"chunk_{i:06d}", "complete": True, "investigation": {"id": inv["id"]},
                         "type": {"id": tid}}} for i in range(start, min(size, start + 5000))])
    cat.parameter_types.internal("mxicat_group_name")
    cat.parameter_types.internal("mxicat_group_kind")
    transport = getattr(getattr(cat.session, "server", None), "transport", None)
    before = transport.requests_sent if transport else 0
    t0 = time.perf_counter()
    made = cat.group(f"ssx-{label}", ids, kind="ssx_chunks")
    facade = time.perf_counter() - t0
    requests_used = (transport.requests_sent - before) if transport else None
    assert made["size"] == size
    t0 = time.perf_counter()
    dc = cat.session.create({"DataCollection": {}})
    for start in range(0, size, 5000):
        cat.session.create_many([{"DataCollectionDataset": {"dataCollection": {"id": dc}, "dataset": {"id": i}}}
                                 for i in ids[start:start + 5000]])
    base = time.perf_counter() - t0
    extra = f"; HTTP requests: {requests_used}" if requests_used is not None else ""
    print(f"[{label}] group of {size}: {facade:.3f} s (baseline create_many: {base:.3f} s, "
          f"ratio {facade / base:.2f}){extra}")


def bench_connect(url: str, credentials: dict[str, str], repeat: int = 21) -> None:
    """Fresh client each time: login (server-side password hashing included) and the first page."""
    http_url = url.replace("icat+", "")
    login, first, bare = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with requests.Session() as s:
            s.get(f"{http_url}/icat/version", timeout=5).raise_for_status()
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cat = open_catalogue(url, credentials=credentials)
        t1 = time.perf_counter()
        cat.search_datasets(None, limit=10)
        t2 = time.perf_counter()
        login.append(t1 - t0)
        first.append(t2 - t1)
        cat.session.logout()
        cat.close()
    cold = []
    script = ("import time, json, sys; t0 = time.perf_counter(); from mxicat.mx import open_catalogue; "
              "c = open_catalogue(sys.argv[1], credentials=json.loads(sys.argv[2])); t1 = time.perf_counter(); "
              "c.search_datasets(None, limit=10); t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", script, url, json.dumps(credentials)], check=True,
                             capture_output=True, text=True).stdout.split()
        cold.append((float(out[0]), float(out[1])))
    imp = statistics.median(c[0] for c in cold)
    page = statistics.median(c[1] for c in cold)
    print(f"[remote] fresh process: import + connect + login p50 {imp * 1000:.1f} ms, then first page "
          f"p50 {page * 1000:.1f} ms (includes loading the ontology)")
    b50 = statistics.median(bare)
    for label, values in (("connect + login", login), ("first search_datasets page (10 datasets)", first),
                          ("connect + login + first page", [a + b for a, b in zip(login, first, strict=True)])):
        p50 = statistics.median(values)
        print(f"[remote] {label}: p50 {p50 * 1000:.1f} ms (bare HTTP GET p50 {b50 * 1000:.1f} ms, "
              f"ratio {p50 / b50:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", type=int, default=200)
    parser.add_argument("--group-size", type=int, default=10_000)
    parser.add_argument("--no-remote", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cat = open_catalogue(f"sqlite:///{Path(tmp) / 'bench.db'}")
        bench_collections(cat, args.collections, "embedded")
        bench_group(cat, args.group_size, "embedded")
        cat.close()
        if args.no_remote:
            return
        with _serve(Path(tmp)) as (url, credentials):
            remote = open_catalogue(url, credentials=credentials)
            bench_collections(remote, args.collections, "remote")
            bench_group(remote, args.group_size, "remote")
            remote.close()
            bench_connect(url, credentials)


def _serve(tmp: Path) -> Any:
    root = tmp / "served"
    root.mkdir()
    return serve(root)


if __name__ == "__main__":
    main()
