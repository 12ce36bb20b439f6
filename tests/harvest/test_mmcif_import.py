"""mmCIF import: the real files of ../shared/testdata (expected values from its README §3) and generated
mmCIF text for the edge cases (shell order, missing values, percent vs fraction, several blocks, v5_next)."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import pytest

from mxicat.errors import BadParameterError
from mxicat.harvest.mmcif import MmcifError, import_mmcif, import_mmcif_blocks

approx = pytest.approx


# ---- real files ---------------------------------------------------------------------------------------

def test_5i55_pdb_entry(shared):
    result = import_mmcif(shared.file("mmcif", "pdb_5i55", "5i55.cif"))
    m = result.metadata
    assert result.block == "5I55" and result.technique == "MX"
    assert (m["facility"], m["beamline"], m["source_type"]) == ("APS", "24-ID-C", "SYNCHROTRON")
    assert m["diffraction_protocol"] == "MAD"
    assert result.collections[0]["wavelength"] == [approx(0.9792), approx(0.9794), approx(0.9796)]
    assert m["wavelength"] == approx(0.9792)
    assert (m["detector_type"], m["detector_model"]) == ("PIXEL", "DECTRIS PILATUS 6M-F")
    assert m["start_time"].date() == datetime(2015, 4, 18).date()
    assert m["sample_temperature"] == approx(100.0)
    assert (m["space_group"], m["space_group_number"]) == ("P 1 21 1", 4)
    cell = [m[k] for k in ("cell_a", "cell_b", "cell_c", "cell_alpha", "cell_beta", "cell_gamma")]
    assert cell == approx([29.46, 10.51, 29.71, 90.0, 111.98, 90.0])
    assert m["number_of_crystals"] == 1
    # overall _reflns
    assert (m["resolution_low"], m["resolution_high"]) == (approx(16.55), approx(1.45))
    assert (m["n_unique_observations"], m["n_total_observations"]) == (3126, 59309)
    assert m["completeness"] == approx(96.2)  # percent
    assert m["multiplicity"] == approx(18.97)
    assert m["mean_i_over_sigma"] == approx(10.01)
    assert (m["r_merge"], m["r_meas"], m["cc_half"]) == (approx(0.124), approx(0.130), approx(0.998))  # fractions
    assert m["wilson_b"] == approx(18.998)
    # 20 shell rows high → low: outer = the smallest d_res_high (row 1), inner = the largest (last row)
    assert (m["resolution_high_outer"], m["resolution_low_outer"]) == (approx(1.45), approx(1.49))
    assert m["completeness_outer"] == approx(87.6)
    assert (m["r_merge_outer"], m["r_meas_outer"]) == (approx(0.458), approx(0.482))
    assert (m["mean_i_over_sigma_outer"], m["cc_half_outer"]) == (approx(3.78), approx(0.990))
    assert m["multiplicity_outer"] == approx(19.3)
    assert m["resolution_high_inner"] == approx(6.48)
    assert "resolution_low_inner" not in m  # '?' in the file: absent, not zero
    assert m["cc_half_inner"] == approx(1.0)
    assert result.sources["r_merge_outer"] == "_reflns_shell.Rmerge_I_obs"
    assert result.sources["completeness"] == "_reflns.percent_possible_obs"
    software = {(s["name"], s["version"], s["classification"]) for s in result.software}
    assert {("XDS", None, "data reduction"), ("XSCALE", None, "data scaling"), ("Arcimboldo", None, "phasing"),
            ("REFMAC", "5.7.0029", "refinement"), ("PDB_EXTRACT", "3.20", "data extraction")} == software
    assert m["software"] == "XSCALE, XDS"  # processing programs only, in _software order


def test_4n8z_three_collections_one_merged_dataset(shared):
    result = import_mmcif(shared.file("mmcif", "pdb_4n8z", "4n8z.cif"))
    assert result.diffrn_ids == ["1", "2", "3"]
    assert [c["beamline"] for c in result.collections] == ["X12C", "X29A", "X25"]
    assert [c["facility"] for c in result.collections] == ["NSLS"] * 3
    assert [c["wavelength"] for c in result.collections] == [approx(1.1), approx(1.075), approx(1.1)]
    assert result.collections[0]["sample_temperature"] == approx(100.0)
    assert "sample_temperature" not in result.collections[1]
    assert result.collections[0]["detector_model"] == "DECTRIS PILATUS 6M"
    m = result.metadata
    assert (m["beamline"], m["wavelength"]) == ("X12C", approx(1.1))  # _reflns.pdbx_diffrn_id 1
    assert any("differ in beamline" in w for w in result.warnings)
    assert (m["space_group"], m["space_group_number"]) == ("P 43 21 2", 96)
    assert [m["cell_a"], m["cell_b"], m["cell_c"]] == approx([79.15, 79.15, 36.28])
    assert (m["resolution_low"], m["resolution_high"]) == (approx(26.76), approx(1.2))
    assert (m["n_unique_observations"], m["completeness"]) == (34003, approx(97.78))
    assert (m["multiplicity"], m["mean_i_over_sigma"], m["r_merge"]) == (approx(1.9), approx(30.46), approx(0.079))
    # one shell row: the outer shell; no inner shell is invented from it
    assert m["r_merge_outer"] == approx(0.079) and "r_merge_inner" not in m
    assert any("only one _reflns_shell row" in w for w in result.warnings)
    assert m["number_of_crystals"] == 1  # _exptl.crystals_number, not the number of _diffrn rows
    assert [s["name"] for s in result.software] == ["CBASS", "MOLREP", "REFMAC", "HKL-2000", "HKL-2000"]
    assert m["software"] == "HKL-2000"


def test_6m9t_serial_excerpt(shared):
    result = import_mmcif(shared.file("mmcif", "pdb_6m9t_xfel_excerpt", "xfel_example_20200124.cif"))
    m = result.metadata
    assert result.technique == "SSX"
    assert m["serial_experiment"] is True
    assert (m["source_type"], m["detector_type"], m["detector_model"]) == ("FREE ELECTRON LASER", "PIXEL",
                                                                           "CS-PAD CXI-1")
    assert result.unmapped["_diffrn_source.type"] == "SLAC LCLS BEAMLINE CXI"  # kept, not lost
    assert m["frame_rate"] == approx(120.0)
    assert (m["frames_total"], m["crystal_hits"], m["frames_indexed"]) == (1311952, 32143, 28500)
    assert (m["frames_failed_index"], m["lattices_indexed"]) == (3643, 28500)
    assert "frame_hits" not in m and "droplet_hits" not in m  # '?' in the file
    assert m["pulse_duration"] == approx(40.0)
    assert m["pulse_repetition_rate"] == approx(120.0)
    assert m["photon_energy"] == approx(9.52)
    assert m["collimation"] == "KB mirrors"
    time_key = next(k for k, s in result.sources.items()
                    if s == "_pdbx_serial_crystallography_measurement.collection_time_total")
    assert m[time_key] in (approx(1.75), approx(6300.0))  # hours or seconds, per the term's unit
    assert m["sample_delivery_method"] == "injection"
    assert (m["injector_diameter"], m["injector_flow_rate"]) == (approx(50.0), approx(0.22))
    assert (m["carrier_solvent"], m["injector_nozzle"]) == ("LCP", "LCP")
    assert not any(k.startswith(("cell_", "space_group", "r_merge", "resolution")) for k in m)


def test_xia2_pdb_extract(shared):
    result = import_mmcif(shared.file("mmcif", "xia2_log_to_pdbx", "pdb_extract_coord_7048.cif"))
    m = result.metadata
    assert result.block == "UNNAMED"
    assert m["space_group"] == "P 32 2 1"
    assert [m[k] for k in ("cell_a", "cell_b", "cell_c", "cell_gamma")] == approx([60.085, 60.085, 122.377, 120])
    assert (m["resolution_low"], m["resolution_high"]) == (approx(47.89), approx(1.55))
    assert (m["n_unique_observations"], m["n_total_observations"]) == (37545, 328664)
    assert (m["completeness"], m["multiplicity"], m["mean_i_over_sigma"]) == (approx(99.0), approx(8.8), approx(7.1))
    assert (m["r_meas"], m["r_pim"], m["wilson_b"]) == (approx(0.108), approx(0.035), approx(16.44))
    assert "r_merge" not in m and "cc_half" not in m  # not in the file although the log has them
    # shells listed outer then inner
    assert (m["resolution_high_outer"], m["resolution_low_outer"]) == (approx(1.55), approx(1.58))
    assert (m["completeness_outer"], m["mean_i_over_sigma_outer"]) == (approx(86.2), approx(0.1))
    assert (m["multiplicity_outer"], m["r_meas_outer"], m["r_pim_outer"]) == (approx(4.4), approx(2.693),
                                                                              approx(1.217))
    assert (m["resolution_high_inner"], m["resolution_low_inner"]) == (approx(4.21), approx(47.91))
    assert m["mosaicity"] == approx(0.139)
    assert {"wavelength", "beamline", "detector_model", "start_time"}.isdisjoint(m)
    assert result.collections == []
    assert [s["name"] for s in result.software] == ["xia2", "PHASER", "REFMAC", "PDB_EXTRACT"]


def test_xds_pdb_extract_descending_ordinals(shared):
    result = import_mmcif(shared.file("mmcif", "xds_xscale_log_to_pdbx", "pdb_extract_coord_10466.cif"))
    m = result.metadata
    assert (m["space_group"], m["space_group_number"]) == ("P 1", 1)
    cell = [m[k] for k in ("cell_a", "cell_b", "cell_c", "cell_alpha", "cell_beta", "cell_gamma")]
    assert cell == approx([43.815, 48.517, 70.739, 82.700, 79.140, 72.410])
    assert (m["resolution_low"], m["resolution_high"]) == (approx(46.12), approx(2.15))
    assert (m["n_unique_observations"], m["n_total_observations"]) == (27300, 68282)
    assert (m["completeness"], m["multiplicity"], m["mean_i_over_sigma"]) == (approx(91.8), approx(2.501),
                                                                              approx(8.28))
    assert (m["r_merge"], m["r_meas"], m["cc_half"], m["wilson_b"]) == (approx(0.071), approx(0.090),
                                                                         approx(0.998), approx(49.892))
    # ordinals 9 → 1, first row is the outer shell 2.150-2.280
    assert (m["resolution_high_outer"], m["resolution_low_outer"]) == (approx(2.15), approx(2.28))
    assert (m["completeness_outer"], m["r_merge_outer"], m["r_meas_outer"]) == (approx(92.3), approx(0.881),
                                                                                approx(1.115))
    assert (m["mean_i_over_sigma_outer"], m["cc_half_outer"]) == (approx(0.92), approx(0.529))
    assert (m["resolution_high_inner"], m["resolution_low_inner"]) == (approx(6.39), approx(46.12))
    assert m["software"] == "XDS, XSCALE"


# ---- generated edge cases -----------------------------------------------------------------------------

STATS = """data_{name}
_reflns.entry_id {name}
_reflns.pdbx_ordinal 1
_reflns.pdbx_diffrn_id 1
_reflns.d_resolution_high 1.80
_reflns.d_resolution_low 40.0
_reflns.percent_possible_obs 99.5
_reflns.pdbx_Rmerge_I_obs {rmerge}
_reflns.pdbx_CC_half {cc}
_reflns.pdbx_redundancy ?
_reflns.pdbx_netI_over_sigmaI .
#
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.d_res_high
_reflns_shell.d_res_low
_reflns_shell.Rmerge_I_obs
_reflns_shell.percent_possible_all
_reflns_shell.pdbx_CC_half
3 3.50 40.0 0.031 99.9 0.999
1 1.80 1.85 0.950 98.0 0.401
2 2.40 2.50 0.210 ? .
"""


def test_shells_are_chosen_by_resolution_not_row_order_and_null_values_are_absent():
    result = import_mmcif(STATS.format(name="gen", rmerge="0.052", cc="0.997"))
    m = result.metadata
    assert (m["resolution_high_outer"], m["r_merge_outer"], m["cc_half_outer"]) == (approx(1.8), approx(0.95),
                                                                                      approx(0.401))
    assert (m["resolution_high_inner"], m["r_merge_inner"], m["completeness_inner"]) == (approx(3.5),
                                                                                         approx(0.031),
                                                                                         approx(99.9))
    assert "multiplicity" not in m and "mean_i_over_sigma" not in m  # '?' and '.'
    assert result.path is None and result.warnings == []


def test_percent_in_a_fraction_item_is_read_as_percent_with_a_warning():
    result = import_mmcif(STATS.format(name="pct", rmerge="0.052", cc="99.7"))
    assert result.metadata["cc_half"] == approx(0.997)
    assert any("_reflns.pdbx_CC_half" in w and "percent" in w for w in result.warnings)


def test_percent_possible_stays_percent_and_r_stays_fraction():
    m = import_mmcif(STATS.format(name="units", rmerge="0.052", cc="0.99")).metadata
    assert m["completeness"] == approx(99.5)
    assert m["r_merge"] == approx(0.052)


def test_bad_value_names_file_item_and_value(tmp_path):
    path = tmp_path / "bad.cif"
    path.write_text(STATS.format(name="bad", rmerge="abc", cc="0.99"))
    with pytest.raises(MmcifError) as info:
        import_mmcif(path)
    assert isinstance(info.value, BadParameterError)
    text = str(info.value)
    assert str(path) in text and "_reflns.pdbx_Rmerge_I_obs" in text and "'abc'" in text
    assert info.value.item == "_reflns.pdbx_Rmerge_I_obs" and info.value.value == "abc"


def test_out_of_range_value_is_an_error():
    with pytest.raises(MmcifError, match="percent_possible_obs"):
        import_mmcif(STATS.format(name="r", rmerge="0.05", cc="0.9").replace("99.5", "150.0"))


@pytest.mark.parametrize("content", ["not a cif file at all", "data_x\n_a.b 1\n_a.b 2\n"])
def test_unparsable_text_is_a_typed_error(tmp_path, content):
    path = tmp_path / "broken.cif"
    path.write_text(content)
    with pytest.raises(MmcifError, match="cannot read mmCIF") as info:
        import_mmcif(path)
    assert str(path) in str(info.value)


def test_missing_file_and_empty_block():
    with pytest.raises(MmcifError, match="cannot read"):
        import_mmcif(Path("/nonexistent/x.cif"))
    with pytest.raises(MmcifError, match="no PDBx"):
        import_mmcif("data_empty\n_citation.title 'nothing here'\n")


def test_gzip_file(tmp_path):
    path = tmp_path / "stats.cif.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(STATS.format(name="gz", rmerge="0.05", cc="0.9"))
    assert import_mmcif(path).metadata["r_merge"] == approx(0.05)


def test_several_blocks():
    text = STATS.format(name="first", rmerge="0.05", cc="0.9") + STATS.format(name="second", rmerge="0.07",
                                                                             cc="0.8")
    results = import_mmcif_blocks(text)
    assert [r.block for r in results] == ["first", "second"]
    assert [r.metadata["r_merge"] for r in results] == [approx(0.05), approx(0.07)]
    assert import_mmcif(text, block="second").metadata["cc_half"] == approx(0.8)
    with pytest.raises(MmcifError, match="2 data blocks"):
        import_mmcif(text)
    with pytest.raises(MmcifError, match="no data block 'third'"):
        import_mmcif(text, block="third")


def test_several_reflns_rows_take_the_lowest_ordinal_and_its_shells():
    text = """data_multi
