"""A small, robust walker over NeXus/HDF5 files, on plain h5py.

Real NXmx files differ in ways the NXDL does not forbid (standards.md §1.3): groups are found by ``@NX_class``
not by name; strings come back as ``str``, ``bytes``, ``np.bytes_``, padded fixed-length or object arrays and
1-element arrays (even ``@NX_class``); unit attributes are spelled ``units``, ``unit`` or ``u``; ``depends_on``
paths are absolute, relative to the file root, relative to the group, or ``"."``; ExternalLinks and virtual
dataset (VDS) sources may point at files that are not there. Everything here tolerates all of that, never
reads pixel data and never raises for a missing link: the caller gets ``None`` and a :class:`LinkProblem`.
Reading and normalising the values themselves (attributes, small datasets, strings, units) is
:mod:`mxicat.harvest.h5values`.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import h5py
from h5py import h5d, h5g, h5l, h5o

from mxicat.harvest.h5values import attr, decode

#: typed openers (``H5Dopen`` is about three times as fast as ``H5Oopen`` for a dataset)
_OPENERS: dict[str | None, Any] = {"dataset": h5d.open, "group": h5g.open}
_EXTERNAL = h5l.TYPE_EXTERNAL

#: whether a group member is a group: ``H5Gget_objinfo`` costs about 60 % of ``H5Oget_info`` (which also counts
#: the attributes); h5py builds without the deprecated HDF5 1.6 API only have the latter
if hasattr(h5g, "get_objinfo"):

    def _is_group(gid: Any, name: bytes) -> bool:
        return bool(h5g.get_objinfo(gid, name).type == h5g.GROUP)

else:

    def _is_group(gid: Any, name: bytes) -> bool:
        return bool(h5o.get_info(gid, name).type == h5o.TYPE_GROUP)


#: what ``os.path.normpath`` would change in an absolute path: "//", "." or ".." parts, a trailing "/"
_NOT_NORMAL = re.compile(r"//|/\.\.?(?:/|$)|/$")


def _wrap(oid: Any) -> h5py.Group | h5py.Dataset | None:
    """The high-level object of a dataset or group id (``None`` for anything else)."""
    if isinstance(oid, h5py.h5d.DatasetID):
        return h5py.Dataset(oid)
    if isinstance(oid, h5py.h5g.GroupID):
        return h5py.Group(oid)
    return None


@dataclass(frozen=True, slots=True)
class LinkProblem:
    """A link or VDS source whose target could not be opened (the harvest goes on without it)."""

    path: str  #: HDF5 path of the link or virtual dataset in the master file
    filename: str  #: target file as written in the link
    target: str  #: object path inside the target file
    resolved: str  #: the file path the target was looked for at
    kind: str  #: "external link" or "VDS source"

    def message(self) -> str:
        return f"missing {self.kind} {self.path} -> {self.filename}:{self.target} (not found: {self.resolved})"


class Walker:
    """Read-only access to one open HDF5 file with quirk-tolerant helpers; collects link problems."""

    def __init__(self, file: h5py.File, path: str) -> None:
        self.file = file
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        self._prefix = self.directory.rstrip("/") + "/"
        self.problems: dict[str, LinkProblem] = {}
        self._paths: dict[str, h5py.Group | h5py.Dataset | None] = {}
        self._links: dict[int, tuple[h5py.Group, dict[str, int]]] = {}
        self._subgroups: dict[int, tuple[h5py.Group, list[tuple[str, str | None]]]] = {}
        self._groups: dict[tuple[int, str], tuple[h5py.Group, h5py.Group]] = {}
        self._ids: dict[tuple[int, str, str | None], Any] = {}
        self._children: dict[tuple[int, str, str | None], h5py.Group | h5py.Dataset | None] = {}
        self._path_ids: dict[str, Any] = {}

    # -- links ----------------------------------------------------------------------------------------------
    def resolve_file(self, filename: str) -> str:
        """Where HDF5 looks for an external file: absolute as is, else beside the master file."""
        if filename == ".":
            return os.path.abspath(self.path)
        if filename[:1] == "/":  # os.path.isabs
            return filename
        joined = self._prefix + filename
        if "//" not in joined and "/." not in joined and joined[-1:] != "/":
            return joined  # already what normpath gives (a GDA list names one file per frame)
        if _NOT_NORMAL.search(joined) is None:
            return joined
        return os.path.normpath(os.path.join(self.directory, filename))

    def links(self, group: h5py.Group) -> dict[str, int]:
        """Name → link type (``h5py.h5l.TYPE_*``) of the direct children of ``group``, read once per group
        from the link table, so absent optional fields cost a dict lookup instead of an HDF5 call."""
        key = id(group)
        cached = self._links.get(key)
        table = cached[1] if cached is not None and cached[0] is group else None
        if table is None:
            table = {}

            def visit(name: bytes, info: Any) -> None:
                table[name.decode("utf-8", errors="replace")] = info.type

            try:
                group.id.links.iterate(visit, info=True)
            except (KeyError, OSError, RuntimeError, ValueError):
                pass
            self._links[key] = (group, table)  # the group is kept so its id() is not reused
        return table

    def child(self, group: h5py.Group, name: str, kind: str | None = None) -> h5py.Group | h5py.Dataset | None:
        """``group[name]`` or ``None``; a dangling ExternalLink is recorded as a :class:`LinkProblem`.
        ``kind`` (``"dataset"`` or ``"group"``) opens only an object of that kind (see :meth:`open_id`)."""
        key = (id(group), name, kind)
        if key in self._children:
            return self._children[key]
        found = _wrap(self.open_id(group, name, kind))  # None: absent, dangling, or a committed datatype
        self._children[key] = found
        return found

    def open_id(self, group: h5py.Group, name: str, kind: str | None = None) -> Any:
        """Low-level id of ``group[name]`` or ``None`` (dangling ExternalLinks recorded).

        ``kind="dataset"`` (or ``"group"``) gives ``None`` for an object of the other kind; it opens through
        ``H5Dopen``/``H5Gopen``, which costs a third of the generic ``H5Oopen`` for a dataset.
        """
        key = (id(group), name, kind)  # the group is held by the link table cache, so its id() is stable
        if key in self._ids:
            return self._ids[key]
        found = self._open_id(group, name, kind)
        self._ids[key] = found
        return found

    def _open_id(self, group: h5py.Group, name: str, kind: str | None) -> Any:
        link = self.links(group).get(name)
        if link is None:
            return None
        if link == _EXTERNAL:
            if not self._external_target_may_exist(group, name):
                return None  # recorded; asking HDF5 would only fail more slowly
            kind = None  # a failing typed open must not pass for a missing target
        try:
            return _OPENERS.get(kind, h5o.open)(group.id, name.encode())
        except (KeyError, OSError, RuntimeError, ValueError):
            if link == _EXTERNAL:
                link = group.get(name, getlink=True)
                path = posixpath.join(group.name or "/", name)
                self.problems.setdefault(
                    path,
                    LinkProblem(path, link.filename, link.path, self.resolve_file(link.filename), "external link"),
                )
            return None

    def _external_target_may_exist(self, group: h5py.Group, name: str) -> bool:
        """False (and the link recorded) when the target file is neither beside the master nor where the
        process runs, and HDF5 has no ``HDF5_EXT_PREFIX`` to look elsewhere."""
        filename, target = (v.decode("utf-8", errors="replace") for v in group.id.links.get_val(name.encode()))
        resolved = self.resolve_file(filename)
        if os.path.exists(resolved) or os.path.exists(filename) or os.environ.get("HDF5_EXT_PREFIX"):
            return True
        path = posixpath.join(group.name or "/", name)
        self.problems.setdefault(path, LinkProblem(path, filename, target, resolved, "external link"))
        return False

    def get(self, path: str, kind: str | None = None) -> h5py.Group | h5py.Dataset | None:
        """Object at an absolute path (cached); a dangling link on the way gives ``None`` and is recorded.
        ``kind`` says what is expected (``"dataset"``/``"group"``: the cheaper typed open is tried first)."""
        if path in self._paths:
            return self._paths[path]
        found = _wrap(self.get_id(path, kind))
        self._paths[path] = found
        return found

    def get_id(self, path: str, kind: str | None = None) -> Any:
        """Low-level id (dataset or group) at an absolute path, cached like :meth:`get`, or ``None``."""
        if path in self._path_ids:
            return self._path_ids[path]
        oid: Any
        try:
            oid = _OPENERS.get(kind, h5o.open)(self.file.id, path.encode())
            if not isinstance(oid, h5py.h5d.DatasetID | h5py.h5g.GroupID):
                oid = None
        except (KeyError, OSError, RuntimeError, ValueError):  # walk link by link to see which one dangles
            found: Any = self.file
            for part in path.strip("/").split("/"):
                if not part:
                    continue
                if not isinstance(found, h5py.Group):
                    found = None
                    break
                found = self.child(found, part)
                if found is None:
                    break
            oid = found.id if found is not None else None
        self._path_ids[path] = oid
        return oid

    def subgroups(self, group: h5py.Group) -> list[tuple[str, str | None]]:
        """(name, ``@NX_class``) of the direct child groups of ``group``, found once per group.

        Nothing is opened: datasets are recognised from the object header and the class attribute is read
        through the parent, so only the groups a caller asks for are opened (:meth:`groups_of_class`).
        External links are skipped (NX groups are never external in MX files; a missing target would cost a
        file lookup).
        """
        key = id(group)
        cached = self._subgroups.get(key)
        if cached is not None and cached[0] is group:
            return cached[1]
        found: list[tuple[str, str | None]] = []
        for name, kind in self.links(group).items():
            if kind == _EXTERNAL:
                continue
            try:
                if not _is_group(group.id, name.encode()):
                    continue
            except (KeyError, OSError, RuntimeError, ValueError):
                continue
            found.append((name, decode(attr(group, "NX_class", child=name))))
        self._subgroups[key] = (group, found)
        return found

    def groups_of_class(self, group: h5py.Group, *classes: str) -> list[h5py.Group]:
        """Direct child groups of ``group`` whose ``@NX_class`` is one of ``classes`` (in file order); the
        same Group object is returned for the same child, so per-group caches stay warm."""
        found: list[h5py.Group] = []
        for name, cls in self.subgroups(group):
            if cls in classes:
                member = self.member_group(group, name)
                if member is not None:
                    found.append(member)
        return found

    def member_group(self, group: h5py.Group, name: str) -> h5py.Group | None:
        """Child group ``name`` of ``group`` (the same object each time), or ``None``."""
        key = (id(group), name)
        cached = self._groups.get(key)
        if cached is None or cached[0] is not group:
            obj = self.child(group, name, "group")
            if not isinstance(obj, h5py.Group):
                return None
            cached = (group, obj)
            self._groups[key] = cached
        return cached[1]

    def resolve_depends_on(self, value: str | None, base: h5py.HLObject) -> h5py.Dataset | None:
        """Target of a ``depends_on`` value: absolute, relative to the root, or relative to ``base``'s group.

        ``"."`` and empty values end a chain and give ``None``.
        """
        base_path = base.name or "/"
        found = self.resolve_depends_on_id(value, base_path, isinstance(base, h5py.Dataset))
        return h5py.Dataset(found) if found is not None else None

    def resolve_depends_on_id(self, value: str | None, base_path: str, from_dataset: bool) -> Any:
        """:meth:`resolve_depends_on` for a base given by its path (a dataset's when ``from_dataset``);
        the target's low-level dataset id, or ``None``."""
        if not value or value == ".":
            return None
        candidates = [value] if value.startswith("/") else ["/" + value]
        if not value.startswith("/"):  # the group holding a dataset, from its path (``.parent`` opens a File)
            parent = (posixpath.dirname(base_path) or "/") if from_dataset else base_path
            candidates.append(posixpath.join(parent, value))
        for candidate in candidates:
            oid = self.get_id(posixpath.normpath(candidate), "dataset")
            if isinstance(oid, h5py.h5d.DatasetID):
                return oid
        return None

    def external_links(self, group: h5py.Group) -> list[tuple[str, h5py.ExternalLink]]:
        """ExternalLinks among the direct children of ``group`` (path, link), from the cached link table
        (no object is opened, so a missing target costs nothing)."""
        found: list[tuple[str, h5py.ExternalLink]] = []
        base = group.name or "/"
        for name, kind in self.links(group).items():
            if kind != _EXTERNAL:
                continue
            try:
                filename, path = group.id.links.get_val(name.encode())
            except (KeyError, OSError, RuntimeError, ValueError):
                continue
            found.append((posixpath.join(base, name), h5py.ExternalLink(filename.decode(), path.decode())))
        return found

    def vds_sources(self, dataset: h5py.Dataset) -> list[tuple[str, str, str]]:
        """(resolved file, dataset path, file as written) of each VDS source; in-file sources are followed
        through the link they name (GDA VDS map onto an ExternalLink of the same file)."""
        if not dataset.is_virtual:
            return []
        out: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for source in dataset.virtual_sources():
            filename, dset = source.file_name, source.dset_name
            if filename == ".":
                parent, _, leaf = dset.rstrip("/").rpartition("/")
                holder = self.get(parent or "/", "group")
                link = holder.get(leaf, getlink=True) if isinstance(holder, h5py.Group) else None
                if isinstance(link, h5py.ExternalLink):
                    filename, dset = link.filename, link.path
                else:
                    continue  # a source inside the master itself is not a related file
            key = (filename, dset)
            if key not in seen:
                seen.add(key)
                out.append((self.resolve_file(filename), dset, filename))
        return out
