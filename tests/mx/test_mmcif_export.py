"""PDB-deposition mmCIF export: round trip of every shared mmCIF file, generated records (MX, MAD, SSX,
several blocks), and the check against the PDBx extension dictionaries in ../shared/testdata/dictionaries."""

from __future__ import annotations

import math
import warnings
from datetime import datetime
from pathlib import Path

import gemmi
import pytest

from mxicat.errors import BadParameterError, OntologyTermWarning
from mxicat.harvest.mmcif import import_mmcif, import_mmcif_blocks
from mxicat.mx.mmcif_dictionary import check_mmcif, load_dictionaries
from mxicat.mx.mmcif_export import ExportRecord, export_mmcif

approx = pytest.approx

SHARED_TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"  # as tests/conftest.py
MMCIF_FILES = sorted(str(p.relative_to(SHARED_TESTDATA)) for p in (SHARED_TESTDATA / "mmcif").glob("*/*.cif"))
DICTIONARIES = ("xfel-extensions-v3.dic", "xfel2-extension.dic", "diffrn-data-set-extension-v2.dic")


@pytest.fixture
def pdbx_dictionary(shared):
    return load_dictionaries([shared.file("dictionaries", name) for name in DICTIONARIES])


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_every_shared_file_is_listed(shared):
    shared.file("mmcif")
    assert len(MMCIF_FILES) >= 5


@pytest.mark.parametrize("relative", MMCIF_FILES or ["mmcif/absent.cif"])
def test_round_trip_every_shared_mmcif(shared, relative, pdbx_dictionary):
    original = import_mmcif(shared.file(*Path(relative).parts))
    text = export_mmcif(ExportRecord.from_result(original))
    doc = gemmi.cif.read_string(text)  # gemmi re-reads it
    assert len(doc) == 1 and doc[0].name == original.block
    again = import_mmcif(text)
    assert again.metadata.keys() == original.metadata.keys()
    for key, value in original.metadata.items():
        assert _same(again.metadata[key], value), key
    assert len(again.collections) == len(original.collections)
    for before, after in zip(original.collections, again.collections, strict=True):
        assert before.keys() == after.keys()
        assert all(_same(after[k], v) for k, v in before.items())
    assert again.software == original.software
    assert again.technique == original.technique
    assert check_mmcif(text, pdbx_dictionary) == []


def test_5i55_export_items(shared):
    text = export_mmcif(ExportRecord.from_result(import_mmcif(shared.file("mmcif", "pdb_5i55", "5i55.cif"))))
    block = gemmi.cif.read_string(text).sole_block()
    assert block.find_value("_reflns.pdbx_Rmerge_I_obs") == "0.124"  # fraction, as PDBx wants
    assert block.find_value("_reflns.percent_possible_obs") == "96.2"  # percent
    assert list(block.find_values("_diffrn_radiation_wavelength.wavelength")) == ["0.9792", "0.9794", "0.9796"]
    assert gemmi.cif.as_string(block.find_value("_diffrn_source.pdbx_wavelength_list")) == "0.9792, 0.9794, 0.9796"
    shells = block.find_mmcif_category("_reflns_shell.")
    assert len(shells) == 2
    highs = sorted(float(v) for v in block.find_values("_reflns_shell.d_res_high"))
    assert highs == [1.45, 6.48]
    assert block.find_value("_diffrn_detector.pdbx_collection_date") == "2015-04-18"
    assert block.find_value("_exptl.method") == "'X-RAY DIFFRACTION'"


def test_4n8z_three_diffrn_rows_share_wavelength_rows(shared):
    record = ExportRecord.from_result(import_mmcif(shared.file("mmcif", "pdb_4n8z", "4n8z.cif")))
    block = gemmi.cif.read_string(export_mmcif(record)).sole_block()
    assert list(block.find_values("_diffrn.id")) == ["1", "2", "3"]
    assert list(block.find_values("_diffrn_source.pdbx_synchrotron_beamline")) == ["X12C", "X29A", "X25"]
    assert list(block.find_values("_diffrn_radiation_wavelength.wavelength")) == ["1.1", "1.075"]
    assert list(block.find_values("_diffrn_radiation.wavelength_id")) == ["1", "2", "1"]


