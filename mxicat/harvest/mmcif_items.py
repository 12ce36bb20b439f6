"""PDBx/mmCIF dictionary facts the mmCIF importer and exporter share.

These are facts about the *standard* (units, shell ↔ overall item correspondences, the v5_next merge
statistics items, which categories describe a data collection), copied from ``mmcif_pdbx_v50.dic`` and
``diffrn-data-set-extension-v2.dic``. Which canonical term an item means is *not* decided here: that
comes from the ontology (``Term.mmcif``). Items the ontology lists for a shell term are used as they are;
the tables below only add the shell/v5_next spellings of the same statistic.
"""

from __future__ import annotations

from typing import Final

#: ``_item_units.code`` words of PDBx → pint unit strings (``photon`` is defined in mxicat's registry)
PDBX_UNIT_WORDS: Final[dict[str, str]] = {
    "angstroms": "angstrom",
    "angstroms_squared": "angstrom**2",
    "angstroms_cubed": "angstrom**3",
    "degrees": "degree",
    "kelvins": "kelvin",
    "seconds": "s",
    "hours": "hour",
    "femtoseconds": "fs",
    "microjoules": "uJ",
    "kiloelectron_volts": "keV",
    "milliamperes": "mA",
    "micrometres": "um",
    "micrometres_squared": "um**2",
    "microliters_per_min": "uL/min",
    "kilopascals": "kPa",
    "hertz": "Hz",
    "metres": "m",
    "millimetres": "mm",
    "teraphotons_per_pulse": "Tphoton",  # per pulse: the count of one pulse
}

#: pseudo-units for dimensionless PDBx items whose scale matters: percent (0-100) or fraction (0-1)
PERCENT: Final = "percent"
FRACTION: Final = ""

_ANGSTROM = "angstroms"
_DEGREE = "degrees"

