"""Ontology mmCIF items checked against the real PDBx extension dictionaries (shared test data).

For every item the ontology lists that one of the dictionaries defines: the item exists, its DDL2 type
fits the term's type, its units are dimensionally compatible with the term's canonical unit (so a
conversion exists), and enumerations agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mxicat.ontology import Ontology, load_ontology
from mxicat.ontology.units import convert_magnitude

DICTIONARIES = ("xfel-extensions-v3.dic", "xfel2-extension.dic", "diffrn-data-set-extension-v2.dic")

#: PDBx ``_item_units.code`` words (standards.md §2.1) as pint units
PDBX_UNITS = {
    "angstroms": "angstrom", "angstroms_squared": "angstrom**2", "angstroms_cubed": "angstrom**3",
    "degrees": "deg", "kelvins": "K", "seconds": "s", "hours": "h", "femtoseconds": "fs",
    "microjoules": "uJ", "kiloelectron_volts": "keV", "milliamperes": "mA", "micrometres": "um",
    "micrometres_squared": "um**2", "microliters_per_min": "uL/min", "kilopascals": "kPa", "hertz": "Hz",
    "metres": "m", "millimetres": "mm", "teraphotons_per_pulse": "Tphoton",
}
#: DDL2 type codes that hold text
TEXT_TYPES = {"code", "ucode", "line", "uline", "text", "yyyy-mm-dd:hh:mm-flex"}


@dataclass
class Item:
    name: str
    type: str
    units: str | None
    enumeration: tuple[str, ...]
    minimum: float | None


def _items(path: Path) -> tuple[dict[str, Item], set[str]]:
    """Items (by lower-case name) and the categories the dictionary defines (``_category``)."""
    from gemmi import cif

    out: dict[str, Item] = {}
    categories: set[str] = set()
    for entry in cif.read(str(path)).sole_block():
        frame = entry.frame
        if frame is not None and frame.find_value("_category.id"):
            categories.add("_" + cif.as_string(frame.find_value("_category.id")).lower())
        if frame is None or not frame.find_value("_item.name"):
            continue
        name = cif.as_string(frame.find_value("_item.name"))
        units = frame.find_value("_item_units.code")
        minimum = frame.find_value("_item_range.minimum")
        enumeration = tuple(cif.as_string(v) for v in frame.find_values("_item_enumeration.value"))
        out[name.lower()] = Item(
            name, cif.as_string(frame.find_value("_item_type.code") or "?"),
            cif.as_string(units) if units else None, enumeration,
            None if minimum in (None, ".", "?") else cif.as_number(minimum))
    return out, categories


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


def test_items_agree_with_dictionaries(shared: type, ont: Ontology) -> None:
    items: dict[str, Item] = {}
    categories: set[str] = set()
    for dictionary in DICTIONARIES:  # xfel2 adds items to categories of xfel-extensions-v3
        found, defined = _items(shared.file("dictionaries", dictionary))
        assert found, dictionary
        items.update(found)
        categories |= defined
    checked = 0
    for term in ont:
        for item_name in term.mmcif:
            if item_name.split(".")[0].lower() not in categories and item_name.lower() not in items:
                continue
            item = items.get(item_name.lower())
            assert item is not None, f"{term.name}: {item_name} is not defined in the dictionaries"
            checked += 1
            if term.type in ("float", "int"):
                assert item.type in ("float", "int"), (term.name, item.type)
                if item.type == "float":
                    assert term.type == "float", term.name
            else:
                assert item.type in TEXT_TYPES, (term.name, item.type)
            if item.units:
                pint_unit = PDBX_UNITS[item.units]
                convert_magnitude(1.0, pint_unit, term.unit)  # raises if not convertible
            if item.enumeration and term.type == "enum":
                assert set(term.allowed) == set(item.enumeration), term.name
            if item.minimum is not None and term.minimum is not None:
                low = item.minimum
                if item.units:
                    low = convert_magnitude(low, PDBX_UNITS[item.units], term.unit)
                assert term.minimum >= low - 1e-9, term.name  # never looser than the dictionary
    assert checked >= 30, f"only {checked} ontology items are defined in the extension dictionaries"