def _ssx_record() -> ExportRecord:
    raw = {
        "beamline": "ID29", "facility": "ESRF", "source_type": "SYNCHROTRON", "wavelength": 0.976,
        "detector_model": "DECTRIS JUNGFRAU 4M", "detector_type": "PIXEL", "sample_temperature": 293.0,
        "start_time": datetime(2024, 3, 2, 14, 25), "collection_time_total_serial": 0.5,
        "sample_delivery_method": "fixed target", "photon_energy": 12.7, "pulse_duration": 90.0,
    }
    processed = {
        "space_group": "P 43 21 2", "cell_a": 78.1, "cell_b": 78.1, "cell_c": 37.2, "cell_alpha": 90.0,
        "cell_beta": 90.0, "cell_gamma": 90.0, "resolution_high": 1.7, "resolution_low": 39.05,
        "completeness": 100.0, "multiplicity": 310.5, "cc_half": 0.991, "r_split": 0.087,
        "mean_i_over_sigma": 6.2, "resolution_high_outer": 1.7, "resolution_low_outer": 1.73,
        "cc_half_outer": 0.31, "completeness_outer": 100.0, "resolution_high_inner": 4.61,
        "cc_half_inner": 0.994, "frames_total": 25600, "crystal_hits": 14100, "frames_indexed": 9950,
        "lattices_merged": 9800,
    }
    software = [{"name": "CrystFEL", "version": "0.11.1", "classification": "data reduction"},
                {"name": "partialator", "version": None, "classification": "data scaling"}]
    return ExportRecord(raw=[raw], processed=processed, software=software, technique="SSX", name="ssx-lyso")


def test_ssx_record_writes_serial_categories_that_the_dictionary_accepts(pdbx_dictionary):
    text = export_mmcif(_ssx_record())
    assert check_mmcif(text, pdbx_dictionary) == []
    block = gemmi.cif.read_string(text).sole_block()
    assert block.name == "ssx-lyso"
    assert block.find_value("_diffrn.pdbx_serial_crystal_experiment") == "Y"
    assert gemmi.cif.as_string(block.find_value("_pdbx_serial_crystallography_sample_delivery.method")) == \
        "fixed target"
    assert block.find_value("_pdbx_serial_crystallography_data_reduction.lattices_merged") == "9800"
    assert block.find_value("_pdbx_serial_crystallography_measurement.collection_time_total") == "0.5"
    assert block.find_value("_reflns.pdbx_R_split") == "0.087"
    # every serial item written is defined by the dictionaries (check_mmcif also checks this)
    serial = [t for item in block if item.pair for t in [item.pair[0]] if "serial" in t]
    assert serial and all(pdbx_dictionary.item_type(t) is not None for t in serial)


def test_ssx_record_round_trips():
    record = _ssx_record()
    result = import_mmcif(export_mmcif(record))
    assert result.technique == "SSX"
    for key, value in {**record.raw[0], **record.processed}.items():
        got = result.metadata[key]
        if isinstance(value, datetime):
            assert got.replace(tzinfo=None) == value
        else:
            assert _same(got, value) or got == approx(value), key
    assert [s["name"] for s in result.software] == ["CrystFEL", "partialator"]


def test_dictionary_check_catches_bad_serial_values(pdbx_dictionary):
    record = _ssx_record()
    record.processed["crystal_hits"] = 0  # range > 0 in xfel-extensions-v3
    problems = check_mmcif(export_mmcif(record), pdbx_dictionary)
    assert any("out of expected range" in p for p in problems)
    bad = export_mmcif(_ssx_record()).replace("sample_delivery.method", "sample_delivery.methd")
    assert any("sample_delivery.methd is not defined" in p for p in check_mmcif(bad, pdbx_dictionary))


