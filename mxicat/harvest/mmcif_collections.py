"""Data collections of an mmCIF block: ``_diffrn*`` and serial measurement/delivery categories.

One canonical dict per ``_diffrn.id`` (several rows = one merged data set from several collections); the
collection the ``_reflns`` row points to (``pdbx_diffrn_id``) is copied into the block's metadata, with a
warning naming the values that differ between collections. Wavelengths come from
``_diffrn_source.pdbx_wavelength_list`` (MAD lists, Laue/neutron ranges read as their two limits), else from
the ``_diffrn_radiation_wavelength`` row that ``_diffrn_radiation.wavelength_id`` points to
(``wavelength``, or its CIF-core spelling ``value``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mxicat.harvest import mmcif_items as items
from mxicat.harvest.mmcif_result import MmcifError
from mxicat.harvest.mmcif_rows import Rows, diffrn_of, text

if TYPE_CHECKING:
    from mxicat.harvest.mmcif_block import BlockReader
    from mxicat.ontology.terms import Term

__all__ = ["CollectionReader"]


class CollectionReader:
    """Reads the data collections of one block for a :class:`~mxicat.harvest.mmcif_block.BlockReader`."""

    def __init__(self, reader: BlockReader) -> None:
        self.reader = reader
        self.result = reader.result
        self._collection_sources: list[dict[str, str]] = []

    def read(self) -> None:
        """``_diffrn*`` and serial measurement/delivery categories → one dict per ``_diffrn.id``."""
        block = self.reader.block
        tables = {c: Rows(block, c) for c in items.COLLECTION_CATEGORIES}
        ids: list[str] = []
        for category, rows in tables.items():
            for row in rows:
                diffrn_id = diffrn_of(row, category) or "1"
                if diffrn_id not in ids:
                    ids.append(diffrn_id)
        if not ids and Rows(block, "_diffrn_radiation_wavelength"):
            ids.append("1")
        for diffrn_id in ids:
            collection: dict[str, Any] = {}
            sources: dict[str, str] = {}
            for category, rows in tables.items():
                for row in rows:
                    owner = diffrn_of(row, category)
                    if owner == diffrn_id or (owner is None and len(ids) == 1):
                        wavelength_items = ("_diffrn_source.pdbx_wavelength_list", "_diffrn_source.pdbx_wavelength")
                        self.reader.read_row(
                            {k: v for k, v in row.items() if k not in wavelength_items}, collection, sources=sources
                        )
            self.read_wavelengths(diffrn_id, len(ids), tables, collection, sources)
            for row in tables["_diffrn_source"]:
                if (diffrn_of(row, "_diffrn_source") or "1") == diffrn_id:
                    self.read_source_type(row, collection, sources)
            if not collection:
                continue
            self.result.collections.append(collection)
            self.result.diffrn_ids.append(diffrn_id)
            self._collection_sources.append(sources)
        serial_flag = any(
            (text(r.get("_diffrn.pdbx_serial_crystal_experiment")) or "").upper() == "Y" for r in tables["_diffrn"]
        )
        serial_tables = any(t for c, t in tables.items() if c.startswith("_pdbx_serial")) or bool(
            Rows(block, "_pdbx_serial_crystallography_data_reduction")
        )
        if serial_flag or serial_tables:
            self.result.technique = "SSX"

    def read_source_type(self, row: dict[str, str], collection: dict[str, Any], sources: dict[str, str]) -> None:
        """Site and beamline from the deposition spelling ``_diffrn_source.type`` (``SLAC LCLS BEAMLINE CXI``,
        ``DIAMOND BEAMLINE I03``) when the file lacks ``pdbx_synchrotron_site`` / ``_beamline``."""
        reader = self.reader
        item = "_diffrn_source.type"
        value = text(row.get(item))
        if not value or reader.term_for(item) is not None or " BEAMLINE " not in value.upper():
            return
        cut = value.upper().index(" BEAMLINE ")
        parts = {
            "_diffrn_source.pdbx_synchrotron_site": value[:cut].strip(),
            "_diffrn_source.pdbx_synchrotron_beamline": value[cut + len(" BEAMLINE ") :].strip(),
        }
        for target_item, part in parts.items():
            found = reader.term_for(target_item)
            if found is None or not part or found[0].key_for(None) in collection:
                continue
            reader.put(collection, found[0].key_for(None), reader.value(found[0], target_item, part), item, sources)

    def read_wavelengths(
        self, diffrn_id: str, n_ids: int, tables: dict[str, Rows], collection: dict[str, Any], sources: dict[str, str]
    ) -> None:
        """Wavelength(s) of one collection: ``_diffrn_source.pdbx_wavelength_list`` (MAD lists), else the
        ``_diffrn_radiation_wavelength`` row its ``_diffrn_radiation.wavelength_id`` points to."""
        reader = self.reader
        item = "_diffrn_radiation_wavelength.wavelength"
        found = reader.term_for(item)
        if found is None:
            return
        term = found[0]
        by_id = {
            (text(r.get("_diffrn_radiation_wavelength.id")) or "1"): r
            for r in Rows(reader.block, "_diffrn_radiation_wavelength")
            if any(spelling in r for spelling in items.WAVELENGTH_ITEMS)
        }
        values: list[Any] = []
        source = item
        for row in tables["_diffrn_source"]:
            if (diffrn_of(row, "_diffrn_source") or "1") != diffrn_id:
                continue
            for list_item in ("_diffrn_source.pdbx_wavelength_list", "_diffrn_source.pdbx_wavelength"):
                listed = text(row.get(list_item))
                if listed and not values:
                    values = self.wavelength_list(term, list_item, listed)
                    source = list_item if values else source
        used: list[dict[str, str]] = []
        if not values:
            for row in tables["_diffrn_radiation"]:
                wid = text(row.get("_diffrn_radiation.wavelength_id"))
                if (diffrn_of(row, "_diffrn_radiation") or "1") == diffrn_id and wid in by_id:
                    used.append(by_id[wid])
            if not used and (n_ids == 1 or len(by_id) == 1):
                used = list(by_id.values())
            read = [self.row_wavelength(term, row) for row in used]
            values = [value for value, _ in read]
            source = read[0][1] if read else source
        if values:
            unique = list(dict.fromkeys(values))
            key = term.key_for(None)
            collection[key] = unique[0] if len(unique) == 1 else unique
            sources[key] = source

    def row_wavelength(self, term: Term, row: dict[str, str]) -> tuple[Any, str]:
        """The wavelength of one ``_diffrn_radiation_wavelength`` row and the item it came from.

        The PDBx item ``wavelength`` wins over the CIF-core spelling ``value`` (:data:`items.WAVELENGTH_ITEMS`);
        a row holding both with different values gets the importer's usual "kept the first" warning.
        """
        chosen: dict[str, Any] = {}
        chosen_sources: dict[str, str] = {}
        key = term.key_for(None)
        for spelling in items.WAVELENGTH_ITEMS:
            if spelling in row:
                self.reader.put(chosen, key, self.reader.value(term, spelling, row[spelling]), spelling, chosen_sources)
        return chosen[key], chosen_sources[key]

    def wavelength_list(self, term: Term, item: str, listed: str) -> list[Any]:
        """``0.9792, 0.9794`` (MAD) or a range ``2.0-4.0`` (Laue, neutron: read as its two limits, with a
        warning); a part that is no wavelength is a warning, and the ``_diffrn_radiation`` rows are used then."""
        reader = self.reader
        values: list[Any] = []
        for part in listed.replace(",", " ").split():
            ends = part.split("-") if part.count("-") == 1 and not part.startswith("-") else [part]
            if len(ends) == 2:
                reader.warn(f"{item} = {listed!r} is a wavelength range; read as its limits {ends[0]} and {ends[1]}")
            try:
                values.extend(reader.value(term, item, end) for end in ends)
            except MmcifError:
                reader.warn(f"{item} = {listed!r}: {part!r} is not a wavelength; the list is ignored")
                return []
        return values

    def copy_primary(self, diffrn_id: str | None) -> None:
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
                self.reader.warn(
                    f"the {len(res.collections)} _diffrn rows differ in {key}; metadata holds "
                    f"_diffrn.id {res.diffrn_ids[index]} ({value!r}), collections hold every value"
                )
        if isinstance(primary.get("wavelength"), list):
            self.reader.warn(
                f"_diffrn.id {res.diffrn_ids[index]} used {len(primary['wavelength'])} wavelengths; "
                "metadata holds the first, collections the list"
            )
