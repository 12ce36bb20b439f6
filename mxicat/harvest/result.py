"""What a harvest returns: :class:`HarvestResult` of :class:`Sweep` records, and :class:`HarvestError`.

Metadata keys are ontology term names with values in the term's canonical unit; ``sources`` gives, per key,
the HDF5 path the value was read from (``path@attribute`` for attributes). ``to_json()`` is the object that
``mxicat harvest --format json`` prints, one per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypedDict

from mxicat.errors import BadParameterError

ScanType: TypeAlias = Literal["rotation", "still"]
MetadataValue: TypeAlias = float | int | str | datetime


class Datafile(TypedDict):
    """A file of a sweep: the master, a data file (frames) or another external file (e.g. ``_meta.h5``)."""

    path: str  #: absolute path where the file is (or was expected)
    exists: bool
    kind: Literal["master", "data", "external"]
    target: str | None  #: object path inside that file the master links to (None for the master)


class HarvestError(BadParameterError):
    """The file is not HDF5, is truncated or corrupt, or holds no MX (NXmx) content.

    Attributes:
        path: the file that could not be harvested.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[HarvestError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))  # picklable across --jobs worker processes


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass
class Sweep:
    """One sweep (an NXentry, or an NXsubentry of a DIALS export): canonical metadata with provenance."""

    scan_type: ScanType
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    datafiles: list[Datafile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entry: str = ""  #: HDF5 path of the entry or subentry this sweep was read from

    def to_json(self) -> dict[str, Any]:
        """The sweep as plain JSON data (datetimes as ISO 8601 strings)."""
        return {
            "scan_type": self.scan_type,
            "metadata": {k: _json_value(v) for k, v in self.metadata.items()},
            "sources": dict(self.sources),
            "datafiles": [dict(d) for d in self.datafiles],
            "warnings": list(self.warnings),
        }


@dataclass
class HarvestResult:
    """Everything harvested from one file: its layout, one :class:`Sweep` per entry, file-level warnings."""

    file: str
    layout: str
    sweeps: list[Sweep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"file", "layout", "sweeps": [...], "warnings"}`` as printed by ``mxicat harvest --format json``."""
        return {
            "file": self.file,
            "layout": self.layout,
            "sweeps": [s.to_json() for s in self.sweeps],
            "warnings": list(self.warnings),
        }