#: unit of each PDBx item mxicat reads or writes (dictionary ``_item_units.code``; ``percent`` for the
#: ``percent_possible_*`` items, ``""`` (fraction) for R factors). Items not listed have no unit.
ITEM_UNITS: Final[dict[str, str]] = {
    "_diffrn.ambient_temp": "kelvins",
    "_diffrn_radiation_wavelength.wavelength": _ANGSTROM,
    "_diffrn_radiation_wavelength.value": _ANGSTROM,  # CIF-core spelling, see CORE_ALIASES
    "_diffrn_source.pdbx_wavelength_list": _ANGSTROM,
    "_diffrn_source.pdbx_wavelength": _ANGSTROM,
    "_diffrn_source.current": "milliamperes",
    "_diffrn_detector.pdbx_collection_time_total": "seconds",
    "_diffrn_detector.pdbx_frequency": "hertz",  # dictionary text: "operating frequency ... (Hz)"
    "_exptl_crystal.size_max": "millimetres",
    "_exptl_crystal.size_mid": "millimetres",
    "_exptl_crystal.size_min": "millimetres",
    "_exptl_crystal.pdbx_mosaicity": _DEGREE,
    "_cell.length_a": _ANGSTROM,
    "_cell.length_b": _ANGSTROM,
    "_cell.length_c": _ANGSTROM,
    "_cell.angle_alpha": _DEGREE,
    "_cell.angle_beta": _DEGREE,
    "_cell.angle_gamma": _DEGREE,
    "_cell.volume": "angstroms_cubed",
    "_reflns.d_resolution_high": _ANGSTROM,
    "_reflns.d_resolution_low": _ANGSTROM,
    "_reflns.B_iso_Wilson_estimate": "angstroms_squared",
    "_reflns.percent_possible_obs": PERCENT,
    "_reflns.pdbx_percent_possible_anomalous": PERCENT,
    "_reflns.pdbx_Rmerge_I_obs": FRACTION,
    "_reflns.pdbx_Rmerge_I_all": FRACTION,
    "_reflns.pdbx_Rrim_I_all": FRACTION,
    "_reflns.pdbx_Rpim_I_all": FRACTION,
    "_reflns.pdbx_Rsym_value": FRACTION,
    "_reflns.pdbx_R_split": FRACTION,
    "_reflns_shell.d_res_high": _ANGSTROM,
    "_reflns_shell.d_res_low": _ANGSTROM,
    "_reflns_shell.percent_possible_all": PERCENT,
    "_reflns_shell.percent_possible_obs": PERCENT,
    "_reflns_shell.pdbx_percent_possible_anomalous": PERCENT,
    "_reflns_shell.Rmerge_I_obs": FRACTION,
    "_reflns_shell.Rmerge_I_all": FRACTION,
    "_reflns_shell.pdbx_Rrim_I_all": FRACTION,
    "_reflns_shell.pdbx_Rpim_I_all": FRACTION,
    "_reflns_shell.pdbx_Rsym_value": FRACTION,
    "_reflns_shell.pdbx_R_split": FRACTION,
    "_pdbx_serial_crystallography_measurement.collection_time_total": "hours",
    "_pdbx_serial_crystallography_measurement.focal_spot_size": "micrometres_squared",
    "_pdbx_serial_crystallography_measurement.pulse_duration": "femtoseconds",
    "_pdbx_serial_crystallography_measurement.photons_per_pulse": "teraphotons_per_pulse",
    "_pdbx_serial_crystallography_measurement.pulse_energy": "microjoules",
    "_pdbx_serial_crystallography_measurement.pulse_photon_energy": "kiloelectron_volts",
    "_pdbx_serial_crystallography_measurement.source_distance": "metres",
    "_pdbx_serial_crystallography_measurement.source_size": "micrometres_squared",
    "_pdbx_serial_crystallography_measurement.xfel_pulse_repetition_rate": "hertz",
    "_pdbx_serial_crystallography_sample_delivery_fixed_target.sample_unit_size": "micrometres",
    "_pdbx_serial_crystallography_sample_delivery_injection.filter_size": "micrometres",
    "_pdbx_serial_crystallography_sample_delivery_injection.flow_rate": "microliters_per_min",
    "_pdbx_serial_crystallography_sample_delivery_injection.injector_diameter": "micrometres",
    "_pdbx_serial_crystallography_sample_delivery_injection.injector_pressure": "kilopascals",
    "_pdbx_serial_crystallography_sample_delivery_injection.injector_temperature": "kelvins",
    "_pdbx_serial_crystallography_sample_delivery_injection.jet_diameter": "micrometres",
    "_pdbx_diffrn_merge_stat.d_limit_high": _ANGSTROM,
    "_pdbx_diffrn_merge_stat.d_limit_low": _ANGSTROM,
    "_pdbx_diffrn_merge_stat.d_resolution_high": _ANGSTROM,
    "_pdbx_diffrn_merge_stat.d_resolution_low": _ANGSTROM,
    "_pdbx_diffrn_merge_stat.percent_possible_obs": PERCENT,
    "_pdbx_diffrn_merge_stat.Rmerge_all": FRACTION,
    "_pdbx_diffrn_merge_stat.Rpim_I_all": FRACTION,
    "_pdbx_diffrn_merge_stat_shell.d_limit_high": _ANGSTROM,
    "_pdbx_diffrn_merge_stat_shell.d_limit_low": _ANGSTROM,
    "_pdbx_diffrn_merge_stat_shell.d_resolution_high": _ANGSTROM,
    "_pdbx_diffrn_merge_stat_shell.d_resolution_low": _ANGSTROM,
    "_pdbx_diffrn_merge_stat_shell.percent_possible_obs": PERCENT,
    "_pdbx_diffrn_merge_stat_shell.Rmerge_all": FRACTION,
    "_pdbx_diffrn_merge_stat_shell.Rpim_I_all": FRACTION,
    "_pdbx_diffrn_merged_cell.cell_length_a": _ANGSTROM,
    "_pdbx_diffrn_merged_cell.cell_length_b": _ANGSTROM,
    "_pdbx_diffrn_merged_cell.cell_length_c": _ANGSTROM,
    "_pdbx_diffrn_merged_cell.cell_angle_alpha": _DEGREE,
    "_pdbx_diffrn_merged_cell.cell_angle_beta": _DEGREE,
    "_pdbx_diffrn_merged_cell.cell_angle_gamma": _DEGREE,
    "_refine.ls_R_factor_R_free": FRACTION,
    "_refine.ls_R_factor_R_work": FRACTION,
}

