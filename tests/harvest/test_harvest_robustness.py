"""Whatever is missing or oddly typed in an NXmx file, the harvester returns or raises HarvestError only."""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np
import pytest
from nxmx_fixtures import memory_file, nxmx_entry

from mxicat.harvest import HarvestError
from mxicat.harvest.harvester import harvest_file
from mxicat.harvest.nxwalk import attr


def _paths() -> list[str]:
    with memory_file() as f:
        nxmx_entry(f, data="none")
        found: list[str] = []
        f.visit(found.append)
    return found


PATHS = _paths()

Mutation = Callable[[h5py.File, str], None]


def delete(f: h5py.File, path: str) -> None:
    del f[path]


def to_text(f: h5py.File, path: str) -> None:
    attrs = dict(f[path].attrs)
    del f[path]
    f[path] = "not a number"
    f[path].attrs.update(attrs)


def to_empty(f: h5py.File, path: str) -> None:
    del f[path]
    f.create_dataset(path, shape=(0,), dtype="f8")


def to_string_pair(f: h5py.File, path: str) -> None:
    del f[path]
    f[path] = np.array([b"a", b"b"])


def to_nan(f: h5py.File, path: str) -> None:
    attrs = dict(f[path].attrs)
    del f[path]
    f[path] = np.full(3, np.nan)
    f[path].attrs.update(attrs)


@pytest.mark.parametrize("mutate", [delete, to_text, to_empty, to_string_pair, to_nan])
def test_every_object_mutated(mutate: Mutation) -> None:
    outcomes: dict[str, str] = {}
    for path in PATHS:
        with memory_file() as f:
            nxmx_entry(f, data="none")
            mutate(f, path)
            try:
                result = harvest_file(f, "mem.nxs")
            except HarvestError as err:
                outcomes[path] = f"error: {err}"
                continue
        for sweep in result.sweeps:
            assert sweep.scan_type in ("rotation", "still")
            assert set(sweep.sources) == set(sweep.metadata)
            for value in sweep.metadata.values():
                assert not (isinstance(value, float) and np.isnan(value))
        outcomes[path] = "ok"
    # only taking away the entry itself (or its class marker and definition) leaves no MX content
    errors = {p for p, o in outcomes.items() if o.startswith("error")}
    assert errors <= {"entry", "entry/instrument", "entry/definition"}, errors


def _attributes() -> list[tuple[str, str]]:
    with memory_file() as f:
        nxmx_entry(f, data="none")
        found: list[tuple[str, str]] = []
        f.visititems(lambda name, obj: found.extend((name, a) for a in obj.attrs))
    return found


@pytest.mark.parametrize(
    "replacement", [None, 7, np.array([b"x", b"y"]), np.zeros((2, 2))], ids=["deleted", "int", "two-strings", "matrix"]
)
def test_every_attribute_mutated(replacement: object) -> None:
    for path, name in _attributes():
        with memory_file() as f:
            nxmx_entry(f, data="none")
            if replacement is None:
                del f[path].attrs[name]
            else:
                f[path].attrs[name] = replacement
            try:
                result = harvest_file(f, "mem.nxs")
            except HarvestError:
                assert name == "NX_class", (path, name)  # an entry or instrument no longer recognised
                continue
        for sweep in result.sweeps:
            assert set(sweep.sources) == set(sweep.metadata)


def _alternate_string_kinds(f: h5py.File, first_variable: bool) -> None:
    """Every other string attribute (in visit order) rewritten as a variable-length string, the rest as
    fixed-length ones, so each attribute name comes in both kinds within one file."""
    attributes: list[tuple[str, str]] = []
    f.visititems(lambda name, obj: attributes.extend((name, a) for a in obj.attrs))
    variable = first_variable
    for path, name in attributes:
        value = f[path].attrs[name]
        if isinstance(value, bytes | np.bytes_ | str):
            text = value.decode() if isinstance(value, bytes | np.bytes_) else value
            f[path].attrs[name] = text if variable else np.bytes_(text.encode())
            variable = not variable


@pytest.mark.parametrize("first_variable", [True, False])
def test_string_attribute_kinds_mixed_within_a_file(first_variable: bool) -> None:
    """Attribute string kinds are learned per file to skip type queries; a file mixing variable- and
    fixed-length strings under the same names (and a unit given as a number) harvests exactly like one
    that uses fixed-length strings throughout."""
    with memory_file() as f:
        nxmx_entry(f)
        expected = harvest_file(f, "mem.nxs").sweeps[0]
    with memory_file() as f:
        nxmx_entry(f)
        _alternate_string_kinds(f, first_variable)
        result = harvest_file(f, "mem.nxs").sweeps[0]
        assert attr(f["entry/instrument"], "NX_class") is not None
        f["entry/instrument/detector/count_time"].attrs["units"] = 5  # a name learned as a string, now a number
        assert attr(f["entry/instrument/detector/count_time"], "units") == 5
    assert result.metadata == expected.metadata
    assert result.sources == expected.sources
    assert result.scan_type == expected.scan_type