loop_
_reflns.pdbx_ordinal
_reflns.pdbx_diffrn_id
_reflns.d_resolution_high
_reflns.pdbx_Rmerge_I_obs
2 2 2.2 0.09
1 1 1.9 0.06
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.pdbx_diffrn_id
_reflns_shell.d_res_high
_reflns_shell.Rmerge_I_obs
1 1 1.9 0.7
2 2 2.2 0.8
3 1 5.0 0.02
"""
    result = import_mmcif(text)
    m = result.metadata
    assert (m["resolution_high"], m["r_merge"]) == (approx(1.9), approx(0.06))
    assert (m["r_merge_outer"], m["r_merge_inner"]) == (approx(0.7), approx(0.02))
    assert any("_reflns has 2 rows" in w for w in result.warnings)


def test_no_shells_and_esd_values():
    text = """data_esd
_cell.length_a 78.123(4)
_cell.length_b 78.123(4)
_cell.length_c 37.2(1)
_symmetry.space_group_name_H-M 'P 43 21 2'
_reflns.d_resolution_high 1.5
"""
    m = import_mmcif(text).metadata
    assert m["cell_a"] == approx(78.123) and m["cell_c"] == approx(37.2)
    assert not any(k.endswith(("_inner", "_outer")) for k in m)


def test_dials_v5_next_merge_statistics():
    text = """data_dials