#: ``_reflns`` item → the ``_reflns_shell`` items holding the same statistic for one shell, preferred
#: first (5I55 and pdb_extract write ``meanI_over_sigI_obs`` and ``percent_possible_all``; cctbx writes
#: ``pdbx_netI_over_sigmaI_obs`` / ``percent_possible_obs`` in some versions).
SHELL_ITEMS: Final[dict[str, tuple[str, ...]]] = {
    "_reflns.d_resolution_high": ("_reflns_shell.d_res_high",),
    "_reflns.d_resolution_low": ("_reflns_shell.d_res_low",),
    "_reflns.number_obs": ("_reflns_shell.number_unique_obs", "_reflns_shell.number_unique_all"),
    "_reflns.number_all": ("_reflns_shell.number_possible",),
    "_reflns.pdbx_number_measured_all": ("_reflns_shell.number_measured_all", "_reflns_shell.number_measured_obs"),
    "_reflns.percent_possible_obs": ("_reflns_shell.percent_possible_all", "_reflns_shell.percent_possible_obs"),
    "_reflns.pdbx_redundancy": ("_reflns_shell.pdbx_redundancy",),
    "_reflns.pdbx_netI_over_sigmaI": ("_reflns_shell.pdbx_netI_over_sigmaI_obs", "_reflns_shell.meanI_over_sigI_obs"),
    "_reflns.pdbx_Rmerge_I_obs": ("_reflns_shell.Rmerge_I_obs",),
    "_reflns.pdbx_Rmerge_I_all": ("_reflns_shell.Rmerge_I_all",),
    "_reflns.pdbx_Rrim_I_all": ("_reflns_shell.pdbx_Rrim_I_all",),
    "_reflns.pdbx_Rpim_I_all": ("_reflns_shell.pdbx_Rpim_I_all",),
    "_reflns.pdbx_Rsym_value": ("_reflns_shell.pdbx_Rsym_value",),
    "_reflns.pdbx_CC_half": ("_reflns_shell.pdbx_CC_half",),
    "_reflns.pdbx_CC_star": ("_reflns_shell.pdbx_CC_star",),
    "_reflns.pdbx_R_split": ("_reflns_shell.pdbx_R_split",),
    "_reflns.pdbx_chi_squared": ("_reflns_shell.pdbx_chi_squared",),
    "_reflns.pdbx_percent_possible_anomalous": ("_reflns_shell.pdbx_percent_possible_anomalous",),
    "_reflns.pdbx_redundancy_anomalous": ("_reflns_shell.pdbx_redundancy_anomalous",),
    "_reflns.pdbx_CC_half_anomalous": ("_reflns_shell.pdbx_CC_half_anomalous",),
}

#: v5_next (DIALS ``mmcif.pdb_version=v5_next``) merge-statistics items → the v50 item with the same meaning.
#: The resolution limits are ``d_limit_high``/``d_limit_low`` in ``diffrn-data-set-extension-v2.dic`` and
#: ``d_resolution_high``/``d_resolution_low`` in other published versions of the extension; both are read.
V5_NEXT_ITEMS: Final[dict[str, str]] = {
    "_pdbx_diffrn_merge_stat.d_limit_high": "_reflns.d_resolution_high",
    "_pdbx_diffrn_merge_stat.d_limit_low": "_reflns.d_resolution_low",
    "_pdbx_diffrn_merge_stat.d_resolution_high": "_reflns.d_resolution_high",
    "_pdbx_diffrn_merge_stat.d_resolution_low": "_reflns.d_resolution_low",
    "_pdbx_diffrn_merge_stat.number_obs": "_reflns.number_obs",
    "_pdbx_diffrn_merge_stat.number_all": "_reflns.number_all",
    "_pdbx_diffrn_merge_stat.percent_possible_obs": "_reflns.percent_possible_obs",
    "_pdbx_diffrn_merge_stat.mean_I_over_sigI_all": "_reflns.pdbx_netI_over_sigmaI",
    "_pdbx_diffrn_merge_stat.Rmerge_all": "_reflns.pdbx_Rmerge_I_obs",
    "_pdbx_diffrn_merge_stat.Rpim_I_all": "_reflns.pdbx_Rpim_I_all",
    "_pdbx_diffrn_merge_stat.CC_half_all": "_reflns.pdbx_CC_half",
    "_pdbx_diffrn_merged_cell.cell_length_a": "_cell.length_a",
    "_pdbx_diffrn_merged_cell.cell_length_b": "_cell.length_b",
    "_pdbx_diffrn_merged_cell.cell_length_c": "_cell.length_c",
    "_pdbx_diffrn_merged_cell.cell_angle_alpha": "_cell.angle_alpha",
    "_pdbx_diffrn_merged_cell.cell_angle_beta": "_cell.angle_beta",
    "_pdbx_diffrn_merged_cell.cell_angle_gamma": "_cell.angle_gamma",
    "_pdbx_diffrn_symmetry.space_group_name_H-M": "_symmetry.space_group_name_H-M",
}

#: v5_next shell items → the ``_reflns`` item of the same statistic (shell rows keyed by ``ordinal_id``)
V5_NEXT_SHELL_ITEMS: Final[dict[str, str]] = {
    item.replace("_pdbx_diffrn_merge_stat.", "_pdbx_diffrn_merge_stat_shell."): target
    for item, target in V5_NEXT_ITEMS.items()
    if item.startswith("_pdbx_diffrn_merge_stat.")
}

