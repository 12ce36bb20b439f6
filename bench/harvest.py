"""Benchmark: mxicat's NXmx harvester against bare h5py, nexusformat and nxmx on real files, same process.

For every file, each contender reads the same metadata: the HDF5 paths mxicat reports as ``sources``, nexusformat
``nxload`` + the same paths, and the ``nxmx`` package's typed API for the same fields plus the goniometer
``depends_on`` chain. The floor is bare h5py opening the file and reading exactly what mxicat reports, with no
layout logic: those paths (frame counts as dataset shapes) and, for the datafile list, the link value of each
ExternalLink, the source list of each virtual dataset and each file-name list whose targets mxicat reports,
with an existence check of every target file (which links, VDS and lists those are is found once, untimed,
from the reported datafiles). "h5py+units" adds each field's ``@units`` for context, without a target.
Runs are interleaved (one of each per round, the order rotated every round so no contender always runs
first, after the others have filled the CPU caches), the garbage collector is run before each timed call
(nobody pays for another's garbage), and the per-file median is reported with the ratios mxicat/contender.
A contender that fails on a file is listed with its error.

Usage:
    .venv/bin/python bench/harvest.py [FOLDER_OR_FILES...] [--repeat 30] [--clock wall|cpu]

Optional packages (the ``bench`` extra: ``pip install 'mxicat[bench]'``): nexusformat, nxmx. Without them
the corresponding columns say "not installed" and the rest still runs.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py

from mxicat.harvest import harvest_nexus

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO.parent / "shared" / "testdata" / "nxmx"
TARGETS = {"h5py": 1.5, "nxmx": 1.0, "nexusformat": 0.35}


@dataclass
class Plan:
    """What the floor reads: mxicat's reported value paths and where its reported datafiles come from."""

    paths: list[str]
    links: list[tuple[str, str]] = field(default_factory=list)  #: (group path, link name) of ExternalLinks
    virtual: list[str] = field(default_factory=list)  #: virtual datasets whose sources are datafiles
    lists: list[str] = field(default_factory=list)  #: string datasets listing datafiles


Reader = Callable[[Path, Plan], Any]


def optional(name: str) -> Any | None:
    """The module, or None with a clear message when the bench extra is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        print(f"note: {name} not installed ({err}); install the bench extra: pip install 'mxicat[bench]'")
        return None


def make_plan(path: Path, paths: list[str], datafiles: set[str]) -> Plan:
    """Untimed: the ExternalLinks, virtual datasets and file-name lists of ``path`` whose targets are among
    mxicat's reported ``datafiles`` (found by a full walk, so the floor needs no layout logic)."""
    plan = Plan(paths)
    directory = os.path.dirname(os.path.abspath(path))

    def resolved(name: str) -> str:
        return os.path.normpath(os.path.join(directory, name))

    def visit(name: str, link: Any) -> None:
        parent, _, leaf = ("/" + name).rpartition("/")
        if isinstance(link, h5py.ExternalLink):
            if resolved(link.filename) in datafiles:
                plan.links.append((parent or "/", leaf))
            return
        if isinstance(link, h5py.SoftLink):
            return
        obj = f.get("/" + name)
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.is_virtual:
            if any(resolved(s.file_name) in datafiles for s in obj.virtual_sources()):
                plan.virtual.append(obj.name)
        elif obj.dtype.kind in "SOU" and 0 < obj.size <= 100_000:
            values = obj[()]
            names = values.reshape(-1) if hasattr(values, "reshape") else [values]
            if any(isinstance(v, bytes | str) and resolved(v.decode() if isinstance(v, bytes) else v) in datafiles
                   for v in names):
                plan.lists.append(obj.name)

    with h5py.File(path, "r") as f:
        f.visititems_links(visit)
    return plan


def read_mxicat(path: Path, _plan: Plan) -> Any:
    return harvest_nexus(path)


def _read_datafiles(f: h5py.File, path: Path, plan: Plan, values: list[Any]) -> None:
    """The floor's datafile part: each link value, VDS source list and file list, each target stat'ed."""
    directory = os.path.dirname(os.path.abspath(path))
    for group_path, name in plan.links:
        group = f[group_path]  # held: the link proxy does not keep the group open
        filename, target = group.id.links.get_val(name.encode())
        values.append((target, os.path.exists(os.path.join(directory, filename.decode()))))
    for dataset in plan.virtual:
        values += [os.path.exists(os.path.join(directory, s.file_name)) for s in f[dataset].virtual_sources()]
    for dataset in plan.lists:
        names = f[dataset][()]
        values += [os.path.exists(os.path.join(directory, n.decode() if isinstance(n, bytes) else n))
                   for n in names.reshape(-1)]


