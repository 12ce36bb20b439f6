"""mmCIF import of shapes found in real public files (PDB entries 7JUN, 5R7Y, 7CWB, the PDB-REDO output of
3DG1 in gemmi's tests, published versions of the DIALS v5_next extension). Each test writes a small block of
that shape; the real files themselves are not part of the repository."""

from __future__ import annotations

import gemmi
import pytest

from mxicat.harvest.mmcif import import_mmcif
from mxicat.mx.mmcif_export import ExportRecord, export_mmcif

approx = pytest.approx

# Joint X-ray/neutron entry (7JUN): two _diffrn rows, the neutron source lists a wavelength *range*, both
# _reflns rows and both _reflns_shell rows claim pdbx_diffrn_id 1, and _refine has one row per method.
JOINT_XRAY_NEUTRON = """data_JOINT
loop_
_diffrn.id
_diffrn.ambient_temp
_diffrn.crystal_id
1 293 1
2 293 1
loop_
_diffrn_radiation.diffrn_id
_diffrn_radiation.wavelength_id
_diffrn_radiation.pdbx_diffrn_protocol
_diffrn_radiation.pdbx_scattering_type
1 1 'SINGLE WAVELENGTH' x-ray
2 3 LAUE neutron
loop_
_diffrn_radiation_wavelength.id
_diffrn_radiation_wavelength.wavelength
1 1.54
2 2.0
3 4.0
loop_
_diffrn_source.diffrn_id
_diffrn_source.source
_diffrn_source.pdbx_wavelength_list
_diffrn_source.pdbx_synchrotron_beamline
_diffrn_source.pdbx_synchrotron_site
1 'ROTATING ANODE' 1.54 ? ?
2 'SPALLATION SOURCE' 2.0-4.0 MANDI 'ORNL Spallation Neutron Source'
loop_
_reflns.pdbx_ordinal
_reflns.pdbx_diffrn_id
_reflns.d_resolution_high
_reflns.d_resolution_low
_reflns.percent_possible_obs
_reflns.pdbx_Rmerge_I_obs
1 1 2.30 56.32 97.9 0.129
2 1 2.50 14.95 83.9 0.190
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.pdbx_diffrn_id
_reflns_shell.d_res_high
_reflns_shell.d_res_low
_reflns_shell.percent_possible_all
_reflns_shell.Rmerge_I_obs
1 1 2.3 2.38 96.1 0.589
2 1 2.5 2.59 83.3 0.333
loop_
_refine.entry_id
_refine.pdbx_refine_id
_refine.ls_d_res_high
_refine.ls_R_factor_R_free
_refine.ls_R_factor_R_work
_refine.pdbx_diffrn_id
JOINT 'X-RAY DIFFRACTION'   2.30 0.220 0.185 ?
JOINT 'NEUTRON DIFFRACTION' 2.50 0.253 0.201 ?
"""


def test_wavelength_range_is_read_as_its_limits_not_a_crash():
    result = import_mmcif(JOINT_XRAY_NEUTRON)
    neutron = result.collections[result.diffrn_ids.index("2")]
    assert neutron["wavelength"] == [approx(2.0), approx(4.0)]
    assert neutron["source_probe"] == "neutron" and neutron["beamline"] == "MANDI"
    assert any("_diffrn_source.pdbx_wavelength_list" in w and "range" in w for w in result.warnings)
    assert result.metadata["wavelength"] == approx(1.54)  # the collection the statistics belong to


def test_unreadable_wavelength_list_warns_and_falls_back_to_the_wavelength_rows():
    text = """data_odd
_diffrn.id 1
_diffrn_radiation.diffrn_id 1
_diffrn_radiation.wavelength_id 1
_diffrn_radiation_wavelength.id 1
_diffrn_radiation_wavelength.wavelength 0.9763
_diffrn_source.diffrn_id 1
_diffrn_source.pdbx_wavelength_list 'see details'
_reflns.d_resolution_high 1.8
"""
    result = import_mmcif(text)
    assert result.metadata["wavelength"] == approx(0.9763)
    assert result.sources["wavelength"] == "_diffrn_radiation_wavelength.wavelength"
    assert any("'see details'" in w and "_diffrn_source.pdbx_wavelength_list" in w for w in result.warnings)


def test_another_data_sets_shell_is_not_taken_as_the_inner_shell():
    result = import_mmcif(JOINT_XRAY_NEUTRON)
    m = result.metadata
    assert (m["resolution_high"], m["r_merge"]) == (approx(2.30), approx(0.129))  # _reflns ordinal 1
    assert (m["resolution_high_outer"], m["r_merge_outer"]) == (approx(2.3), approx(0.589))
    assert not any(k.endswith("_inner") for k in m)
    assert any("not an inner shell" in w and "56.32" in w for w in result.warnings)


def test_inner_shell_reaching_the_low_resolution_limit_is_still_read():
    text = """data_two_shells
_reflns.d_resolution_high 1.65
_reflns.d_resolution_low 54.79
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.d_res_high
_reflns_shell.d_res_low
_reflns_shell.Rmerge_I_obs
1 1.650 1.680 1.570
2 9.030 54.790 0.039
"""
    m = import_mmcif(text).metadata
    assert (m["resolution_high_inner"], m["resolution_low_inner"], m["r_merge_inner"]) == (
        approx(9.03),
        approx(54.79),
        approx(0.039),
    )
    assert m["r_merge_outer"] == approx(1.57)  # an outer-shell R above 1 stays as it is (fraction, not percent)


