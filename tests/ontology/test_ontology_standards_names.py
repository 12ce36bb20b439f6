"""The proposed term table of standards.md §3 is covered: each name resolves (canonical or alias) and its
PDBx item, where the table gives one, maps back to the same term."""

from __future__ import annotations

import pytest

from mxicat.ontology import Ontology, load_ontology

# (standards.md §3 name, mxicat term, PDBx item from the table or None)
TABLE: list[tuple[str, str, str | None]] = [
    ("facility", "facility", "_diffrn_source.pdbx_synchrotron_site"),
    ("beamline", "beamline", "_diffrn_source.pdbx_synchrotron_beamline"),
    ("source_class", "source_type", "_diffrn_source.source"),
    ("probe", "source_probe", "_diffrn_radiation.pdbx_scattering_type"),
    ("diffrn_protocol", "diffraction_protocol", "_diffrn_radiation.pdbx_diffrn_protocol"),
    ("wavelength", "wavelength", "_diffrn_radiation_wavelength.wavelength"),
    ("photon_energy", "photon_energy", "_pdbx_serial_crystallography_measurement.pulse_photon_energy"),
    ("total_flux", "flux", None),
    ("transmission", "transmission", None),
    ("pulse_energy", "pulse_energy", "_pdbx_serial_crystallography_measurement.pulse_energy"),
    ("pulse_duration", "pulse_duration", "_pdbx_serial_crystallography_measurement.pulse_duration"),
    ("pulse_repetition_rate", "pulse_repetition_rate",
     "_pdbx_serial_crystallography_measurement.xfel_pulse_repetition_rate"),
    ("detector_class", "detector_type", "_diffrn_detector.detector"),
    ("detector_model", "detector_model", "_diffrn_detector.type"),
    ("detector_serial", "detector_serial", None),
    ("detector_distance", "detector_distance", None),
    ("beam_center_x", "beam_center_x", None),
    ("beam_center_y", "beam_center_y", None),
    ("pixel_size_fast", "pixel_size_x", None),
    ("pixel_size_slow", "pixel_size_y", None),
    ("sensor_material", "sensor_material", None),
    ("sensor_thickness", "sensor_thickness", None),
    ("exposure_time", "exposure_time", None),
    ("frame_time", "frame_time", None),
    ("saturation_value", "saturation_value", None),
    ("collection_start", "start_time", "_diffrn_detector.pdbx_collection_date"),
    ("collection_end", "end_time", None),
    ("collection_time_total", "collection_time_total", "_diffrn_detector.pdbx_collection_time_total"),
    ("n_images", "number_of_images", "_diffrn_detector.pdbx_frames_total"),
    ("scan_axis", "rotation_axis", None),
    ("scan_start", "oscillation_start", "_pdbx_diffrn_scan.scan_angle_begin"),
    ("scan_increment", "oscillation_width", None),
    ("scan_end", "oscillation_end", "_pdbx_diffrn_scan.scan_angle_end"),
    ("serial_experiment", "serial_experiment", "_diffrn.pdbx_serial_crystal_experiment"),
    ("sample_name", "sample_name", None),
    ("sample_temperature", "sample_temperature", "_diffrn.ambient_temp"),
    ("delivery_method", "sample_delivery_method", "_pdbx_serial_crystallography_sample_delivery.method"),
    ("injector_flow_rate", "injector_flow_rate",
     "_pdbx_serial_crystallography_sample_delivery_injection.flow_rate"),
    ("fixed_target_holder", "fixed_target_holder",
     "_pdbx_serial_crystallography_sample_delivery_fixed_target.sample_holding"),
    ("space_group", "space_group", "_symmetry.space_group_name_H-M"),
    ("d_min", "resolution_high", "_reflns.d_resolution_high"),
    ("d_max", "resolution_low", "_reflns.d_resolution_low"),
    ("n_unique", "n_unique_observations", "_reflns.number_obs"),
    ("n_measured", "n_total_observations", "_reflns.pdbx_number_measured_all"),
    ("completeness", "completeness", "_reflns.percent_possible_obs"),
    ("multiplicity", "multiplicity", "_reflns.pdbx_redundancy"),
    ("i_over_sigma", "mean_i_over_sigma", "_reflns.pdbx_netI_over_sigmaI"),
    ("r_merge", "r_merge", "_reflns.pdbx_Rmerge_I_obs"),
    ("r_meas", "r_meas", "_reflns.pdbx_Rrim_I_all"),
    ("r_pim", "r_pim", "_reflns.pdbx_Rpim_I_all"),
    ("cc_half", "cc_half", "_reflns.pdbx_CC_half"),
    ("cc_star", "cc_star", "_reflns.pdbx_CC_star"),
    ("r_split", "r_split", "_reflns.pdbx_R_split"),
    ("wilson_b", "wilson_b", "_reflns.B_iso_Wilson_estimate"),
    ("mosaicity", "mosaicity", "_exptl_crystal.pdbx_mosaicity"),
    ("crystals_number", "number_of_crystals", "_exptl.crystals_number"),
    ("software", "software", "_software.name"),
    ("frames_hit", "frames_hit", "_pdbx_serial_crystallography_data_reduction.frame_hits"),
    ("frames_indexed", "frames_indexed", "_pdbx_serial_crystallography_data_reduction.frames_indexed"),
    ("lattices_indexed", "lattices_indexed",
     "_pdbx_serial_crystallography_data_reduction.lattices_indexed"),
    ("lattices_merged", "lattices_merged", "_pdbx_serial_crystallography_data_reduction.lattices_merged"),
]

# Multi-valued groups of the table, represented by their component terms instead of one term.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "beam_size": ("beam_size_x", "beam_size_y", "focal_spot_size"),
    "detector_size_px": ("detector_size_x", "detector_size_y"),
    "scan_image_range": ("start_image_number", "number_of_images"),
    "goniometer_angles": ("oscillation_start", "kappa_start", "phi_start"),
    "unit_cell": ("cell_a", "cell_b", "cell_c", "cell_alpha", "cell_beta", "cell_gamma"),
    "shell_stats": ("resolution_high", "completeness", "r_merge", "cc_half", "r_split"),
}


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


@pytest.mark.parametrize(("name", "term", "item"), TABLE, ids=[row[0] for row in TABLE])
def test_standards_name(ont: Ontology, name: str, term: str, item: str | None) -> None:
    assert ont.term(name).name == term
    if item is not None:
        found = ont.by_mmcif(item)
        assert found is not None and found.name == term


@pytest.mark.parametrize(("group", "terms"), sorted(COMPONENTS.items()))
def test_standards_groups_have_component_terms(ont: Ontology, group: str, terms: tuple[str, ...]) -> None:
    assert ont.resolve(group) is None
    for name in terms:
        assert name in ont.terms


def test_shell_terms_carry_reflns_shell_items(ont: Ontology) -> None:
    for name in COMPONENTS["shell_stats"]:
        term = ont.terms[name]
        assert term.shells and any(i.startswith("_reflns_shell.") for i in term.mmcif)