def read_h5py(path: Path, plan: Plan) -> Any:
    """The floor: open, read each known path (dataset value or attribute) and the datafile sources, close.
    No layout logic."""
    values: list[Any] = []
    with h5py.File(path, "r") as f:
        for p in plan.paths:
            obj_path, _, attribute = p.partition("@")
            obj = f[obj_path]
            if attribute:
                values.append(obj.attrs[attribute])
            else:  # frame counts come from shapes: never read pixel data
                values.append(obj.shape if obj.ndim >= 3 else obj[()])
        _read_datafiles(f, path, plan, values)
    return values


def read_h5py_units(path: Path, plan: Plan) -> Any:
    """For context, not a target: the floor plus each field's ``@units`` (what any converter must read)."""
    values: list[Any] = []
    with h5py.File(path, "r") as f:
        for p in plan.paths:
            obj_path, _, attribute = p.partition("@")
            obj = f[obj_path]
            if attribute:
                values.append(obj.attrs[attribute])
            else:
                values.append(obj.shape if obj.ndim >= 3 else obj[()])
                values.append(obj.attrs.get("units"))
        _read_datafiles(f, path, plan, values)
    return values


def make_nexusformat(module: Any) -> Reader:
    def read(path: Path, plan: Plan) -> Any:
        root = module.nxload(str(path), "r")
        try:
            values = []
            for p in plan.paths:
                obj_path, _, attribute = p.partition("@")
                node = root[obj_path]
                if attribute:
                    values.append(node.attrs[attribute])
                else:
                    values.append(node.shape if len(node.shape) >= 3 else node.nxvalue)
            return values
        finally:
            root.nxfile.close()

    return read


def make_nxmx(module: Any) -> Reader:
    def opt(obj: Any, *names: str) -> Any:
        """A field a harvester on nxmx would treat as optional: absent (KeyError/IndexError) → None."""
        try:
            for name in names:
                obj = getattr(obj, name)
            return obj
        except (KeyError, IndexError):
            return None

    def read(path: Path, _plan: Plan) -> Any:
        """The same fields through nxmx's typed API (what dxtbx does), incl. the depends_on chain."""
        with h5py.File(path, "r") as f:
            out: list[Any] = []
            for entry in module.NXmx(f).entries:
                # nxmx looks for the source at entry level only (IndexError on pre-2024 GDA files)
                out += [opt(entry, "start_time"), opt(entry, "end_time"), opt(entry, "source", "name")]
                instrument = entry.instruments[0]
                out += [opt(instrument, "name"), opt(instrument, "short_name")]
                for beam in instrument.beams:
                    out += [opt(beam, "incident_wavelength"), opt(beam, "total_flux")]
                for attenuator in instrument.attenuators:
                    out.append(opt(attenuator, "transmission"))
                detector = instrument.detectors[0]
                for name in ("description", "distance", "beam_center_x", "beam_center_y", "count_time",
                             "frame_time", "sensor_material", "sensor_thickness", "saturation_value"):
                    out.append(opt(detector, name))
                module_ = detector.modules[0]
                out += [module_.fast_pixel_direction[()], module_.slow_pixel_direction[()], module_.data_size]
                sample = entry.samples[0]
                out += [opt(sample, "name"), opt(sample, "temperature")]
                if sample.depends_on is not None:
                    for axis in module.get_dependency_chain(sample.depends_on):
                        out += [axis[()], axis.end[()] if axis.end is not None else None]
                for data in entry.data:
                    out.append(data.signal)
            if not out:
                raise LookupError("no NXmx entry found (nxmx needs definition == 'NXmx')")
            return out

    return read


