"""Every ESRF MX name listed in the reference (mx-metadata.md §7.2–7.5) resolves to an ontology term.

The lists are copied from the reference by hand, table by table, so a name dropped from the YAML fails here.
"""

from __future__ import annotations

import pytest

from mxicat.ontology import SHELLS, Ontology, load_ontology

# §7.1 top-level names and §7.2 raw data-collection parameters (MXCuBE ICATLIMS, IcatMx)
RAW_72: dict[str, str] = {
    "Sample_name": "sample_name",
    "startDate": "start_time",
    "endDate": "end_time",
    "definition": "definition",
    "technique_pid": "technique_pid",
    "technique_pid_esrfet_version": "technique_pid_version",
    "MX_scanType": "scan_type",
    "scanType": "scan_type",
    "MX_dataCollectionId": "data_collection_id",
    "MX_directory": "directory",
    "MX_template": "template",
    "MX_numberOfImages": "number_of_images",
    "MX_startImageNumber": "start_image_number",
    "MX_exposureTime": "exposure_time",
    "MX_oscillationRange": "oscillation_width",
    "MX_axis_start": "oscillation_start",
    "MX_oscillationStart": "oscillation_start",
    "MX_oscillationOverlap": "oscillation_overlap",
    "MX_axis_end": "oscillation_end",
    "MX_rotation_axis": "rotation_axis",
    "MX_axis_range": "rotation_axis",
    "MX_detectorDistance": "detector_distance",
    "MX_resolution": "edge_resolution",
    "MX_resolution_at_corner": "corner_resolution",
    "MX_transmission": "transmission",
    "MX_flux": "flux",
    "MX_fluxEnd": "flux_end",
    "MX_beamShape": "beam_shape",
    "MX_beamSizeAtSampleX": "beam_size_x",
    "MX_beamSizeAtSampleY": "beam_size_y",
    "MX_xBeam": "beam_position_x",
    "MX_yBeam": "beam_position_y",
    "MX_wavelength": "wavelength",
    "MX_aperture": "aperture",
    "MX_motors_name": "motors_name",
    "MX_motors_value": "motors_value",
    "MX_kappa_settings_id": "kappa_settings_id",
    "MX_characterisation_id": "characterisation_id",
    "MX_position_id": "position_id",
    "MX_positionName": "position_name",
    "MX_crystalPositionName": "position_name",
    "Workflow_name": "workflow_name",
    "Workflow_type": "workflow_type",
    "Workflow_id": "workflow_id",
    "Workflow_note": "workflow_note",
    "group_by": "group_by",
    "input_datasets": "input_datasets",
    "machine": "machine",
    "software": "software",
    "investigationId": "investigation_id",
    "InstrumentMonochromator_wavelength": "wavelength",
    "InstrumentMonochromator_energy": "photon_energy",
    "InstrumentMonochromatorCrystal_type": "monochromator_type",
    "InstrumentSource_current": "source_current",
    "InstrumentSource_mode": "source_mode",
    "InstrumentSource_name": "facility",
    "InstrumentDetector01_model": "detector_model",
    "InstrumentDetector01_manufacturer": "detector_manufacturer",
    "InstrumentDetector01_type": "detector_type",
    "InstrumentDetector01_beam_center_x": "beam_center_x",
    "InstrumentDetector01_beam_center_y": "beam_center_y",
    "InstrumentDetector01_distance": "detector_distance",
    "InstrumentBeam_horizontal_incident_beam_divergence": "beam_divergence_horizontal",
    "InstrumentBeam_vertical_incident_beam_divergence": "beam_divergence_vertical",
    "InstrumentBeam_final_polarization": "beam_polarisation",
    "InstrumentCryostat01_value": "sample_temperature",
    "SampleProtein_acronym": "protein_acronym",
    "SampleChanger_position": "sample_changer_position",
    "SampleTrackingContainer_id": "container_id",
    "SampleTrackingContainer_type": "container_type",
    "SampleTrackingContainer_capacity": "container_capacity",
    "SampleTrackingContainer_position": "container_position",
    "SampleTrackingParcel_id": "parcel_id",
    "SampleTrackingParcel_name": "parcel_name",
    "Instrument_beamlineID": "beamline",
    "beamlineID": "beamline",
    # energy / fluorescence scans (flat keys, no definitions yet)
    "MX_element": "element",
    "MX_edgeEnergy": "edge_energy",
    "MX_startEnergy": "scan_start_energy",
    "MX_endEnergy": "scan_end_energy",
    "MX_peakEnergy": "peak_energy",
    "MX_inflectioEnergy": "inflection_energy",
    "MX_inflectionEnergy": "inflection_energy",
    "MX_remoteEnergy": "remote_energy",
    "MX_peakFPrime": "peak_f_prime",
    "MX_peakFDoublePrime": "peak_f_double_prime",
    "MX_inflectionFPrime": "inflection_f_prime",
    "MX_inflectionFDoublePrime": "inflection_f_double_prime",
    "MX_comments": "comments",
}

