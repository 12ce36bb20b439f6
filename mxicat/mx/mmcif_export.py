"""PDB-deposition mmCIF (data collection and processing) from canonical metadata.

The input is one :class:`ExportRecord` per data block: the canonical metadata of the raw collections
(one ``_diffrn`` row each), of the processed result (``_reflns``, ``_reflns_shell`` inner/outer rows,
``_symmetry``, ``_cell``, serial data reduction) and its software. Which PDBx item a canonical key is
written to comes from the ontology (``Term.mmcif``); the value is converted from the term's canonical unit
to the item's PDBx unit (hours for ``_pdbx_serial_crystallography_measurement.collection_time_total``,
percent for ``percent_possible_*``, fractions for R factors). Keys without a PDBx item (detector distance,
beam centre...) are not written; keys the ontology does not know are reported with an
:class:`~mxicat.errors.OntologyTermWarning`.

Check the output against the PDBx dictionaries with :func:`mxicat.mx.mmcif_dictionary.check_mmcif`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, OntologyTermWarning
from mxicat.harvest import mmcif_items as items

if TYPE_CHECKING:
    from mxicat.harvest.mmcif import ProcessedResult
    from mxicat.ontology.terms import Term

__all__ = ["ExportRecord", "export_mmcif"]

_WAVELENGTH_ITEM = "_diffrn_radiation_wavelength.wavelength"
_SERIAL = "_pdbx_serial_crystallography"
#: processed-result categories written from ``ExportRecord.processed`` (single row each)
_RESULT_CATEGORIES = ("_reflns", "_symmetry", "_cell", "_exptl", "_exptl_crystal",
                      f"{_SERIAL}_data_reduction", *items.CLAIMED_ONLY_CATEGORIES)
#: data-collection categories written from each raw collection (keyed by ``diffrn_id``)
_COLLECTION_CATEGORIES = items.COLLECTION_CATEGORIES
#: categories written even when a row holds only its key (``_diffrn.crystal_id`` → ``_exptl_crystal.id``)
_ALWAYS_WRITTEN = frozenset({"_entry", "_diffrn", "_exptl_crystal", "_exptl", "_reflns"})


@dataclass
class ExportRecord:
    """What one mmCIF data block is written from.

    Attributes:
        raw: canonical metadata of each raw data collection (one ``_diffrn`` row each, in order);
            ``wavelength`` may be a list (MAD).
        processed: canonical metadata of the processed result (per-shell keys ``r_merge``,
            ``r_merge_inner``, ``r_merge_outer``...). Data-collection keys found here are used only when
            ``raw`` is empty.
        software: ``{"name", "version", "classification"}`` per program, in order.
        technique: ``"MX"`` or ``"SSX"`` (SSX writes ``_diffrn.pdbx_serial_crystal_experiment Y`` and the
            serial categories).
        name: data block name and ``_entry.id``.
    """

    raw: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, Any] = field(default_factory=dict)
    software: list[dict[str, Any]] = field(default_factory=list)
    technique: str = "MX"
    name: str = "mxicat"

    @classmethod
    def from_result(cls, result: ProcessedResult, *, name: str | None = None) -> ExportRecord:
        """A record re-exporting an imported :class:`~mxicat.harvest.mmcif.ProcessedResult`."""
        raw = [dict(c) for c in result.collections if c]
        collection_keys = {k for c in raw for k in c}
        processed = {k: v for k, v in result.metadata.items() if k not in collection_keys}
        return cls(raw=raw, processed=processed, software=[dict(s) for s in result.software],
                   technique=result.technique, name=name or result.block)


def export_mmcif(records: ExportRecord | Iterable[ExportRecord], *, ontology: Any = None) -> str:
    """PDBx/mmCIF text, one data block per record.

    Raises:
        BadParameterError: a value cannot be written as its PDBx item (wrong type or unit).
    """
    import gemmi

    if ontology is None:
        from mxicat.ontology import load_ontology

        ontology = load_ontology()
    batch = [records] if isinstance(records, ExportRecord) else list(records)
    doc = gemmi.cif.Document()
    names: set[str] = set()
    for record in batch:
        name = _block_name(record.name)
        while name in names:
            name += "_"
        names.add(name)
        _BlockWriter(ontology, record, name).write(doc.add_new_block(name))
    return str(doc.as_string(gemmi.cif.Style.Pdbx))  # type: ignore[arg-type]  # gemmi converts a Style


def _block_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip())
    return cleaned or "mxicat"


class _BlockWriter:
    """Collects category rows (item → CIF text) for one block, then writes them with gemmi."""

    def __init__(self, ontology: Any, record: ExportRecord, name: str) -> None:
        self.ont, self.record, self.name = ontology, record, name
        self.serial = record.technique.upper() == "SSX"
        self.rows: dict[str, list[dict[str, str]]] = {}

    # ---- item choice and values -------------------------------------------------------------------
    def item_for(self, key: str, categories: Iterable[str]) -> tuple[Term, str | None, str] | None:
        """(term, shell, PDBx item) for a canonical key, limited to ``categories``; None if none fits."""
        resolved = self.ont.resolve(key)
        if resolved is None:
            warnings.warn(f"mmCIF export: {key!r} is not an ontology term; not written",
                          OntologyTermWarning, stacklevel=4)
            return None
        term, shell = resolved.term, resolved.shell
        wanted = tuple(categories)
        candidates = _candidate_items(term, shell)
        if self.serial:  # SSX: the serial item of a statistic first (collection time in hours, ...)
            candidates.sort(key=lambda i: not i.startswith(_SERIAL))
        for item in candidates:
            if items.is_key_item(item):
                continue  # keys are numbered by the writer, never taken from metadata
            category = items.category_of(item)
            if category in wanted and (self.serial or not category.startswith(_SERIAL)):
                return term, shell, item
        return None

    def text(self, term: Term, item: str, value: Any) -> str:
        """``value`` (canonical unit; strings such as ``"0.98"`` are parsed) as the CIF text of ``item``."""
        try:
            canonical = self.ont.convert(term, value, term.unit if term.numeric else None)  # values are canonical
            return _cif_text(term, item, canonical)
        except (ValueError, TypeError, BadParameterError) as err:
            raise BadParameterError(f"mmCIF export: {term.name} = {value!r} cannot be written as {item}: "
                                    f"{err}") from err

    def add(self, category: str, row: dict[str, str]) -> None:
        self.rows.setdefault(category, []).append(row)

    # ---- categories -------------------------------------------------------------------------------
    def write(self, block: Any) -> None:
        record = self.record
        raw = [c for c in record.raw if c] or [self._collection_part(record.processed)]
        raw = [c for c in raw if c] or [{}]
        self.add("_entry", {"id": self.name})
        self.collections(raw)
        self.results(record.processed)
        self.software(record.software)
        for category, rows in self.rows.items():
            # a row holding nothing but its key says nothing, except where other rows point at it
            if category in _ALWAYS_WRITTEN or any(len(row) > 1 for row in rows):
                tags = list(dict.fromkeys(tag for row in rows for tag in row))
                data = {tag: [row.get(tag) for row in rows] for tag in tags}
                block.set_mmcif_category(category + ".", data)

    def _collection_part(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        part: dict[str, Any] = {}
        for key, value in metadata.items():
            resolved = self.ont.resolve(key)
            if resolved is None:
                continue
            if any(items.category_of(i) in _COLLECTION_CATEGORIES or i == _WAVELENGTH_ITEM
                   for i in resolved.term.mmcif):
                part[key] = value
        return part

    def collections(self, raw: list[dict[str, Any]]) -> None:
        """One ``_diffrn`` row per collection, its source/radiation/detector/serial rows and wavelengths."""
        wavelength_ids: dict[float, str] = {}
        for index, collection in enumerate(raw, start=1):
            diffrn_id = str(index)
            per_category: dict[str, dict[str, str]] = {}
            for key, value in collection.items():
                if value is None:
                    continue
                resolved = self.ont.resolve(key)
                if resolved is not None and key == resolved.term.key_for(None) and \
                        _WAVELENGTH_ITEM in resolved.term.mmcif:
                    continue  # written below with the wavelength rows
                found = self.item_for(key, _COLLECTION_CATEGORIES)  # warns about unknown keys
                if found is None:
                    continue
                term, _, item = found
                category, tag = item.split(".", 1)
                per_category.setdefault(category, {})[tag] = self.text(term, item, value)
            source = per_category.get("_diffrn_source", {})
            if "type" not in source and {"pdbx_synchrotron_site", "pdbx_synchrotron_beamline"} <= source.keys():
                # the deposition spelling of the source, e.g. 'DIAMOND BEAMLINE I03'
                site, beamline = source["pdbx_synchrotron_site"], source["pdbx_synchrotron_beamline"]
                source["type"] = f"{site.upper()} BEAMLINE {beamline}"
            diffrn = per_category.setdefault("_diffrn", {})
            diffrn.update({"id": diffrn_id, "crystal_id": "1"})
            if self.serial:
                diffrn.setdefault("pdbx_serial_crystal_experiment", "Y")
            self._wavelengths(collection, diffrn_id, per_category, wavelength_ids)
            if "method" not in per_category.get(f"{_SERIAL}_sample_delivery", {"method": ""}):
                per_category.pop(f"{_SERIAL}_sample_delivery")
            for category in _COLLECTION_CATEGORIES:
                if category in per_category:
                    key_tag = "id" if category == "_diffrn" else "diffrn_id"
                    self.add(category, {key_tag: diffrn_id, **per_category[category]})
        for wavelength, wid in wavelength_ids.items():
            self.add("_diffrn_radiation_wavelength", {"id": wid, "wavelength": _number_text(wavelength),
                                                      "wt": "1.0"})

    def _wavelengths(self, collection: Mapping[str, Any], diffrn_id: str,
                     per_category: dict[str, dict[str, str]], wavelength_ids: dict[float, str]) -> None:
        term = self.ont.by_mmcif(_WAVELENGTH_ITEM)
        if term is None or collection.get(term.name) is None:
            return
        value = collection[term.name]
        values = list(value) if isinstance(value, list | tuple) else [value]
        texts = [self.text(term, _WAVELENGTH_ITEM, v) for v in values]
        for text in texts:
            wavelength_ids.setdefault(float(text), str(len(wavelength_ids) + 1))
        radiation = per_category.setdefault("_diffrn_radiation", {})
        radiation["wavelength_id"] = wavelength_ids[float(texts[0])]
        per_category.setdefault("_diffrn_source", {})["pdbx_wavelength_list"] = ", ".join(texts)

    def results(self, processed: Mapping[str, Any]) -> None:
        """``_reflns`` (overall), ``_reflns_shell`` (inner, outer), ``_symmetry``, ``_cell``, SSX reduction,
        crystal growth and refinement R factors."""
        per_category: dict[str, dict[str, str]] = {}
        shells: dict[str, dict[str, str]] = {}
        for key, value in processed.items():
            if value is None:
                continue
            found = self.item_for(key, (*_RESULT_CATEGORIES, "_reflns_shell"))
            if found is None:
                continue
            term, shell, item = found
            category, tag = item.split(".", 1)
            if shell in ("inner", "outer"):
                shell_item = _shell_item(term, item)
                if shell_item is None:
                    continue
                shells.setdefault(shell, {})[shell_item.split(".", 1)[1]] = self.text(term, shell_item, value)
            elif category != "_reflns_shell":
                per_category.setdefault(category, {})[tag] = self.text(term, item, value)
        if "_reflns" in per_category or shells:
            self.add("_reflns", {"entry_id": self.name, "pdbx_ordinal": "1", "pdbx_diffrn_id": "1",
                                 **per_category.pop("_reflns", {})})
        for ordinal, shell in enumerate(s for s in ("inner", "outer") if s in shells):
            self.add("_reflns_shell", {"pdbx_ordinal": str(ordinal + 1), "pdbx_diffrn_id": "1", **shells[shell]})
        for category in ("_symmetry", "_cell", "_exptl"):
            if category in per_category or category == "_exptl":
                self.add(category, {"entry_id": self.name, **per_category.pop(category, {})})
        self.rows["_exptl"][0].setdefault("method", self._method())
        self.add("_exptl_crystal", {"id": "1", **per_category.pop("_exptl_crystal", {})})
        grow = per_category.pop("_exptl_crystal_grow", None)
        if grow:
            self.add("_exptl_crystal_grow", {"crystal_id": "1", **grow})
        refine = per_category.pop("_refine", None)
        if refine:
            self.add("_refine", {"entry_id": self.name, "pdbx_refine_id": self.rows["_exptl"][0]["method"],
                                 "pdbx_diffrn_id": "1", **refine})
        reduction = per_category.pop(f"{_SERIAL}_data_reduction", None)
        if reduction:
            self.add(f"{_SERIAL}_data_reduction", {"diffrn_id": "1", **reduction})

    def _method(self) -> str:
        """``_exptl.method`` from the probe written in ``_diffrn_radiation.pdbx_scattering_type``."""
        probes = {row.get("pdbx_scattering_type") for row in self.rows.get("_diffrn_radiation", [])}
        if "electron" in probes:
            return "ELECTRON CRYSTALLOGRAPHY"
        if "neutron" in probes:
            return "NEUTRON DIFFRACTION"
        return "X-RAY DIFFRACTION"

    def software(self, software: Iterable[Mapping[str, Any]]) -> None:
        for ordinal, entry in enumerate(software, start=1):
            name = entry.get("name")
            if not name:
                raise BadParameterError(f"mmCIF export: software entry {ordinal} has no name")
            row = {"pdbx_ordinal": str(ordinal), "name": str(name),
                   "classification": str(entry.get("classification") or "data processing")}
            if entry.get("version"):
                row["version"] = str(entry["version"])
            self.add("_software", row)


def _candidate_items(term: Term, shell: str | None) -> list[str]:
    """PDBx items of a term; for inner/outer keys the overall item (its shell spelling is chosen later)."""
    return [i for i in term.mmcif if shell in (None, "overall") or not i.startswith("_reflns_shell.")]


def _shell_item(term: Term, overall_item: str) -> str | None:
    """The ``_reflns_shell`` item holding the statistic of ``overall_item`` for one shell."""
    listed = [i for i in term.mmcif if i.startswith("_reflns_shell.")]
    if listed:
        return listed[0]
    alternatives = items.SHELL_ITEMS.get(overall_item)
    return alternatives[0] if alternatives else None


def _cif_text(term: Term, item: str, value: Any) -> str:
    from mxicat.ontology.units import convert_magnitude

    if term.type in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {type(value).__name__}")
        unit = items.pint_unit(item)
        number = convert_magnitude(float(value), term.unit, unit) if unit is not None else float(value)
        if term.type == "int":
            return str(int(round(number)))
        return _number_text(number)
    if term.type == "bool":
        return "Y" if value else "N"
    if term.type == "datetime":
        if isinstance(value, str):
            from mxicat.ontology.values import parse_datetime

            value = parse_datetime(value)
        if isinstance(value, datetime):
            if (value.hour, value.minute) == (0, 0):
                return value.strftime("%Y-%m-%d")
            return value.strftime("%Y-%m-%d:%H:%M")
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"expected a date, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise ValueError("empty text")
    return text


def _number_text(number: float) -> str:
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    text = format(number, ".10g")
    return text if "e" not in text else repr(number)