def test_refinement_row_of_a_joint_entry_and_crystal_growth():
    result = import_mmcif(
        JOINT_XRAY_NEUTRON
        + """_exptl_crystal_grow.crystal_id 1
_exptl_crystal_grow.method 'VAPOR DIFFUSION, SITTING DROP'
_exptl_crystal_grow.pH ?
_exptl_crystal_grow.temp 287
"""
    )
    m = result.metadata
    assert (m["refinement_r_free"], m["refinement_r_cryst"]) == (approx(0.220), approx(0.185))
    assert result.sources["refinement_r_free"] == "_refine.ls_R_factor_R_free"
    assert m["crystal_growth_method"] == "VAPOR DIFFUSION, SITTING DROP" and "crystal_growth_ph" not in m
    assert any("_refine: 2 rows; read the first (X-RAY DIFFRACTION)" in w for w in result.warnings)
    # only the claimed items of these categories are read: refinement details are not "unmapped" metadata
    assert not any(k.startswith(("_refine.", "_exptl_crystal_grow.")) for k in result.unmapped)


def test_refinement_row_of_the_statistics_data_set_is_preferred():
    text = """data_pick
_reflns.pdbx_ordinal 1
_reflns.pdbx_diffrn_id 2
_reflns.d_resolution_high 2.0
loop_
_refine.pdbx_refine_id
_refine.pdbx_diffrn_id
_refine.ls_R_factor_R_free
'X-RAY DIFFRACTION' 1 0.25
'X-RAY DIFFRACTION' 2 0.21
"""
    result = import_mmcif(text)
    assert result.metadata["refinement_r_free"] == approx(0.21)
    assert any("_diffrn.id 2" in w for w in result.warnings)


def test_bad_value_in_a_supplementary_category_is_a_warning():
    text = """data_ph
_reflns.d_resolution_high 2.0
_exptl_crystal_grow.crystal_id 1
_exptl_crystal_grow.method 'BATCH MODE'
_exptl_crystal_grow.pH 6.5-7.5
"""
    result = import_mmcif(text)
    assert result.metadata["crystal_growth_method"] == "BATCH MODE"
    assert "crystal_growth_ph" not in result.metadata
    assert any("_exptl_crystal_grow.pH" in w and "6.5-7.5" in w for w in result.warnings)


def test_refinement_only_output_gives_cell_growth_and_r_factors():
    # PDB-REDO / REFMAC output (3DG1 in gemmi's tests): no _diffrn or _reflns at all
    text = """data_3DG1
_cell.entry_id XXXX
_cell.length_a 41.400
_cell.length_b 4.785
_cell.length_c 18.594
_cell.angle_alpha 90.00
_cell.angle_beta 115.88
_cell.angle_gamma 90.00
_symmetry.entry_id XXXX
_symmetry.space_group_name_H-M 'C 1 2 1'
_exptl_crystal_grow.crystal_id 1
_exptl_crystal_grow.method 'VAPOR DIFFUSION, HANGING DROP'
loop_
_software.pdbx_ordinal
_software.classification
_software.name
_software.version
1 refinement REFMAC ?
2 refinement REFMAC 5.8.0158
_refine.entry_id XXXX
_refine.pdbx_refine_id 'X-RAY DIFFRACTION'
_refine.ls_R_factor_R_work 0.20105
_refine.ls_R_factor_R_free 0.23111
_refine.details
;
U VALUES : WITH TLS ADDED
;
"""
    result = import_mmcif(text)
    m = result.metadata
    assert (m["space_group"], m["cell_b"]) == ("C 1 2 1", approx(4.785))
    assert (m["refinement_r_free"], m["refinement_r_cryst"]) == (approx(0.23111), approx(0.20105))
    assert "software" not in m  # refinement programs are not the processing software
    assert result.unmapped == {}


def test_exported_block_keeps_growth_and_refinement():
    result = import_mmcif(JOINT_XRAY_NEUTRON + "_exptl_crystal_grow.crystal_id 1\n_exptl_crystal_grow.pH 6.6\n")
    text = export_mmcif(ExportRecord.from_result(result))
    block = gemmi.cif.read_string(text).sole_block()
    assert block.find_value("_refine.ls_R_factor_R_free") == "0.22"
    assert gemmi.cif.as_string(block.find_value("_refine.pdbx_refine_id")) == "NEUTRON DIFFRACTION"  # probes
    again = import_mmcif(text)
    assert again.metadata["crystal_growth_ph"] == approx(6.6)
    assert again.metadata["refinement_r_cryst"] == approx(0.185)


def test_v5_next_merge_statistics_with_the_d_resolution_spelling():
    text = """data_v5
_pdbx_diffrn_merge_stat.data_section_id ds-merge-1
_pdbx_diffrn_merge_stat.d_resolution_high 1.32
_pdbx_diffrn_merge_stat.d_resolution_low 150.0
_pdbx_diffrn_merge_stat.Rmerge_all 0.069
_pdbx_diffrn_merge_stat.percent_possible_obs 98.2
loop_
_pdbx_diffrn_merge_stat_shell.ordinal_id
_pdbx_diffrn_merge_stat_shell.d_resolution_high
_pdbx_diffrn_merge_stat_shell.d_resolution_low
_pdbx_diffrn_merge_stat_shell.Rmerge_all
1 1.32 1.60 0.72
2 4.00 150.0 0.03
"""
    m = import_mmcif(text).metadata
    assert (m["resolution_high"], m["resolution_low"], m["completeness"]) == (approx(1.32), approx(150.0), approx(98.2))
    assert (m["resolution_high_outer"], m["r_merge_outer"]) == (approx(1.32), approx(0.72))
    assert (m["resolution_high_inner"], m["r_merge_inner"]) == (approx(4.0), approx(0.03))
