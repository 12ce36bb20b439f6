"""Import processing results (and the data-collection description) from PDBx/mmCIF files with gemmi.

One :class:`ProcessedResult` per data block. What an item *means* comes from the ontology: every term lists
its PDBx items (``Term.mmcif``) and :meth:`Ontology.by_mmcif` answers "which term is this item". Values are
converted from the item's PDBx unit (:mod:`mxicat.harvest.mmcif_items`) to the term's canonical unit through
the ontology, so percent (``percent_possible_obs``) and fractions (R factors) are each handled explicitly.

Rules taken from the standard and from real files (standards.md §2, testdata README §3):

* ``?`` (unknown) and ``.`` (not applicable) are absent values;
* ``_reflns`` may have several rows (``pdbx_ordinal``); the lowest ordinal is the overall statistics and
  the shells of the same ``pdbx_diffrn_id`` go with it;
* ``_reflns_shell`` row order is not defined: the **outer** shell is the row with the smallest
  ``d_res_high``, the **inner** shell the row with the largest; a single row is taken as the outer shell, and
  a row whose ``d_res_low`` is under half the overall low-resolution limit is not an inner shell (joint
  X-ray/neutron entries such as 7JUN list another data set's outer shell under the same ``pdbx_diffrn_id``);
* ``_diffrn_source.pdbx_wavelength_list`` may hold a range (``2.0-4.0``, Laue/neutron): read as its two limits;
* ``_exptl_crystal_grow`` and ``_refine`` (PDB entries, refinement output) are read for the items the ontology
  claims only (the row of the statistics' ``pdbx_diffrn_id``, else the first); a bad value there is a warning;
* several ``_diffrn`` rows (one merged data set from several collections) give one entry per collection in
  :attr:`ProcessedResult.collections`; :attr:`ProcessedResult.metadata` holds the collection the
  ``_reflns`` row points to (``pdbx_diffrn_id``) and a warning says which values differ;
* DIALS ``mmcif.pdb_version=v5_next`` merge statistics (``_pdbx_diffrn_merge_stat[_shell]``,
  ``_pdbx_diffrn_merged_cell``, ``_pdbx_diffrn_symmetry``) fill what ``_reflns``/``_cell``/``_symmetry`` lack.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.harvest import mmcif_items as items

if TYPE_CHECKING:
    import gemmi

    from mxicat.ontology.terms import Term

__all__ = ["MmcifError", "ProcessedResult", "import_mmcif", "import_mmcif_blocks"]


class MmcifError(BadParameterError):
    """An mmCIF file cannot be read or holds a value that is not valid for its item."""

    def __init__(self, message: str, *, path: str | None = None, item: str | None = None,
                 value: str | None = None) -> None:
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


def import_mmcif(path_or_text: str | os.PathLike[str], *, block: str | None = None,
                 ontology: Any = None) -> ProcessedResult:
    """Import one data block of an mmCIF file (or mmCIF text).

    Args:
        path_or_text: a file path (``.cif``, ``.cif.gz``) or the mmCIF text itself.
        block: name of the block to read; needed only when several blocks hold results.
        ontology: an :class:`mxicat.ontology.Ontology`; the packaged one when None.

    Raises:
        MmcifError: unreadable file, no such block, several candidate blocks, or an invalid value.
    """
    results = import_mmcif_blocks(path_or_text, ontology=ontology)
    if block is not None:
        for result in results:
            if result.block == block:
                return result
        raise MmcifError(f"no data block {block!r} (blocks: {', '.join(r.block for r in results)})",
                         path=results[0].path if results else None)
    if len(results) == 1:
        return results[0]
    with_stats = [r for r in results
                  if any(s.startswith(("_reflns", "_pdbx_diffrn_merge_stat")) for s in r.sources.values())]
    if len(with_stats) == 1:
        return with_stats[0]
    raise MmcifError(f"{len(results)} data blocks ({', '.join(r.block for r in results)}); pass block= "
                     "or use import_mmcif_blocks()", path=results[0].path)


def import_mmcif_blocks(path_or_text: str | os.PathLike[str], *, ontology: Any = None) -> list[ProcessedResult]:
    """Import every data block that holds PDBx data-collection or processing categories.

    Raises:
        MmcifError: the file cannot be read or parsed, holds no such block, or has an invalid value.
    """
    doc, path = _read(path_or_text)
    ont = ontology if ontology is not None else _default_ontology()
    read = [_BlockReader(b, ont, path).read() for b in doc if _is_data_block(b)]
    results = [r for r in read if r is not None]
    if not results:
        raise MmcifError("no PDBx data-collection or processing categories found", path=path)
    return results


def _default_ontology() -> Any:
    from mxicat.ontology import load_ontology

    return load_ontology()


def _read(path_or_text: str | os.PathLike[str]) -> tuple[gemmi.cif.Document, str | None]:
    import gemmi

    is_text = isinstance(path_or_text, str) and ("\n" in path_or_text or path_or_text.lstrip().startswith("data_"))
    path = None if is_text else str(Path(path_or_text))
    try:
        doc = gemmi.cif.read_string(str(path_or_text)) if path is None else gemmi.cif.read(path)
    except (OSError, RuntimeError, ValueError) as err:
        raise MmcifError(f"cannot read mmCIF: {err}", path=path) from err
    if len(doc) == 0:
        raise MmcifError("no data block", path=path)
    return doc, path


def _is_data_block(block: gemmi.cif.Block) -> bool:
    return not block.name.startswith("mmcif_") and block.find_value("_dictionary.title") is None


def _null(text: str | None) -> bool:
    return text is None or text in ("?", ".")


class _Rows:
    """One mmCIF category as a list of {item: raw text} rows (absent values dropped)."""

    def __init__(self, block: gemmi.cif.Block, category: str) -> None:
        table = block.find_mmcif_category(category + ".")
        tags = list(table.tags)
        self.rows: list[dict[str, str]] = []
        for row in table:
            values = {tag: row[i] for i, tag in enumerate(tags) if not _null(row[i])}
            self.rows.append(values)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __iter__(self) -> Iterator[dict[str, str]]:
        return iter(self.rows)


def _text(raw: str | None) -> str | None:
    if raw is None or _null(raw):
        return None
    import gemmi

    return gemmi.cif.as_string(raw)


class _BlockReader:
    """Reads one data block into a :class:`ProcessedResult`."""

    def __init__(self, block: gemmi.cif.Block, ontology: Any, path: str | None) -> None:
        self.block, self.ont, self.path = block, ontology, path
        self.result = ProcessedResult(block=block.name, path=path)
        self._collection_sources: list[dict[str, str]] = []
        self._seen = False
        self._stats_diffrn_id: str | None = None

    # ---- lookup -----------------------------------------------------------------------------------
    def term_for(self, item: str) -> tuple[Term, bool] | None:
        """The term an item means and whether the item is a per-shell (``_reflns_shell``) spelling."""
        shell_item = item.startswith(("_reflns_shell.", "_pdbx_diffrn_merge_stat_shell."))
        term = self._by_mmcif(item)
        if term is None:
            overall = (items.V5_NEXT_ITEMS.get(item) or items.V5_NEXT_SHELL_ITEMS.get(item)
                       or items.SYMMETRY_ALIASES.get(item) or _overall_of_shell_item(item))
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
        """
        import gemmi

        text = gemmi.cif.as_string(raw).strip()
        unit = items.pint_unit(item)
        incoming: Any = text
        if term.numeric:
            number = gemmi.cif.as_number(raw)
            if math.isnan(number):
                raise MmcifError(f"{term.name}: not a number", path=self.path, item=item, value=text)
            incoming = float(number)
        else:
            unit = None
        try:
            return self.ont.convert(term, incoming, unit)
        except BadParameterError as err:
            rescued = self._percent_rescue(term, item, incoming, unit)
            if rescued is not None:
                return rescued
            raise MmcifError(f"invalid value: {err}", path=self.path, item=item, value=text) from err

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
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def put(self, target: dict[str, Any], key: str, value: Any, item: str, sources: dict[str, str]) -> None:
        """Set ``key`` unless already set (first item wins; a differing second value is reported)."""
        if key in target:
            if target[key] != value:
                self.warn(f"{key}: {item} = {value!r} differs from {target[key]!r} "
                          f"({sources.get(key, 'an earlier item')}); kept the first")
            return
        target[key] = value
        sources[key] = item

    def read_row(self, row: dict[str, str], target: dict[str, Any], *, shell: str | None = None,
                 sources: dict[str, str] | None = None, claimed_only: bool = False) -> None:
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
                    self.result.unmapped.setdefault(item, _text(row[item]) or "")
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
        self.read_collections()
        self.read_statistics()
        for category in items.RESULT_CATEGORIES:
            rows = _Rows(self.block, category)
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

    def read_collections(self) -> None:
        """``_diffrn*`` and serial measurement/delivery categories → one dict per ``_diffrn.id``."""
        tables = {c: _Rows(self.block, c) for c in items.COLLECTION_CATEGORIES}
        ids: list[str] = []
        for category, rows in tables.items():
            for row in rows:
                diffrn_id = _diffrn_of(row, category) or "1"
                if diffrn_id not in ids:
                    ids.append(diffrn_id)
        if not ids and _Rows(self.block, "_diffrn_radiation_wavelength"):
            ids.append("1")
        for diffrn_id in ids:
            collection: dict[str, Any] = {}
            sources: dict[str, str] = {}
            for category, rows in tables.items():
                for row in rows:
                    owner = _diffrn_of(row, category)
                    if owner == diffrn_id or (owner is None and len(ids) == 1):
                        wavelength_items = ("_diffrn_source.pdbx_wavelength_list", "_diffrn_source.pdbx_wavelength")
                        self.read_row({k: v for k, v in row.items() if k not in wavelength_items},
                                      collection, sources=sources)
            self.read_wavelengths(diffrn_id, len(ids), tables, collection, sources)
            for row in tables["_diffrn_source"]:
                if (_diffrn_of(row, "_diffrn_source") or "1") == diffrn_id:
                    self.read_source_type(row, collection, sources)
            if not collection:
                continue
            self.result.collections.append(collection)
            self.result.diffrn_ids.append(diffrn_id)
            self._collection_sources.append(sources)
        serial_flag = any((_text(r.get("_diffrn.pdbx_serial_crystal_experiment")) or "").upper() == "Y"
                          for r in tables["_diffrn"])
        serial_tables = any(t for c, t in tables.items() if c.startswith("_pdbx_serial")) or bool(
            _Rows(self.block, "_pdbx_serial_crystallography_data_reduction"))
        if serial_flag or serial_tables:
            self.result.technique = "SSX"

    def read_source_type(self, row: dict[str, str], collection: dict[str, Any], sources: dict[str, str]) -> None:
        """Site and beamline from the deposition spelling ``_diffrn_source.type`` (``SLAC LCLS BEAMLINE CXI``,
        ``DIAMOND BEAMLINE I03``) when the file lacks ``pdbx_synchrotron_site`` / ``_beamline``."""
        item = "_diffrn_source.type"
        text = _text(row.get(item))
        if not text or self.term_for(item) is not None or " BEAMLINE " not in text.upper():
            return
        cut = text.upper().index(" BEAMLINE ")
        parts = {"_diffrn_source.pdbx_synchrotron_site": text[:cut].strip(),
                 "_diffrn_source.pdbx_synchrotron_beamline": text[cut + len(" BEAMLINE "):].strip()}
        for target_item, part in parts.items():
            found = self.term_for(target_item)
            if found is None or not part or found[0].key_for(None) in collection:
                continue
            self.put(collection, found[0].key_for(None), self.value(found[0], target_item, part), item, sources)

    def read_wavelengths(self, diffrn_id: str, n_ids: int, tables: dict[str, _Rows],
                         collection: dict[str, Any], sources: dict[str, str]) -> None:
        """Wavelength(s) of one collection: ``_diffrn_source.pdbx_wavelength_list`` (MAD lists), else the
        ``_diffrn_radiation_wavelength`` row its ``_diffrn_radiation.wavelength_id`` points to."""
        item = "_diffrn_radiation_wavelength.wavelength"
        found = self.term_for(item)
        if found is None:
            return
        term = found[0]
        by_id = {(_text(r.get("_diffrn_radiation_wavelength.id")) or "1"): r[item]
                 for r in _Rows(self.block, "_diffrn_radiation_wavelength") if item in r}
        values: list[Any] = []
        source = item
        for row in tables["_diffrn_source"]:
            if (_diffrn_of(row, "_diffrn_source") or "1") != diffrn_id:
                continue
            for list_item in ("_diffrn_source.pdbx_wavelength_list", "_diffrn_source.pdbx_wavelength"):
                listed = _text(row.get(list_item))
                if listed and not values:
                    values = self.wavelength_list(term, list_item, listed)
                    source = list_item if values else source
        if not values:
            for row in tables["_diffrn_radiation"]:
                wid = _text(row.get("_diffrn_radiation.wavelength_id"))
                if (_diffrn_of(row, "_diffrn_radiation") or "1") == diffrn_id and wid in by_id:
                    values.append(self.value(term, item, by_id[wid]))
        if not values and (n_ids == 1 or len(by_id) == 1):
            values = [self.value(term, item, raw) for raw in by_id.values()]
        if values:
            unique = list(dict.fromkeys(values))
            key = term.key_for(None)
            collection[key] = unique[0] if len(unique) == 1 else unique
            sources[key] = source

    def wavelength_list(self, term: Term, item: str, listed: str) -> list[Any]:
        """``0.9792, 0.9794`` (MAD) or a range ``2.0-4.0`` (Laue, neutron: read as its two limits, with a
        warning); a part that is no wavelength is a warning, and the ``_diffrn_radiation`` rows are used then."""
        values: list[Any] = []
        for part in listed.replace(",", " ").split():
            ends = part.split("-") if part.count("-") == 1 and not part.startswith("-") else [part]
            if len(ends) == 2:
                self.warn(f"{item} = {listed!r} is a wavelength range; read as its limits {ends[0]} and {ends[1]}")
            try:
                values.extend(self.value(term, item, end) for end in ends)
            except MmcifError:
                self.warn(f"{item} = {listed!r}: {part!r} is not a wavelength; the list is ignored")
                return []
        return values

    def read_statistics(self) -> None:
        """``_reflns`` (overall) and ``_reflns_shell`` (inner = largest d_res_high, outer = smallest)."""
        meta = self.result.metadata
        reflns = sorted(_Rows(self.block, "_reflns"), key=lambda r: _ordinal(r, "_reflns.pdbx_ordinal"))
        diffrn_id = None
        if reflns:
            if len(reflns) > 1:
                self.warn(f"_reflns has {len(reflns)} rows; overall statistics from pdbx_ordinal "
                          f"{_text(reflns[0].get('_reflns.pdbx_ordinal'))}")
            self.read_row(reflns[0], meta)
            diffrn_id = _text(reflns[0].get("_reflns.pdbx_diffrn_id"))
        self._stats_diffrn_id = diffrn_id
        shells = list(_Rows(self.block, "_reflns_shell"))
        if diffrn_id is not None:
            shells = [r for r in shells if _text(r.get("_reflns_shell.pdbx_diffrn_id")) in (None, diffrn_id)]
        self.read_shells(shells, "_reflns_shell.d_res_high", "_reflns_shell.pdbx_ordinal")
        self.primary_collection(diffrn_id)

    def read_shells(self, rows: list[dict[str, str]], d_item: str, ordinal_item: str) -> None:
        keyed: list[tuple[float, dict[str, str]]] = []
        for row in rows:
            if d_item not in row:
                self.warn(f"{ordinal_item.split('.')[0]} row {_text(row.get(ordinal_item))} has no {d_item}; skipped")
                continue
            keyed.append((_number(row[d_item], d_item, self.path), row))
        if not keyed:
            return
        keyed.sort(key=lambda pair: pair[0])
        self.read_row(keyed[0][1], self.result.metadata, shell="outer")
        category = ordinal_item.split(".")[0]
        if len(keyed) == 1:
            self.warn(f"only one {category} row; taken as the outer shell")
            return
        low_item = d_item.replace("_high", "_low")
        low = _number(keyed[-1][1][low_item], low_item, self.path) if low_item in keyed[-1][1] else None
        overall_low = self.result.metadata.get("resolution_low")
        if low is not None and isinstance(overall_low, float) and low < overall_low / 2:
            self.warn(f"{category}: the lowest-resolution row ({keyed[-1][0]:g}-{low:g} A) is far from the "
                      f"low-resolution limit {overall_low:g} A, so it is not an inner shell; no inner shell read")
            return
        self.read_row(keyed[-1][1], self.result.metadata, shell="inner")

    def primary_collection(self, diffrn_id: str | None) -> None:
        """Copy the collection the statistics belong to into ``metadata``; report values that differ."""
        res = self.result
        if not res.collections:
            return
        index = res.diffrn_ids.index(diffrn_id) if diffrn_id in res.diffrn_ids else 0
        primary, sources = res.collections[index], self._collection_sources[index]
        for key, value in primary.items():
            if key in res.metadata:
                continue
            res.metadata[key] = value[0] if isinstance(value, list) else value
            res.sources[key] = sources.get(key, "")
            if any(key in c and c[key] != value for c in res.collections):
                self.warn(f"the {len(res.collections)} _diffrn rows differ in {key}; metadata holds _diffrn.id "
                          f"{res.diffrn_ids[index]} ({value!r}), collections hold every value")
        if isinstance(primary.get("wavelength"), list):
            self.warn(f"_diffrn.id {res.diffrn_ids[index]} used {len(primary['wavelength'])} wavelengths; "
                      "metadata holds the first, collections the list")

    def read_v5_next(self) -> None:
        """DIALS v5_next merge statistics fill what ``_reflns``, ``_cell`` and ``_symmetry`` lack."""
        for category in ("_pdbx_diffrn_merge_stat", "_pdbx_diffrn_merged_cell", "_pdbx_diffrn_symmetry"):
            rows = _Rows(self.block, category)
            if rows:
                self.read_row(rows.rows[0], self.result.metadata)
        if not any(k.endswith(("_inner", "_outer")) for k in self.result.metadata):
            shell_rows = list(_Rows(self.block, "_pdbx_diffrn_merge_stat_shell"))
            d_item = "_pdbx_diffrn_merge_stat_shell.d_limit_high"
            if shell_rows and not any(d_item in r for r in shell_rows):
                d_item = "_pdbx_diffrn_merge_stat_shell.d_resolution_high"
            self.read_shells(shell_rows, d_item, "_pdbx_diffrn_merge_stat_shell.ordinal_id")

    def read_claimed(self, category: str) -> None:
        """A supplementary category (:data:`items.CLAIMED_ONLY_CATEGORIES`): the row of the statistics'
        ``pdbx_diffrn_id`` (``_refine`` of a joint X-ray/neutron entry has one row per method), else the first."""
        rows = _Rows(self.block, category).rows
        if not rows:
            return
        row = rows[0]
        if len(rows) > 1:
            mine = [r for r in rows if self._stats_diffrn_id is not None
                    and _text(r.get(f"{category}.pdbx_diffrn_id")) == self._stats_diffrn_id]
            which = f"the one of _diffrn.id {self._stats_diffrn_id}" if len(mine) == 1 else "the first"
            row = mine[0] if len(mine) == 1 else rows[0]
            method = _text(row.get(f"{category}.pdbx_refine_id"))
            self.warn(f"{category}: {len(rows)} rows; read {which}" + (f" ({method})" if method else ""))
        self.read_row(row, self.result.metadata, claimed_only=True)

    def read_software(self) -> None:
        rows = sorted(_Rows(self.block, "_software"), key=lambda r: _ordinal(r, "_software.pdbx_ordinal"))
        for row in rows:
            name = _text(row.get("_software.name"))
            if name is None:
                self.warn("_software row without a name; skipped")
                continue
            self.result.software.append({"name": name, "version": _text(row.get("_software.version")),
                                         "classification": _text(row.get("_software.classification"))})
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
        self.put(self.result.metadata, names[0].key_for(None), ", ".join(processing), "_software.name",
                 self.result.sources)
        versions = self.term_for("_software.version")
        if versions is not None and all(processing.values()):
            self.put(self.result.metadata, versions[0].key_for(None), ", ".join(map(str, processing.values())),
                     "_software.version", self.result.sources)


def _diffrn_of(row: dict[str, str], category: str) -> str | None:
    """The ``_diffrn.id`` a collection-category row belongs to (None when the row does not say)."""
    return _text(row.get("_diffrn.id" if category == "_diffrn" else f"{category}.diffrn_id"))


def _overall_of_shell_item(item: str) -> str | None:
    for overall, shell_items in items.SHELL_ITEMS.items():
        if item in shell_items:
            return overall
    return None


_SHELL_PREFERENCE = {shell_item: rank for alternatives in items.SHELL_ITEMS.values()
                     for rank, shell_item in enumerate(alternatives)}


def _ordinal(row: dict[str, str], item: str) -> float:
    raw = row.get(item)
    try:
        return float(raw) if raw is not None else math.inf
    except ValueError:
        return math.inf


def _number(raw: str, item: str, path: str | None) -> float:
    import gemmi

    value = gemmi.cif.as_number(raw)
    if math.isnan(value):
        raise MmcifError("not a number", path=path, item=item, value=raw)
    return float(value)