_pdbx_diffrn_data_section.id ds-merge-1
_pdbx_diffrn_data_section.type_scattering x-ray
_pdbx_diffrn_data_section.type_merged true
_pdbx_diffrn_data_section.type_scaled true
_pdbx_diffrn_merge_stat.data_section_id ds-merge-1
_pdbx_diffrn_merge_stat.d_limit_high 1.32
_pdbx_diffrn_merge_stat.d_limit_low 150.0
_pdbx_diffrn_merge_stat.number_obs 300000
_pdbx_diffrn_merge_stat.mean_I_over_sigI_all 10.7
_pdbx_diffrn_merge_stat.Rmerge_all 0.069
_pdbx_diffrn_merge_stat.Rpim_I_all 0.033
_pdbx_diffrn_merge_stat.CC_half_all 0.999
_pdbx_diffrn_merge_stat.percent_possible_obs 98.2
loop_
_pdbx_diffrn_merge_stat_shell.ordinal_id
_pdbx_diffrn_merge_stat_shell.d_limit_high
_pdbx_diffrn_merge_stat_shell.d_limit_low
_pdbx_diffrn_merge_stat_shell.Rmerge_all
_pdbx_diffrn_merge_stat_shell.CC_half_all
_pdbx_diffrn_merge_stat_shell.percent_possible_obs
1 1.32 1.60 0.72 0.98 98.0
2 4.00 150.0 0.03 0.999 99.9
_pdbx_diffrn_merged_cell.data_section_id ds-merge-1
_pdbx_diffrn_merged_cell.cell_length_a 57.8
_pdbx_diffrn_merged_cell.cell_length_b 57.8
_pdbx_diffrn_merged_cell.cell_length_c 150.0
_pdbx_diffrn_merged_cell.cell_angle_alpha 90
_pdbx_diffrn_merged_cell.cell_angle_beta 90
_pdbx_diffrn_merged_cell.cell_angle_gamma 90
_pdbx_diffrn_symmetry.data_section_id ds-merge-1
_pdbx_diffrn_symmetry.space_group_name_H-M 'P 41 21 2'
loop_
_pdbx_diffrn_scan.scan_id
_pdbx_diffrn_scan.crystal_id
_pdbx_diffrn_scan.image_id_begin
_pdbx_diffrn_scan.image_id_end
_pdbx_diffrn_scan.scan_angle_begin
_pdbx_diffrn_scan.scan_angle_end
1 1 1 3600 0.0 360.0
2 1 1 900 10.0 100.0
"""
    result = import_mmcif(text)
    m = result.metadata
    assert (m["resolution_high"], m["resolution_low"], m["n_unique_observations"]) == (approx(1.32),
                                                                                       approx(150.0), 300000)
    assert (m["r_merge"], m["r_pim"], m["cc_half"], m["completeness"]) == (approx(0.069), approx(0.033),
                                                                            approx(0.999), approx(98.2))
    assert m["mean_i_over_sigma"] == approx(10.7)
    assert (m["r_merge_outer"], m["cc_half_outer"], m["completeness_outer"]) == (approx(0.72), approx(0.98),
                                                                                  approx(98.0))
    assert m["resolution_high_inner"] == approx(4.0)
    assert (m["space_group"], m["cell_a"], m["cell_c"]) == ("P 41 21 2", approx(57.8), approx(150.0))
    assert result.sources["r_merge"] == "_pdbx_diffrn_merge_stat.Rmerge_all"
    scan = {k: v for k, v in result.sources.items() if v.startswith("_pdbx_diffrn_scan.")}
    assert sorted(m[k] for k in scan) == approx([0.0, 1, 360.0, 3600])  # the first sweep
    assert any("_pdbx_diffrn_scan: 2 rows" in w for w in result.warnings)


def test_reflns_wins_over_v5_next_when_both_present():
    text = STATS.format(name="both", rmerge="0.05", cc="0.9") + (
        "_pdbx_diffrn_merge_stat.data_section_id s\n_pdbx_diffrn_merge_stat.Rmerge_all 0.05\n"
        "_pdbx_diffrn_merge_stat.Rpim_I_all 0.02\n")
    result = import_mmcif(text)
    assert result.sources["r_merge"] == "_reflns.pdbx_Rmerge_I_obs"
    assert result.metadata["r_pim"] == approx(0.02)  # only in the v5_next category
    assert result.warnings == []


def test_serial_fixed_target_and_unit_conversion():
    text = """data_ssx