# §7.3 SSX extras (ID29 SSXICATLIMS): keys, user_collection_parameters and finalize_data_collection fields
SSX_73: dict[str, str] = {
    "chipModel": "chip_model",
    "monoStripe": "mono_stripe",
    "energyBandwidth": "energy_bandwidth",
    "detector_id": "detector_id",
    "experimentType": "scan_type",
    "Project_name": "project_name",
    "Experiment_name": "experiment_name",
    "scanNumber": "scan_number",
    "exp_time": "exposure_time",
    "sub_sampling": "sub_sampling",
    "take_pedestal": "take_pedestal",
    "reject_empty_frames": "reject_empty_frames",
    "frequency": "frame_rate",
    "num_images": "number_of_images",
    "osc_start": "oscillation_start",
    # BeamlineParameters / ISPYBCollectionPrameters of finalize_data_collection
    "energy": "photon_energy",
    "transmission": "transmission",
    "resolution": "edge_resolution",
    "wavelength": "wavelength",
    "detector_distance": "detector_distance",
    "beam_x": "beam_position_x",
    "beam_y": "beam_position_y",
    "beam_size_x": "beam_size_x",
    "beam_size_y": "beam_size_y",
    "beam_shape": "beam_shape",
    "energy_bandwidth": "energy_bandwidth",
    "flux_start": "flux",
    "flux_end": "flux_end",
    "start_time": "start_time",
    "end_time": "end_time",
    "chip_model": "chip_model",
    "mono_stripe": "mono_stripe",
    "experiment_type": "scan_type",
}

# §7.4 processed (auto-processing) parameters, group MX.AutoprocIntegration
PROCESSED_74: dict[str, str] = {
    "MXAutoprocIntegration_start_image_number": "integration_start_image",
    "MXAutoprocIntegration_end_image_number": "integration_end_image",
    "MXAutoprocIntegration_detector_distance": "refined_detector_distance",
    "MXAutoprocIntegration_beam_x": "refined_beam_x",
    "MXAutoprocIntegration_beam_y": "refined_beam_y",
    "MXAutoprocIntegration_rotation_axis_x": "rotation_axis_x",
    "MXAutoprocIntegration_rotation_axis_y": "rotation_axis_y",
    "MXAutoprocIntegration_rotation_axis_z": "rotation_axis_z",
    "MXAutoprocIntegration_beam_vector_x": "beam_vector_x",
    "MXAutoprocIntegration_beam_vector_y": "beam_vector_y",
    "MXAutoprocIntegration_beam_vector_z": "beam_vector_z",
    "MXAutoprocIntegration_space_group": "space_group",
    "MXAutoprocIntegration_cell_a": "cell_a",
    "MXAutoprocIntegration_cell_b": "cell_b",
    "MXAutoprocIntegration_cell_c": "cell_c",
    "MXAutoprocIntegration_cell_alpha": "cell_alpha",
    "MXAutoprocIntegration_cell_beta": "cell_beta",
    "MXAutoprocIntegration_cell_gamma": "cell_gamma",
    "MXAutoprocIntegration_anomalous": "anomalous",
    "MXAutoprocIntegration_diffraction_limit_direction_1": "diffraction_limit_direction_1",
    "MXAutoprocIntegration_diffraction_limit_direction_2": "diffraction_limit_direction_2",
    "MXAutoprocIntegration_diffraction_limit_direction_3": "diffraction_limit_direction_3",
    "MXAutoprocIntegration_principal_axis_1": "principal_axis_1",
    "MXAutoprocIntegration_principal_axis_2": "principal_axis_2",
    "MXAutoprocIntegration_principal_axis_3": "principal_axis_3",
    "MXAutoprocIntegration_fit_to_line_slope": "fit_to_line_slope",
    "MXAutoprocIntegration_fit_to_line_r2": "fit_to_line_r2",
    "MXAutoprocIntegration_fit_to_line_stdv": "fit_to_line_stdv",
    "Process_program": "software",
    # other processed groups
    "MXSAD_min_resolution": "sad_min_resolution",
    "MXSAD_max_resolution": "sad_max_resolution",
    "MXSAD_enantiomorph": "sad_enantiomorph",
    "MXSAD_space_group": "sad_space_group",
    "MXSAD_solvent": "sad_solvent_content",
    "MXSAD_pseudo_free_cc": "sad_pseudo_free_cc",
    "MXSAD_cc_partial_model": "sad_cc_partial_model",
    "MXSAD_chain_count": "sad_chain_count",
    "MXSAD_residues_count": "sad_residues_count",
    "MXSAD_PDB_file": "sad_pdb_file",
    "MXSAD_MTZ_file": "sad_mtz_file",
    "MXMR_step": "mr_step",
    "MXMR_space_group": "mr_space_group",
    "MXMR_min_resolution": "mr_min_resolution",
    "MXMR_max_resolution": "mr_max_resolution",
    "MXMRPhasing_source": "mr_source",
    "MXMRPhasing_search_model": "mr_search_model",
    "MXMRPhasing_best_RFZ": "mr_best_rfz",
    "MXMRPhasing_best_TFZ": "mr_best_tfz",
    "MXMRPhasing_LLG": "mr_llg",
    "MXMRPhasing_PDB_file": "mr_pdb_file",
    "MXMRPhasing_MTZ_file": "mr_mtz_file",
    "MXMRPhasing_MAP_2FOFC": "mr_map_2fofc",
    "MXMRPhasing_MAP_FOFC": "mr_map_fofc",
    "MXMRRefinement_R_free": "refinement_r_free",
    "MXMRRefinement_R_cryst": "refinement_r_cryst",
    "MXMRLigandFitting_ligand_FOFC_CC": "ligand_fofc_cc",
    "MXMRLigandFitting_R_free": "ligand_r_free",
    "MXMRLigandFitting_B_factor": "ligand_b_factor",
    "MXMRLigandFitting_occupancy": "ligand_occupancy",
    "MXMRLigandFitting_ligand_XYZ": "ligand_xyz",
    "MXMRLigandFitting_ligand_name": "ligand_name",
    "MXMRLigandFitting_PNG_2FOFC": "ligand_png_2fofc",
}

