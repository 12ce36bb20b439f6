"""Reads one mmCIF data block into a :class:`~mxicat.harvest.mmcif_result.ProcessedResult`.

What an item *means* comes from the ontology (``Ontology.by_mmcif``); the other spellings of the same value
(``_reflns_shell``, v5_next merge statistics, ``_space_group``, CIF-core ``_diffrn_source.beamline``/``.facility``)
come from :mod:`mxicat.harvest.mmcif_items`. Values are converted from the item's PDBx unit to the term's
canonical unit; when one row holds two spellings of a value, the first kept wins and a differing second value is
a warning. The data-collection categories are read by :class:`~mxicat.harvest.mmcif_collections.CollectionReader`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.harvest import mmcif_items as items
from mxicat.harvest.mmcif_collections import CollectionReader
from mxicat.harvest.mmcif_result import MmcifError, ProcessedResult
from mxicat.harvest.mmcif_rows import Rows, number, ordinal, text

if TYPE_CHECKING:
    import gemmi

    from mxicat.ontology.terms import Term

__all__ = ["BlockReader"]


class BlockReader:
    """Reads one data block into a :class:`ProcessedResult`."""

    def __init__(self, block: gemmi.cif.Block, ontology: Any, path: str | None) -> None:
        self.block, self.ont, self.path = block, ontology, path
        self.result = ProcessedResult(block=block.name, path=path)
        self.collections = CollectionReader(self)
        self._seen = False
        self._stats_diffrn_id: str | None = None

    # ---- lookup -----------------------------------------------------------------------------------
    def term_for(self, item: str) -> tuple[Term, bool] | None:
        """The term an item means and whether the item is a per-shell (``_reflns_shell``) spelling."""
        shell_item = item.startswith(("_reflns_shell.", "_pdbx_diffrn_merge_stat_shell."))
        term = self._by_mmcif(item)
        if term is None:
            overall = (
                items.V5_NEXT_ITEMS.get(item)
                or items.V5_NEXT_SHELL_ITEMS.get(item)
                or items.SYMMETRY_ALIASES.get(item)
                or items.CORE_ALIASES.get(item)
                or _overall_of_shell_item(item)
            )
            term = self._by_mmcif(overall) if overall else None
        return (term, shell_item) if term is not None else None

    def _preference(self, item: str) -> int:
        """Sort key: items the ontology lists first, then the other spellings in :data:`items.SHELL_ITEMS`
        order, so that when a row holds two spellings of one statistic the first value kept is the preferred."""
        return 0 if self._by_mmcif(item) is not None else 1 + _SHELL_PREFERENCE.get(item, 0)

    def _by_mmcif(self, item: str) -> Term | None:
        try:
            return self.ont.by_mmcif(item)  # type: ignore[no-any-return]
        except (KeyError, LookupError):
            return None

    # ---- values -----------------------------------------------------------------------------------
    def value(self, term: Term, item: str, raw: str) -> Any:
        """Parse ``raw`` as ``term`` and convert it from the item's PDBx unit to the canonical unit.

        Numbers go through ``gemmi.cif.as_number`` (which accepts esd suffixes such as ``1.23(4)``), then
        :meth:`Ontology.convert` with the item's PDBx unit (``percent``, ``""`` for fractions, ``angstrom``,
        ``hour``...). A fraction item holding a percent-style value (CC½ ``99.8``) that the term's range
        rejects is read as percent, with a warning.

        Raises:
            MmcifError: the value is not a number (numeric terms) or not valid for the term.
        """
        import gemmi

        value_text = gemmi.cif.as_string(raw).strip()
        unit = items.pint_unit(item)
        incoming: Any = value_text
        if term.numeric:
            parsed = gemmi.cif.as_number(raw)
            if math.isnan(parsed):
                raise MmcifError(f"{term.name}: not a number", path=self.path, item=item, value=value_text)
            incoming = float(parsed)
        else:
            unit = None
        try:
            return self.ont.convert(term, incoming, unit)
        except BadParameterError as err:
            rescued = self._percent_rescue(term, item, incoming, unit)
            if rescued is not None:
                return rescued
            raise MmcifError(f"invalid value: {err}", path=self.path, item=item, value=value_text) from err

    def _percent_rescue(self, term: Term, item: str, number: Any, unit: str | None) -> Any:
        """A percent value in a fraction item (logs print CC½ as ``99.8``) → the fraction, with a warning."""
        fraction_like = term.fraction or (term.maximum is not None and term.maximum <= 1.0)
        if unit not in (None, "") or not fraction_like or not isinstance(number, float) or not 1.0 < number <= 100.0:
            return None
        try:
            value = self.ont.convert(term, number, "percent")
        except BadParameterError:
            return None
        self.warn(f"{item} = {number:g} is outside the range of {term.name}; read as percent ({value:g})")
        return value

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def put(self, target: dict[str, Any], key: str, value: Any, item: str, sources: dict[str, str]) -> None:
        """Set ``key`` unless already set (first item wins; a differing second value is reported)."""
        if key in target:
            if target[key] != value:
                self.warn(
                    f"{key}: {item} = {value!r} differs from {target[key]!r} "
                    f"({sources.get(key, 'an earlier item')}); kept the first"
                )
            return
        target[key] = value
        sources[key] = item

    def read_row(
        self,
        row: dict[str, str],
        target: dict[str, Any],
        *,
        shell: str | None = None,
        sources: dict[str, str] | None = None,
        claimed_only: bool = False,
    ) -> None:
        """Every item of one row that the ontology knows → ``target`` (unknown ones → ``unmapped``).

        ``claimed_only``: unknown items are dropped rather than kept, and a value that cannot be read is a
        warning naming the item instead of an :class:`MmcifError` (supplementary categories).
        """
        for item in sorted(row, key=self._preference):
            if items.is_key_item(item):
                continue  # file-local identifiers (``_diffrn.id 1``), never values
            found = self.term_for(item)
            if found is None:
                if not claimed_only:
                    self.result.unmapped.setdefault(item, text(row[item]) or "")
                continue
            term, is_shell_item = found
            if is_shell_item != (shell is not None):
                continue
            if shell is not None and shell not in term.shells:
                continue
            try:
                value = self.value(term, item, row[item])
            except MmcifError as err:
                if not claimed_only:
                    raise
                self.warn(f"{item} = {row[item]!r} skipped: {err}")
                continue
            self.put(target, term.key_for(shell), value, item, self.result.sources if sources is None else sources)
            self._seen = True

    # ---- categories -------------------------------------------------------------------------------
    def read(self) -> ProcessedResult | None:
        """The block's result, or None when it holds no PDBx data-collection or processing category."""
        self.collections.read()
        self.read_statistics()
        for category in items.RESULT_CATEGORIES:
            rows = Rows(self.block, category)
            if len(rows.rows) > 1:
                self.warn(f"{category}: {len(rows.rows)} rows; read the first")
            if rows:
                self.read_row(rows.rows[0], self.result.metadata)
        self.read_v5_next()
        for category in items.CLAIMED_ONLY_CATEGORIES:
            self.read_claimed(category)
        self.read_software()
        if not self._seen and not self.result.software:
            return None
        return self.result

    def read_statistics(self) -> None:
        """``_reflns`` (overall) and ``_reflns_shell`` (inner = largest d_res_high, outer = smallest)."""
        meta = self.result.metadata
        reflns = sorted(Rows(self.block, "_reflns"), key=lambda r: ordinal(r, "_reflns.pdbx_ordinal"))
        diffrn_id = None
        if reflns:
            if len(reflns) > 1:
                self.warn(
                    f"_reflns has {len(reflns)} rows; overall statistics from pdbx_ordinal "
                    f"{text(reflns[0].get('_reflns.pdbx_ordinal'))}"
                )
            self.read_row(reflns[0], meta)
            diffrn_id = text(reflns[0].get("_reflns.pdbx_diffrn_id"))
        self._stats_diffrn_id = diffrn_id
        shells = list(Rows(self.block, "_reflns_shell"))
        if diffrn_id is not None:
            shells = [r for r in shells if text(r.get("_reflns_shell.pdbx_diffrn_id")) in (None, diffrn_id)]
        self.read_shells(shells, "_reflns_shell.d_res_high", "_reflns_shell.pdbx_ordinal")
        self.collections.copy_primary(diffrn_id)

    def read_shells(self, rows: list[dict[str, str]], d_item: str, ordinal_item: str) -> None:
        """The outer shell (smallest ``d_item``) and, when it is one, the inner shell (largest)."""
        keyed: list[tuple[float, dict[str, str]]] = []
        for row in rows:
            if d_item not in row:
                self.warn(f"{ordinal_item.split('.')[0]} row {text(row.get(ordinal_item))} has no {d_item}; skipped")
                continue
            keyed.append((number(row[d_item], d_item, self.path), row))
        if not keyed:
            return
        keyed.sort(key=lambda pair: pair[0])
        self.read_row(keyed[0][1], self.result.metadata, shell="outer")
        category = ordinal_item.split(".")[0]
        if len(keyed) == 1:
            self.warn(f"only one {category} row; taken as the outer shell")
            return
        low_item = d_item.replace("_high", "_low")
        low = number(keyed[-1][1][low_item], low_item, self.path) if low_item in keyed[-1][1] else None
        overall_low = self.result.metadata.get("resolution_low")
        if low is not None and isinstance(overall_low, float) and low < overall_low / 2:
            self.warn(
                f"{category}: the lowest-resolution row ({keyed[-1][0]:g}-{low:g} A) is far from the "
                f"low-resolution limit {overall_low:g} A, so it is not an inner shell; no inner shell read"
            )
            return
        self.read_row(keyed[-1][1], self.result.metadata, shell="inner")

    def read_v5_next(self) -> None:
        """DIALS v5_next merge statistics fill what ``_reflns``, ``_cell`` and ``_symmetry`` lack."""
        for category in ("_pdbx_diffrn_merge_stat", "_pdbx_diffrn_merged_cell", "_pdbx_diffrn_symmetry"):
            rows = Rows(self.block, category)
            if rows:
                self.read_row(rows.rows[0], self.result.metadata)
        if not any(k.endswith(("_inner", "_outer")) for k in self.result.metadata):
            shell_rows = list(Rows(self.block, "_pdbx_diffrn_merge_stat_shell"))
            d_item = "_pdbx_diffrn_merge_stat_shell.d_limit_high"
            if shell_rows and not any(d_item in r for r in shell_rows):
                d_item = "_pdbx_diffrn_merge_stat_shell.d_resolution_high"
            self.read_shells(shell_rows, d_item, "_pdbx_diffrn_merge_stat_shell.ordinal_id")

    def read_claimed(self, category: str) -> None:
        """A supplementary category (:data:`items.CLAIMED_ONLY_CATEGORIES`): the row of the statistics'
        ``pdbx_diffrn_id`` (``_refine`` of a joint X-ray/neutron entry has one row per method), else the first."""
        rows = Rows(self.block, category).rows
        if not rows:
            return
        row = rows[0]
        if len(rows) > 1:
            mine = [
                r
                for r in rows
                if self._stats_diffrn_id is not None
                and text(r.get(f"{category}.pdbx_diffrn_id")) == self._stats_diffrn_id
            ]
            which = f"the one of _diffrn.id {self._stats_diffrn_id}" if len(mine) == 1 else "the first"
            row = mine[0] if len(mine) == 1 else rows[0]
            method = text(row.get(f"{category}.pdbx_refine_id"))
            self.warn(f"{category}: {len(rows)} rows; read {which}" + (f" ({method})" if method else ""))
        self.read_row(row, self.result.metadata, claimed_only=True)

    def read_software(self) -> None:
        """``_software`` rows in ``pdbx_ordinal`` order, then the processing-software summary terms."""
        rows = sorted(Rows(self.block, "_software"), key=lambda r: ordinal(r, "_software.pdbx_ordinal"))
        for row in rows:
            name = text(row.get("_software.name"))
            if name is None:
                self.warn("_software row without a name; skipped")
                continue
            self.result.software.append(
                {
                    "name": name,
                    "version": text(row.get("_software.version")),
                    "classification": text(row.get("_software.classification")),
                }
            )
        self.software_summary()

    def software_summary(self) -> None:
        """``software`` (and ``software_version``) terms: the data-processing programs, in order."""
        processing: dict[str, str | None] = {}
        for entry in self.result.software:
            if (entry["classification"] or "").lower() in items.PROCESSING_CLASSIFICATIONS:
                processing.setdefault(str(entry["name"]), entry["version"])
        names = self.term_for("_software.name")
        if names is None or not processing:
            return
        self.put(
            self.result.metadata, names[0].key_for(None), ", ".join(processing), "_software.name", self.result.sources
        )
        versions = self.term_for("_software.version")
        if versions is not None and all(processing.values()):
            self.put(
                self.result.metadata,
                versions[0].key_for(None),
                ", ".join(map(str, processing.values())),
                "_software.version",
                self.result.sources,
            )


def _overall_of_shell_item(item: str) -> str | None:
    for overall, shell_items in items.SHELL_ITEMS.items():
        if item in shell_items:
            return overall
    return None


_SHELL_PREFERENCE = {
    shell_item: rank for alternatives in items.SHELL_ITEMS.values() for rank, shell_item in enumerate(alternatives)
}
