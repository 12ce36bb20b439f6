"""The files of a sweep: the master, the data files its frames live in, other externally linked files.

Targets are found without opening them: ExternalLinks from the link tables of the groups where NXmx writers
put them (the entry, its NXdata groups, the instrument, each NXdetector and its direct subgroups such as
Dectris ``detectorSpecific`` — a full recursive walk costs more than the whole harvest on a Dectris master
with its per-module calibration groups), VDS sources from the virtual dataset's mapping; links met while
reading anywhere else are added too. Each becomes a
:class:`~mxicat.harvest.result.Datafile` with an existence flag; a missing one also becomes a warning naming
the link and its target. Existence is checked where HDF5 itself looks: absolute paths as written, relative
ones beside the master file.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable

import h5py
import numpy as np

from mxicat.harvest.nexus import NXentry
from mxicat.harvest.nxwalk import Walker, attr, decode, nx_class, read_value
from mxicat.harvest.result import Datafile

#: classes whose linked datasets hold frames (the linked files are "data", everything else "external")
DATA_CLASSES: tuple[str, ...] = ("NXdata", "NXdetector")


def _is_data_link(walker: Walker, link_path: str) -> bool:
    parent, _, leaf = link_path.rpartition("/")
    if not leaf.startswith("data"):
        return False
    holder = walker.get(parent or "/", "group")
    return holder is not None and nx_class(holder) in DATA_CLASSES


def _virtual_datasets(entry: NXentry) -> list[h5py.Dataset]:
    found: list[h5py.Dataset] = []
    for data in entry.data_groups:
        if data.data is not None and data.data.is_virtual:
            found.append(data.data)
    for instrument in entry.instruments:
        for detector in instrument.detectors:
            dataset = detector.dataset("data")
            if dataset is not None and dataset.is_virtual:
                found.append(dataset)
    return found


def _link_groups(walker: Walker, entry: NXentry) -> list[h5py.Group]:
    groups: list[h5py.Group] = [entry.group] + [d.group for d in entry.data_groups]
    for instrument in entry.instruments:
        groups.append(instrument.group)
        for detector in instrument.detectors:
            groups.append(detector.group)
            classes = {cls for _, cls in walker.subgroups(detector.group) if cls != "NXdetector_module"}
            groups += walker.groups_of_class(detector.group, *(c for c in classes if c is not None))
            classless = (
                walker.child(detector.group, n, "group") for n, c in walker.subgroups(detector.group) if c is None
            )
            groups += [g for g in classless if isinstance(g, h5py.Group)]
    return groups


def _existence(paths: Iterable[str]) -> dict[str, bool]:
    """``os.path.exists`` of many files, one directory listing per folder instead of one lookup per file (a
    GDA list names one file per frame); a folder that is not there answers for all its files at once."""
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        by_folder.setdefault(os.path.dirname(path), []).append(path)
    found: dict[str, bool] = {}
    for folder, members in by_folder.items():
        try:
            with os.scandir(folder or ".") as listing:
                entries = {e.name: e for e in listing}
        except (FileNotFoundError, NotADirectoryError):
            found.update(dict.fromkeys(members, False))
            continue
        except OSError:  # unreadable folder: ask per file
            found.update((m, os.path.exists(m)) for m in members)
            continue
        for member in members:
            name = os.path.basename(member)
            entry = entries.get(name)
            if not name or name in (".", "..") or (entry is not None and entry.is_symlink()):
                found[member] = os.path.exists(member)  # "dir/", "..", symlinks: as os.path.exists says
            else:
                found[member] = entry is not None
    return found


def sweep_datafiles(walker: Walker, entry: NXentry) -> tuple[list[Datafile], list[str]]:
    """Datafiles of ``entry`` (master first) and one warning per missing link target."""
    master = os.path.abspath(walker.path)
    files: list[Datafile] = [Datafile(path=master, exists=True, kind="master", target=None)]
    seen: dict[str, Datafile] = {master: files[0]}
    warnings: list[str] = []
    exists_cache: dict[str, bool] = {}

    def add(resolved: str, target: str, kind: str, message: str | None) -> bool:
        """Record a file once; warn with ``message`` when it is missing; return whether it exists."""
        exists = exists_cache.get(resolved)
        if exists is None:
            exists = exists_cache[resolved] = os.path.exists(resolved)
        known = seen.get(resolved)
        if known is None:
            known = Datafile(
                path=resolved, exists=exists, kind="data" if kind == "data" else "external", target=target or None
            )
            seen[resolved] = known
            files.append(known)
            if not exists and message:
                warnings.append(message)
        elif kind == "data" and known["kind"] == "external":
            known["kind"] = "data"
        return exists

    for link_path, link in (x for g in _link_groups(walker, entry) for x in walker.external_links(g)):
        resolved = walker.resolve_file(link.filename)
        kind = "data" if _is_data_link(walker, link_path) else "external"
        add(
            resolved,
            link.path,
            kind,
            f"missing external link {link_path} -> {link.filename}:{link.path} (not found: {resolved})",
        )
    for dataset in _virtual_datasets(entry):
        try:
            sources = walker.vds_sources(dataset)
        except (OSError, RuntimeError, ValueError) as err:
            warnings.append(f"{dataset.name}: VDS sources unreadable ({err})")
            continue
        for resolved, target, written in sources:
            add(
                resolved,
                target,
                "data",
                f"missing VDS source of {dataset.name} -> {written}:{target} (not found: {resolved})",
            )
    for detector in (d for i in entry.instruments for d in i.detectors):  # GDA: per-frame image file names
        names = detector.dataset("image_data")
        if names is None or not attr(names, "data_filename") or names.dtype.kind not in ("S", "O", "U"):
            continue
        values = read_value(names)
        listed = [f for f in (decode(v) for v in np.asarray(values).reshape(-1)) if f] if values is not None else []
        resolved_names = [walker.resolve_file(f) for f in listed]
        exists_cache.update(_existence(p for p in resolved_names if p not in exists_cache))
        missing = [f for f, r in zip(listed, resolved_names, strict=True) if not add(r, "", "data", None)]
        if missing:  # one warning for the whole list, not one per frame
            warnings.append(
                f"{len(missing)} of {len(listed)} image files listed in {names.name} are missing "
                f"(first: {missing[0]} -> {walker.resolve_file(missing[0])})"
            )
    for problem in walker.problems.values():  # links met while reading that the walk above did not list
        if problem.resolved not in seen and posixpath.commonpath([problem.path, entry.path]) == entry.path:
            add(problem.resolved, problem.target, "external", problem.message())
    return files, warnings