_diffrn.id 1
_diffrn.pdbx_serial_crystal_experiment Y
_diffrn.ambient_temp 293
_diffrn_radiation_wavelength.id 1
_diffrn_radiation_wavelength.wavelength 0.976
_diffrn_radiation.diffrn_id 1
_diffrn_radiation.wavelength_id 1
_diffrn_detector.diffrn_id 1
_diffrn_detector.pdbx_collection_date 2024-03-02:14:25
_pdbx_serial_crystallography_sample_delivery.diffrn_id 1
_pdbx_serial_crystallography_sample_delivery.method 'fixed target'
_pdbx_serial_crystallography_data_reduction.diffrn_id 1
_pdbx_serial_crystallography_data_reduction.frames_total 25600
_pdbx_serial_crystallography_data_reduction.lattices_merged 9800
"""
    result = import_mmcif(text)
    m = result.metadata
    assert result.technique == "SSX"
    assert m["sample_delivery_method"] == "fixed target"
    assert (m["frames_total"], m["lattices_merged"]) == (25600, 9800)
    assert m["wavelength"] == approx(0.976) and m["sample_temperature"] == approx(293.0)
    assert m["start_time"].replace(tzinfo=None) == datetime(2024, 3, 2, 14, 25)
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.wavelength"


def test_enumeration_is_checked():
    text = ("data_x\n_pdbx_serial_crystallography_sample_delivery.diffrn_id 1\n"
            "_pdbx_serial_crystallography_sample_delivery.method catapult\n")
    with pytest.raises(MmcifError, match="catapult"):
        import_mmcif(text)


def test_space_group_category_spelling():
    text = """data_sg