def test_several_records_give_several_blocks_and_units_convert():
    first = ExportRecord(processed={"resolution_high": 2.0, "r_merge": 0.05}, name="a")
    second = ExportRecord(raw=[{"collection_time_total": 90.0, "wavelength": 1.0}],
                          processed={"resolution_high": 1.5}, name="a")
    text = export_mmcif([first, second])
    results = import_mmcif_blocks(text)
    assert [r.block for r in results] == ["a", "a_"]
    assert results[0].metadata["r_merge"] == approx(0.05)
    block = gemmi.cif.read_string(text)[1]
    assert block.find_value("_diffrn_detector.pdbx_collection_time_total") == "90"  # seconds in PDBx (MX)
    assert results[1].metadata["wavelength"] == approx(1.0)


def test_collection_keys_in_processed_are_used_when_there_is_no_raw():
    record = ExportRecord(processed={"beamline": "I04", "facility": "Diamond", "resolution_high": 1.9})
    block = gemmi.cif.read_string(export_mmcif(record)).sole_block()
    assert block.find_value("_diffrn_source.pdbx_synchrotron_beamline") == "I04"
    assert block.find_value("_reflns.d_resolution_high") == "1.9"


def test_unknown_key_warns_and_unwritable_value_raises():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_mmcif(ExportRecord(raw=[{"beamline": "I04", "odd_raw_key": 2}],
                                  processed={"no_such_term": 1, "resolution_high": 2.0}))
    for key in ("no_such_term", "odd_raw_key"):
        assert any(issubclass(w.category, OntologyTermWarning) and key in str(w.message) for w in caught)
    with pytest.raises(BadParameterError, match="resolution_high"):
        export_mmcif(ExportRecord(processed={"resolution_high": "high"}))
    with pytest.raises(BadParameterError, match="software entry 1 has no name"):
        export_mmcif(ExportRecord(software=[{"version": "1"}]))


def test_only_outer_shell():
    text = export_mmcif(ExportRecord(processed={"resolution_high": 2.0, "resolution_high_outer": 2.0,
                                                "r_merge_outer": 0.8}))
    block = gemmi.cif.read_string(text).sole_block()
    assert len(block.find_mmcif_category("_reflns_shell.")) == 1
    result = import_mmcif(text)
    assert result.metadata["r_merge_outer"] == approx(0.8) and "r_merge_inner" not in result.metadata


def test_loading_something_that_is_not_a_dictionary(tmp_path):
    path = tmp_path / "x.dic"
    path.write_text("data_x\n_cell.length_a 1.0\n")
    with pytest.raises(BadParameterError, match="not a DDL2 dictionary"):
        load_dictionaries([path])
    with pytest.raises(BadParameterError, match="cannot read dictionary"):
        load_dictionaries([tmp_path / "missing.dic"])


def test_values_as_catalogue_strings_are_parsed():
    record = ExportRecord(raw=[{"wavelength": "0.9763", "start_time": "2024-05-01T09:30:00+00:00"}],
                          processed={"resolution_high": "1.8", "n_unique_observations": "41234"})
    block = gemmi.cif.read_string(export_mmcif(record)).sole_block()
    assert block.find_value("_diffrn_radiation_wavelength.wavelength") == "0.9763"
    assert block.find_value("_diffrn_detector.pdbx_collection_date") == "2024-05-01:09:30"
    assert block.find_value("_reflns.number_obs") == "41234"


def test_source_type_and_method_follow_deposition_conventions():
    record = ExportRecord(raw=[{"facility": "Diamond", "beamline": "I03", "source_probe": "electron"}])
    block = gemmi.cif.read_string(export_mmcif(record)).sole_block()
    assert gemmi.cif.as_string(block.find_value("_diffrn_source.type")) == "DIAMOND BEAMLINE I03"
    assert gemmi.cif.as_string(block.find_value("_exptl.method")) == "ELECTRON CRYSTALLOGRAPHY"
