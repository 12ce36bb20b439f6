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
from types import EllipsisType

import h5py
from h5py import h5t

from mxicat.harvest.h5values import attr, decode_all, name_of, nx_class, read_id
from mxicat.harvest.nexus import NXdata, NXdetector, NXentry, NXinstrument
from mxicat.harvest.nxwalk import Walker
from mxicat.harvest.result import Datafile

#: classes whose linked datasets hold frames (the linked files are "data", everything else "external")
DATA_CLASSES: tuple[str, ...] = ("NXdata", "NXdetector")


def _is_data_link(link_path: str, holder: h5py.Group, holder_class: str | None | EllipsisType) -> bool:
    """Whether an ExternalLink holds frames: a ``data*`` member of an NXdata or NXdetector group (``...``:
    the holder's class is read only now, when it matters)."""
    if not link_path.rpartition("/")[2].startswith("data"):
        return False
    return (nx_class(holder) if holder_class is ... else holder_class) in DATA_CLASSES


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


def _link_groups(walker: Walker, entry: NXentry) -> list[tuple[h5py.Group, str | None | EllipsisType]]:
    """The groups whose ExternalLinks are listed, each with its ``@NX_class`` as known from the classification
    that found it (``...`` for the entry, which may have been found by name)."""
    groups: list[tuple[h5py.Group, str | None | EllipsisType]] = [(entry.group, ...)]
    groups += [(d.group, NXdata.nx_class) for d in entry.data_groups]
    for instrument in entry.instruments:
        groups.append((instrument.group, NXinstrument.nx_class))
        for detector in instrument.detectors:
            groups.append((detector.group, NXdetector.nx_class))
            members = walker.subgroups(detector.group)
            classed = [(n, c) for n, c in members if c is not None and c != "NXdetector_module"]
            classless = [(n, c) for n, c in members if c is None]
            for name, cls in classed + classless:
                group = walker.member_group(detector.group, name)
                if group is not None:
                    groups.append((group, cls))
    return groups


def _existence(paths: Iterable[str]) -> dict[str, bool]:
    """``os.path.exists`` of many files, one directory listing per folder instead of one lookup per file (a
    GDA list names one file per frame); a folder that is not there answers for all its files at once."""
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        slash = path.rfind("/")
        # os.path.dirname without its call overhead for the usual "/folder/name" (a GDA list: one per frame)
        folder = (path[:slash] or "/") if slash >= 0 and "//" not in path else os.path.dirname(path)
        by_folder.setdefault(folder, []).append(path)
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
            name = member[member.rfind("/") + 1 :]  # os.path.basename
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

    links = ((x, g, cls) for g, cls in _link_groups(walker, entry) for x in walker.external_links(g))
    for (link_path, link), holder, holder_class in links:
        resolved = walker.resolve_file(link.filename)
        kind = "data" if _is_data_link(link_path, holder, holder_class) else "external"
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
        names = walker.open_id(detector.group, "image_data", "dataset")
        if not isinstance(names, h5py.h5d.DatasetID) or not attr(names, "data_filename"):
            continue
        if names.get_type().get_class() != h5t.STRING:  # what h5py gives as an "S"/"O" dtype and lists names
            continue
        listed = decode_all(read_id(names))
        resolved_names = [walker.resolve_file(f) for f in listed]
        exists_cache.update(_existence(p for p in resolved_names if p not in exists_cache))
        missing = [f for f, r in zip(listed, resolved_names, strict=True) if not add(r, "", "data", None)]
        if missing:  # one warning for the whole list, not one per frame
            warnings.append(
                f"{len(missing)} of {len(listed)} image files listed in {name_of(names)} are missing "
                f"(first: {missing[0]} -> {walker.resolve_file(missing[0])})"
            )
    for problem in walker.problems.values():  # links met while reading that the walk above did not list
        if problem.resolved not in seen and posixpath.commonpath([problem.path, entry.path]) == entry.path:
            add(problem.resolved, problem.target, "external", problem.message())
    return files, warnings