_space_group.name_H-M_alt 'C 1 2 1'
_space_group.IT_number 5
_cell.length_a 100.1
"""
    result = import_mmcif(text)
    assert (result.metadata["space_group"], result.metadata["space_group_number"]) == ("C 1 2 1", 5)
    assert result.sources["space_group"] == "_space_group.name_H-M_alt"


def test_unmapped_items_are_kept(shared):
    result = import_mmcif(shared.file("mmcif", "pdb_5i55", "5i55.cif"))
    assert result.unmapped["_exptl_crystal.description"] == "Needle-shaped microcrystal"
    assert result.unmapped["_diffrn_source.type"] == "APS BEAMLINE 24-ID-C"
    assert not any(item.endswith((".id", ".diffrn_id", ".pdbx_ordinal")) for item in result.unmapped)


def test_the_one_block_with_statistics_is_chosen():
    text = "data_meta\n_diffrn_source.diffrn_id 1\n_diffrn_source.pdbx_synchrotron_beamline I04\n" + STATS.format(
        name="stats", rmerge="0.05", cc="0.9")
    assert [r.block for r in import_mmcif_blocks(text)] == ["meta", "stats"]
    assert import_mmcif(text).block == "stats"


def test_site_and_beamline_from_the_deposition_source_type(shared):
    result = import_mmcif(shared.file("mmcif", "pdb_6m9t_xfel_excerpt", "xfel_example_20200124.cif"))
    assert (result.metadata["facility"], result.metadata["beamline"]) == ("SLAC LCLS", "CXI")
    assert result.sources["beamline"] == "_diffrn_source.type"
    explicit = import_mmcif(shared.file("mmcif", "pdb_5i55", "5i55.cif"))
    assert explicit.sources["beamline"] == "_diffrn_source.pdbx_synchrotron_beamline"


def test_two_spellings_of_one_shell_statistic_keep_the_ontology_item():
    text = """data_two
_reflns.d_resolution_high 2.0
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.d_res_high
_reflns_shell.pdbx_netI_over_sigmaI_obs
_reflns_shell.meanI_over_sigI_obs
1 2.0 1.1 1.3
2 6.0 30.0 30.0
"""
    result = import_mmcif(text)
    from mxicat.ontology import load_ontology

    listed = [i for i in load_ontology().term("mean_i_over_sigma").mmcif if i.startswith("_reflns_shell.")]
    assert result.sources["mean_i_over_sigma_outer"] == listed[0]
    assert result.metadata["mean_i_over_sigma_outer"] == approx(1.3 if listed[0].endswith("meanI_over_sigI_obs")
                                                                else 1.1)
    assert any("mean_i_over_sigma_outer" in w and "kept the first" in w for w in result.warnings)