def files_from(arguments: list[str]) -> list[Path]:
    found: list[Path] = []
    for argument in arguments or [str(DEFAULT_FOLDER)]:
        path = Path(argument)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".nxs", ".h5") and p.is_file())
        elif path.is_file():
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help=f"files or folders (default {DEFAULT_FOLDER})")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per file and reader (median)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: perf_counter; cpu: process_time (steadier on a loaded shared machine)")
    args = parser.parse_args(argv)
    files = files_from(args.paths)
    if not files:
        print(f"no .nxs/.h5 files found in {args.paths or DEFAULT_FOLDER}")
        return 1

    readers: dict[str, Reader | None] = {"mxicat": read_mxicat, "h5py": read_h5py,
                                         "h5py+units": read_h5py_units}
    nexusformat = optional("nexusformat.nexus")
    nxmx = optional("nxmx")
    readers["nexusformat"] = make_nexusformat(nexusformat) if nexusformat else None
    readers["nxmx"] = make_nxmx(nxmx) if nxmx else None
    read_mxicat(files[0], Plan([]))  # first-use costs (ontology, unit registry) out of the timings

    medians: dict[str, dict[str, float]] = {name: {} for name in readers}
    failures: dict[str, dict[str, str]] = {name: {} for name in readers}
    for path in files:
        try:
            result = harvest_nexus(path)
            paths = sorted({p for s in result.sweeps for p in s.sources.values()})
            datafiles = {d["path"] for s in result.sweeps for d in s.datafiles if d["kind"] != "master"}
            plan = make_plan(path, paths, datafiles)
            print(f"{path.name}: floor reads {len(plan.paths)} paths, {len(plan.links)} links, "
                  f"{len(plan.virtual)} virtual datasets, {len(plan.lists)} file lists "
                  f"({len(datafiles)} datafiles reported)")
        except Exception as err:  # noqa: BLE001 - reported, the bench goes on
            failures["mxicat"][path.name] = f"{type(err).__name__}: {err}"
            continue
        times: dict[str, list[float]] = {name: [] for name in readers}
        for name, reader in readers.items():  # one untimed warm-up each; drop the ones that fail
            if reader is None:
                continue
            try:
                reader(path, plan)
            except Exception as err:  # noqa: BLE001
                failures[name][path.name] = f"{type(err).__name__}: {str(err)[:90]}"
        active = {n: r for n, r in readers.items() if r is not None and path.name not in failures[n]}
        clock = time.perf_counter if args.clock == "wall" else time.process_time
        order = list(active.items())
        for round_ in range(args.repeat):
            for name, reader in order[round_ % len(order):] + order[:round_ % len(order)]:
                gc.collect()  # nobody pays for another contender's garbage
                start = clock()
                reader(path, plan)
                times[name].append(clock() - start)
        for name in active:
            medians[name][path.name] = statistics.median(times[name]) * 1000

    names = [n for n in readers]
    print(f"\nper-file median of {args.repeat} runs, {args.clock} clock, ms (ratio = mxicat / contender)")
    header = f"{'file':42s}" + "".join(f"{n:>13s}" for n in names) + "".join(
        f"{'÷' + n:>14s}" for n in names[1:])
    print(header)
    for path in files:
        row = f"{path.name[:42]:42s}"
        for name in names:
            value = medians[name].get(path.name)
            row += f"{value:13.2f}" if value is not None else f"{'fail' if readers[name] else 'n/a':>13s}"
        for name in names[1:]:
            ours, theirs = medians["mxicat"].get(path.name), medians[name].get(path.name)
            row += f"{ours / theirs:14.2f}" if ours and theirs else f"{'-':>14s}"
        print(row)

    print("\nsummary (sum of medians over the files both read):")
    ok = True
    for name in names[1:]:
        if readers[name] is None:
            print(f"  {name:12s} not installed: no comparison")
            continue
        common = [f for f in medians[name] if f in medians["mxicat"]]
        if not common:
            print(f"  {name:12s} read none of the files")
            continue
        ratio = sum(medians["mxicat"][f] for f in common) / sum(medians[name][f] for f in common)
        if name not in TARGETS:
            print(f"  mxicat / {name:12s} = {ratio:5.2f}  (context, no target; {len(common)} files)")
            continue
        verdict = "meets" if ratio <= TARGETS[name] else "MISSES"
        ok &= ratio <= TARGETS[name]
        print(f"  mxicat / {name:12s} = {ratio:5.2f}  (target <= {TARGETS[name]}: {verdict}; "
              f"{len(common)} files)")
    print("\ncoverage:")
    for name in names:
        if readers[name] is None:
            continue
        read = len(medians[name])
        print(f"  {name:12s} {read}/{len(files)} files" + ("" if not failures[name] else "; fails on:"))
        for file, error in failures[name].items():
            print(f"      {file}: {error}")
    ok &= len(medians["mxicat"]) == len(files)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