# §7.4 group MX.AutoprocIntegration.Scaling: MXAutoprocIntegrationScaling_<shell>_<stat>
SCALING_STATS: dict[str, str] = {
    "resolution_limit_low": "resolution_low",
    "resolution_limit_high": "resolution_high",
    "r_merge": "r_merge",
    "r_meas_within_IPlus_IMinus": "r_meas_within",
    "r_meas_all_IPlus_IMinus": "r_meas",
    "r_pim_within_IPlus_IMinus": "r_pim_within",
    "r_pim_all_IPlus_IMinus": "r_pim",
    "fractional_partial_bias": "fractional_partial_bias",
    "n_total_observations": "n_total_observations",
    "n_total_unique_observations": "n_unique_observations",
    "mean_I_over_sigI": "mean_i_over_sigma",
    "completeness": "completeness",
    "multiplicity": "multiplicity",
    "anomalous_completeness": "anomalous_completeness",
    "anomalous_multiplicity": "anomalous_multiplicity",
    "anomalous": "anomalous_statistics",
    "cc_half": "cc_half",
    "ccAno": "cc_ano",
    "cc_ano": "cc_ano",  # §7.5 drift: EDNA2 writes cc_ano
    "sigAno": "sig_ano",
    "isa": "isa",
    "completeness_spherical": "completeness_spherical",
    "completeness_ellipsoidal": "completeness_ellipsoidal",
    "anomalous_completeness_spherical": "anomalous_completeness_spherical",
    "anomalous_completeness_ellipsoidal": "anomalous_completeness_ellipsoidal",
}

# §7.5: keys that are NOT ICAT fields (metadata.json only / internal): they must stay unmapped
NOT_ICAT_FIELDS = ["sampleId", "beamline_name", "scheduled_beamline_name", "lims", "experimentPlan",
                   "processingPlan", "sample_id", "__actualInstrument", "__actualStartDate",
                   "__actualEndDate"]


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


@pytest.mark.parametrize(("name", "term"), sorted({**RAW_72, **SSX_73, **PROCESSED_74}.items()))
def test_esrf_name_resolves(ont: Ontology, name: str, term: str) -> None:
    found = ont.resolve(name)
    assert found is not None, f"{name} is not in the ontology"
    assert found.term.name == term
    assert found.shell in (None, "overall")


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("stat", "term"), sorted(SCALING_STATS.items()))
def test_scaling_name_resolves_with_shell(ont: Ontology, stat: str, term: str, shell: str) -> None:
    name = f"MXAutoprocIntegrationScaling_{shell}_{stat}"
    found = ont.resolve(name)
    assert found is not None, f"{name} is not in the ontology"
    assert (found.term.name, found.shell) == (term, shell)
    assert found.key == (term if shell == "overall" else f"{term}_{shell}")
    # the ICAT name we write back is the ESRF definitions' spelling (ccAno, not cc_ano)
    assert found.icat_name == name.replace("_cc_ano", "_ccAno")


def test_esrf_icat_names_are_the_canonical_icat_names(ont: Ontology) -> None:
    """Where ESRF has a definitions name (not a legacy spelling), it is the term's icat_name."""
    legacy = {"scanType", "MX_oscillationStart", "MX_axis_range", "MX_positionName", "beamlineID",
              "MX_inflectioEnergy", "InstrumentMonochromator_wavelength", "InstrumentDetector01_distance",
              "Process_program"}
    for name, term in {**RAW_72, **PROCESSED_74}.items():
        if name in legacy:
            assert ont.terms[term].icat_name != name
        else:
            assert ont.terms[term].icat_name == name, name


@pytest.mark.parametrize("name", NOT_ICAT_FIELDS)
def test_non_icat_fields_stay_unmapped(ont: Ontology, name: str) -> None:
    assert ont.resolve(name) is None
