"""CIF-core (DDLm ``cif_core.dic``) spellings in mmCIF files: ``_diffrn_radiation_wavelength.value``,
``_diffrn_source.beamline`` and ``_diffrn_source.facility``. They mean the PDBx items ``.wavelength``,
``.pdbx_synchrotron_beamline`` and ``.pdbx_synchrotron_site``; when a file holds both spellings the PDBx one
wins and a differing value is a warning. Each test writes its own small mmCIF file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxicat.harvest.mmcif import MmcifError, import_mmcif

approx = pytest.approx

_REFLNS = """
_reflns.entry_id test
_reflns.pdbx_ordinal 1
_reflns.pdbx_diffrn_id 1
_reflns.d_resolution_high 1.80
_reflns.d_resolution_low 40.0
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "core_spellings.cif"
    path.write_text("data_test\n_diffrn.id 1\n_diffrn.crystal_id 1\n" + body + _REFLNS)
    return path


def test_cif_core_spellings_alone_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
_diffrn_source.diffrn_id 1
_diffrn_source.source SYNCHROTRON
_diffrn_source.facility 'Diamond Light Source'
_diffrn_source.beamline I04
_diffrn_radiation.diffrn_id 1
_diffrn_radiation.wavelength_id 1
_diffrn_radiation_wavelength.id 1
_diffrn_radiation_wavelength.value 0.97950
""",
    )
    result = import_mmcif(path)
    m = result.metadata
    assert (m["facility"], m["beamline"], m["wavelength"]) == ("Diamond Light Source", "I04", approx(0.9795))
    assert result.collections[0]["beamline"] == "I04"
    assert result.sources["facility"] == "_diffrn_source.facility"
    assert result.sources["beamline"] == "_diffrn_source.beamline"
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.value"
    assert not {"_diffrn_source.facility", "_diffrn_source.beamline"} & set(result.unmapped)
    assert result.warnings == []


def test_both_spellings_agreeing_give_no_warning(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
_diffrn_source.diffrn_id 1
_diffrn_source.pdbx_synchrotron_site Diamond
_diffrn_source.facility Diamond
_diffrn_source.beamline I04
_diffrn_source.pdbx_synchrotron_beamline I04
_diffrn_radiation_wavelength.id 1
_diffrn_radiation_wavelength.wavelength 0.9795
_diffrn_radiation_wavelength.value 0.97950
""",
    )
    result = import_mmcif(path)
    assert (result.metadata["facility"], result.metadata["beamline"]) == ("Diamond", "I04")
    assert result.metadata["wavelength"] == approx(0.9795)
    assert result.sources["facility"] == "_diffrn_source.pdbx_synchrotron_site"
    assert result.sources["beamline"] == "_diffrn_source.pdbx_synchrotron_beamline"
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.wavelength"
    assert result.warnings == []


def test_conflicting_spellings_keep_the_pdbx_item_with_a_warning(tmp_path: Path) -> None:
    # the CIF-core items come first in the file: the PDBx items still win
    path = _write(
        tmp_path,
        """
_diffrn_source.diffrn_id 1
_diffrn_source.facility 'Diamond Light Source'
_diffrn_source.beamline I03
_diffrn_source.pdbx_synchrotron_site Diamond
_diffrn_source.pdbx_synchrotron_beamline I04
_diffrn_radiation.diffrn_id 1
_diffrn_radiation.wavelength_id 1
_diffrn_radiation_wavelength.id 1
_diffrn_radiation_wavelength.value 1.0
_diffrn_radiation_wavelength.wavelength 0.9795
""",
    )
    result = import_mmcif(path)
    m, c = result.metadata, result.collections[0]
    assert (m["facility"], m["beamline"], m["wavelength"]) == ("Diamond", "I04", approx(0.9795))
    assert (c["facility"], c["beamline"], c["wavelength"]) == ("Diamond", "I04", approx(0.9795))
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.wavelength"
    assert set(result.warnings) == {
        "facility: _diffrn_source.facility = 'Diamond Light Source' differs from 'Diamond' "
        "(_diffrn_source.pdbx_synchrotron_site); kept the first",
        "beamline: _diffrn_source.beamline = 'I03' differs from 'I04' "
        "(_diffrn_source.pdbx_synchrotron_beamline); kept the first",
        "wavelength: _diffrn_radiation_wavelength.value = 1.0 differs from 0.9795 "
        "(_diffrn_radiation_wavelength.wavelength); kept the first",
    }


def test_looped_value_wavelengths_of_a_mad_collection(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
loop_
_diffrn_radiation.diffrn_id
_diffrn_radiation.wavelength_id
1 w1
1 w2
loop_
_diffrn_radiation_wavelength.id
_diffrn_radiation_wavelength.value
_diffrn_radiation_wavelength.wt
w1 0.9792 1.0
w2 0.9796 1.0
""",
    )
    result = import_mmcif(path)
    assert result.collections[0]["wavelength"] == [approx(0.9792), approx(0.9796)]
    assert result.metadata["wavelength"] == approx(0.9792)
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.value"


def test_a_bad_value_spelling_names_its_item(tmp_path: Path) -> None:
    path = _write(tmp_path, "_diffrn_radiation_wavelength.id 1\n_diffrn_radiation_wavelength.value short\n")
    with pytest.raises(MmcifError) as err:
        import_mmcif(path)
    assert err.value.item == "_diffrn_radiation_wavelength.value" and err.value.value == "short"