#: newer spellings of symmetry items (``_space_group`` is the CIF-core/v5 category)
SYMMETRY_ALIASES: Final[dict[str, str]] = {
    "_space_group.name_H-M_alt": "_symmetry.space_group_name_H-M",
    "_space_group.IT_number": "_symmetry.Int_Tables_number",
}

#: CIF core (DDLm ``cif_core.dic``, COMCIFS) spellings that newer, imgCIF-style software writes into mmCIF files
#: → the PDBx item of the same meaning. None of them is a PDBx item: ``mmcif_pdbx_v50.dic`` (v5.417) has only
#: ``_diffrn_radiation_wavelength.id``/``.wavelength``/``.wt`` and no ``_diffrn_source.beamline``/``.facility``.
#: In ``cif_core.dic``, ``_diffrn_radiation_wavelength.value`` ("wavelength of radiation used in diffraction
#: measurements", angstroms) names ``_diffrn_radiation_wavelength.wavelength`` as its alias;
#: ``_diffrn_source.beamline`` is "the name of the beamline at the synchrotron or other large-scale experimental
#: facility" (example ``I19``) and ``_diffrn_source.facility`` "the name of the synchrotron or other large-scale
#: experimental facility", spelled as lightsources.org lists it (example ``Diamond Light Source``, where the
#: PDBx deposition vocabulary says ``Diamond``). The PDBx item wins when a file holds both spellings; a
#: differing CIF-core value is reported as a warning.
CORE_ALIASES: Final[dict[str, str]] = {
    "_diffrn_radiation_wavelength.value": "_diffrn_radiation_wavelength.wavelength",
    "_diffrn_source.beamline": "_diffrn_source.pdbx_synchrotron_beamline",
    "_diffrn_source.facility": "_diffrn_source.pdbx_synchrotron_site",
}

#: the spellings of one ``_diffrn_radiation_wavelength`` row's wavelength, preferred first
WAVELENGTH_ITEMS: Final[tuple[str, ...]] = (
    "_diffrn_radiation_wavelength.wavelength",
    "_diffrn_radiation_wavelength.value",
)

#: categories describing one data collection (``_diffrn.id`` / ``diffrn_id`` keyed); everything else a
#: processing result. Wavelength rows are reached through ``_diffrn_radiation.wavelength_id``.
COLLECTION_CATEGORIES: Final[tuple[str, ...]] = (
    "_diffrn",
    "_diffrn_source",
    "_diffrn_radiation",
    "_diffrn_detector",
    "_diffrn_measurement",
    "_pdbx_serial_crystallography_measurement",
    "_pdbx_serial_crystallography_sample_delivery",
    "_pdbx_serial_crystallography_sample_delivery_injection",
    "_pdbx_serial_crystallography_sample_delivery_fixed_target",
)

#: single-row processing categories read item by item through the ontology
RESULT_CATEGORIES: Final[tuple[str, ...]] = (
    "_symmetry",
    "_space_group",
    "_cell",
    "_exptl",
    "_exptl_crystal",
    "_pdbx_serial_crystallography_data_reduction",
    "_pdbx_diffrn_scan",  # v5_next (DIALS): image range and scan angles; one row per sweep
)

#: categories of a PDB entry or refinement output read only for the items the ontology claims (crystal growth,
#: refinement R factors): the rest of them (refinement details, restraints...) is not processing metadata and is
#: not kept in ``unmapped``; a value there that cannot be read is a warning, not an error.
CLAIMED_ONLY_CATEGORIES: Final[tuple[str, ...]] = ("_exptl_crystal_grow", "_refine")

#: ``_software.classification`` values that describe data processing (not phasing/refinement/deposition)
PROCESSING_CLASSIFICATIONS: Final[frozenset[str]] = frozenset(
    {
        "data reduction",
        "data scaling",
        "data processing",
        "data integration",
        "integration",
        "scaling",
        "indexing",
        "merging",
        "data merging",
    }
)


def category_of(item: str) -> str:
    """``_reflns.d_resolution_high`` → ``_reflns``."""
    return item.split(".", 1)[0]


def pint_unit(item: str) -> str | None:
    """The pint unit string of a PDBx item (``""`` dimensionless/fraction, ``percent``), None when unknown."""
    word = ITEM_UNITS.get(item)
    if word is None:
        return None
    if word in (PERCENT, FRACTION):
        return word
    return PDBX_UNIT_WORDS[word]


def is_key_item(item: str) -> bool:
    """Category keys and pointers (``.id``, ``.diffrn_id``, ``.pdbx_ordinal``...): file-local identifiers."""
    attribute = item.rsplit(".", 1)[-1].lower()
    return attribute in ("id", "ordinal", "ordinal_id", "pdbx_ordinal") or attribute.endswith("_id")
