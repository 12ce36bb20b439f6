"""What the mmCIF importer returns and raises: :class:`ProcessedResult` and :class:`MmcifError`.

Kept apart from the readers so that :mod:`mxicat.harvest.mmcif` (the public functions), the block reader and
the collection reader can all use them without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mxicat.errors import BadParameterError

__all__ = ["MmcifError", "ProcessedResult"]


class MmcifError(BadParameterError):
    """An mmCIF file cannot be read or holds a value that is not valid for its item."""

    def __init__(
        self, message: str, *, path: str | None = None, item: str | None = None, value: str | None = None
    ) -> None:
        where = path or "<mmCIF text>"
        detail = f" ({item} = {value!r})" if item is not None else ""
        super().__init__(f"{where}: {message}{detail}")
        self.path, self.item, self.value = path, item, value


@dataclass
class ProcessedResult:
    """Canonical metadata of one mmCIF data block.

    Attributes:
        block: the data block name (``data_<name>``).
        metadata: canonical key → value in the term's canonical unit (per-shell keys ``r_merge``,
            ``r_merge_inner``, ``r_merge_outer``; the primary collection's ``_diffrn*`` values included).
        sources: canonical key → the PDBx item it came from.
        software: ``_software`` rows as ``{"name", "version", "classification"}`` (None when absent).
        collections: canonical metadata per ``_diffrn.id`` (data collections merged into this result);
            ``wavelength`` is a list when one collection used several (MAD).
        diffrn_ids: the ``_diffrn.id`` of each entry of ``collections``.
        technique: ``"SSX"`` for serial experiments, else ``"MX"``.
        unmapped: PDBx items read that no ontology term claims (item → text), kept rather than lost.
        warnings: what was odd or ambiguous, one sentence each.
    """

    block: str
    metadata: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    software: list[dict[str, str | None]] = field(default_factory=list)
    collections: list[dict[str, Any]] = field(default_factory=list)
    diffrn_ids: list[str] = field(default_factory=list)
    technique: str = "MX"
    unmapped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    path: str | None = None
