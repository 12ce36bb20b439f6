"""Layout rules and quirks of real NXmx files, each rebuilt in a small synthetic file (no shared data needed)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest
from nxmx_fixtures import (
    as_array,
    as_bytes,
    as_str,
    axis,
    dectris_entry,
    group,
    memory_file,
    number,
    nxmx_entry,
    stills_entry,
    text,
)

from mxicat.errors import BadParameterError, MxicatError
from mxicat.harvest import HarvestError, harvest_nexus, units
from mxicat.harvest.harvester import harvest_file


def harvest_memory(build, filename: str = "mem.nxs", **kwargs):  # type: ignore[no-untyped-def]
    with memory_file(filename) as f:
        build(f, **kwargs)
        return harvest_file(f, filename)


def test_modern_nxmx_values_units_and_provenance() -> None:
    result = harvest_memory(nxmx_entry, frames=20, start=5.0, width=0.1)
    assert result.layout == "nxmx" and not result.warnings
    [sweep] = result.sweeps
    meta, src = sweep.metadata, sweep.sources
    assert sweep.scan_type == "rotation" and meta["scan_type"] == "rotation"
    assert meta["wavelength"] == pytest.approx(0.9763)
    assert meta["photon_energy"] == pytest.approx(12.398419843 / 0.9763, rel=1e-8)
    assert meta["flux"] == pytest.approx(2.7e11) and src["flux"] == "/entry/instrument/beam/total_flux"
    assert meta["transmission"] == pytest.approx(25.0)  # fraction 0.25 → percent
    size_unit = units.canonical_unit("beam_size_x")  # the ontology decides (mm today)
    assert meta["beam_size_x"] == pytest.approx(units.registry().Quantity(2e-5, "m").to(size_unit).magnitude)
    assert meta["beam_size_y"] == pytest.approx(units.registry().Quantity(1e-5, "m").to(size_unit).magnitude)
    assert meta["detector_distance"] == pytest.approx(200.0)
    assert meta["pixel_size_x"] == pytest.approx(75.0)
    assert src["pixel_size_x"] == "/entry/instrument/detector/module/fast_pixel_direction"
    assert (meta["beam_center_x"], meta["beam_center_y"]) == (1500.5, 1600.25)
    assert meta["sensor_thickness"] == pytest.approx(450.0)
    assert meta["exposure_time"] == pytest.approx(0.004)
    assert meta["sample_temperature"] == pytest.approx(100.0)
    assert meta["sample_name"] == "lysozyme"
    assert meta["facility"] == "Diamond Light Source" and src["facility"] == "/entry/source/name"
    assert meta["beamline"] == "DIAMOND BEAMLINE I03"
    assert meta["number_of_images"] == 20 and src["number_of_images"] == "/entry/data/data"
    assert (meta["oscillation_start"], meta["oscillation_width"]) == (5.0, 0.1)
    assert src["oscillation_width"] == "/entry/sample/transformations/omega_end"
    assert meta["rotation_axis"] == "omega"
    assert meta["start_time"] == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert meta["end_time"] - meta["start_time"] == timedelta(seconds=5)
    assert set(src) == set(meta)
    # the VDS sources are missing: frames still counted, each source a warning and a datafile
    names = {d["path"].rsplit("/", 1)[-1]: d for d in sweep.datafiles}
    assert not names["entry_data_000001.h5"]["exists"] and names["entry_data_000001.h5"]["kind"] == "data"
    assert sum("missing VDS source" in w for w in sweep.warnings) == 2


@pytest.mark.parametrize("enc", [as_bytes, as_str, as_array], ids=["bytes", "str", "1-element-array"])
def test_string_encodings_and_array_nx_class(enc) -> None:  # type: ignore[no-untyped-def]
    result = harvest_memory(nxmx_entry, enc=enc)
    meta = result.sweeps[0].metadata
    assert meta["detector_model"] == "Eiger2 X 9M"
    assert meta["wavelength"] == pytest.approx(0.9763)
    assert meta["oscillation_width"] == pytest.approx(0.1)


@pytest.mark.parametrize("unit_attr", ["units", "unit", "u"])
def test_unit_attribute_spellings(unit_attr: str) -> None:
    meta = harvest_memory(nxmx_entry, unit_attr=unit_attr).sweeps[0].metadata
    assert meta["detector_distance"] == pytest.approx(200.0)
    assert meta["pixel_size_x"] == pytest.approx(75.0)


def test_entry1_source_under_instrument_relative_depends_on() -> None:
    result = harvest_memory(nxmx_entry, name="entry1", source_in_instrument=True, relative_depends_on=True)
    [sweep] = result.sweeps
    assert sweep.entry == "/entry1"
    assert sweep.sources["facility"] == "/entry1/instrument/source/name"
    assert sweep.metadata["rotation_axis"] == "omega"
    assert sweep.metadata["oscillation_start"] == pytest.approx(10.0)


def test_units_converted_and_missing_units_assumed() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f)
        beam = entry["instrument/beam"]
        del beam["incident_wavelength"]
        number(beam, "incident_wavelength", 0.1, "nm")
        detector = entry["instrument/detector"]
        del detector["count_time"], detector["sensor_thickness"]
        number(detector, "count_time", 0.02)  # GDA: no @units → seconds
        number(detector, "sensor_thickness", 0.75)  # i16: no @units, plausible only as mm
        del detector["beam_center_x"]
        number(detector, "beam_center_x", 0.075, "mm")  # NXmx allows a length → pixels
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    meta = sweep.metadata
    assert meta["wavelength"] == pytest.approx(1.0)
    assert meta["exposure_time"] == pytest.approx(0.02)
    assert meta["sensor_thickness"] == pytest.approx(750.0)
    assert meta["beam_center_x"] == pytest.approx(1.0)
    assert any("count_time: no units; assumed s" in w for w in sweep.warnings)
    assert any("sensor_thickness: no units; assumed mm" in w for w in sweep.warnings)


def test_unconvertible_unit_is_a_warning_not_a_value() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f)
        del entry["instrument/detector/distance"]
        number(entry["instrument/detector"], "distance", 0.2, "furlongs-per-fortnight")
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert "detector_distance" not in sweep.metadata
    assert any("not convertible for detector_distance" in w for w in sweep.warnings)


def test_ssx_stills_without_goniometer() -> None:
    result = harvest_memory(stills_entry, frames=6)
    [sweep] = result.sweeps
    assert sweep.scan_type == "still" and sweep.metadata["scan_type"] == "still"
    assert sweep.metadata["number_of_images"] == 6
    assert "oscillation_width" not in sweep.metadata and "rotation_axis" not in sweep.metadata
    assert sweep.metadata["wavelength"] == pytest.approx(1.3025)  # mean of the per-shot values
    assert any("6 different values" in w for w in sweep.warnings)
    assert sweep.metadata["facility"] == "SwissFEL"


def test_extruder_zero_increment_is_still() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f, frames=8, width=0.0)
        del entry["sample/transformations/omega_end"]
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.scan_type == "still"
    assert sweep.metadata["number_of_images"] == 8


def test_grid_scan_translations_are_still() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f, frames=6, width=0.0)
        t = entry["sample/transformations"]
        for name in ("omega", "omega_end", "omega_increment_set"):
            del t[name]
        axis(t, "omega", [90.0], "rotation", "/entry/sample/transformations/sam_x", (-1, 0, 0), "deg")
        axis(t, "sam_x", [0.0, 0.02, 0.04] * 2, "translation", "/entry/sample/transformations/sam_y",
             (1, 0, 0), "mm")
        axis(t, "sam_y", [0.0] * 3 + [0.02] * 3, "translation", ".", (0, 1, 0), "mm")
        del entry["data/data"]
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.scan_type == "still"
    assert sweep.metadata["number_of_images"] == 6  # length of the varying (translation) scan axis
    assert "oscillation_start" not in sweep.metadata


def test_two_varying_rotations_warn_and_uneven_widths_warn() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f, frames=5)
        t = entry["sample/transformations"]
        del t["phi"]
        axis(t, "phi", [0.0, 1.0, 2.0, 3.0, 4.0], "rotation", ".", (-1, 0, 0), "deg")
        del t["omega_end"], t["omega_increment_set"], t["omega"]
        axis(t, "omega", [0.0, 0.1, 0.2, 0.5, 0.6], "rotation", "/entry/sample/transformations/phi",
             (-1, 0, 0), "deg")
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.metadata["rotation_axis"] == "omega"
    assert sweep.metadata["oscillation_width"] == pytest.approx(0.1)
    assert any("more than one rotation axis varies" in w for w in sweep.warnings)
    assert any("differ from their median" in w for w in sweep.warnings)


def test_dangling_depends_on_is_a_warning() -> None:
    with memory_file() as f:
        entry = nxmx_entry(f)
        del entry["sample/depends_on"]
        text(entry["sample"], "depends_on", "/entry/sample/transformations/nowhere")
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.scan_type == "still"
    assert any("does not exist" in w for w in sweep.warnings)


def test_dectris_nearly_nexus() -> None:
    result = harvest_memory(dectris_entry, nimages=5, ntrigger=2, increment=0.2)
    assert result.layout == "dectris-filewriter"
    [sweep] = result.sweeps
    meta = sweep.metadata
    assert meta["number_of_images"] == 10  # nimages × ntrigger
    assert meta["oscillation_width"] == pytest.approx(0.2) and meta["rotation_axis"] == "omega"
    assert meta["wavelength"] == 0.9801122 and meta["detector_distance"] == 134.255
    assert meta["start_time"] == datetime(2016, 12, 16, 7, 6, 17, 852051)
    assert meta["saturation_value"] == 12440
    assert sweep.scan_type == "rotation"


def test_dectris_nan_image_count_is_skipped_not_an_error() -> None:
    with memory_file() as f:
        entry = dectris_entry(f, nimages=5, ntrigger=2)
        specific = entry["instrument/detector/detectorSpecific"]
        del specific["ntrigger"]
        specific["ntrigger"] = np.nan
        [sweep] = harvest_file(f, "mem.nxs").sweeps
        assert sweep.metadata["number_of_images"] == 5  # a NaN trigger count counts as one
        del specific["nimages"]
        specific["nimages"] = np.nan
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert "number_of_images" not in sweep.metadata
    assert sweep.metadata["oscillation_width"] == pytest.approx(0.2)


def test_dectris_axis_with_non_angle_units_is_a_warning() -> None:
    with memory_file() as f:
        entry = dectris_entry(f)
        entry["sample/goniometer/omega_increment"].attrs["units"] = "mm"
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.scan_type == "still" and "oscillation_width" not in sweep.metadata
    assert any("omega_increment" in w and "not both angles" in w for w in sweep.warnings)


def test_energy_only_gives_wavelength() -> None:
    with memory_file() as f:
        entry = dectris_entry(f)
        del entry["instrument/beam/incident_wavelength"]
        [sweep] = harvest_file(f, "mem.nxs").sweeps
    assert sweep.metadata["wavelength"] == pytest.approx(12.398419843 / 12.65, rel=1e-8)
    assert sweep.sources["wavelength"].endswith("detectorSpecific/photon_energy")


def test_multi_entry_gives_one_sweep_per_entry() -> None:
    with memory_file() as f:
        nxmx_entry(f, "entry", frames=10, start=0.0, width=0.1)
        nxmx_entry(f, "entry_2", frames=30, start=90.0, width=0.2, sample_name="second")
        result = harvest_file(f, "mem.nxs")
    assert [s.entry for s in result.sweeps] == ["/entry", "/entry_2"]
    first, second = (s.metadata for s in result.sweeps)
    assert (first["number_of_images"], second["number_of_images"]) == (10, 30)
    assert (first["oscillation_start"], second["oscillation_start"]) == (0.0, 90.0)
    assert second["sample_name"] == "second"
    assert result.sweeps[1].sources["sample_name"] == "/entry_2/sample/name"


def test_dials_like_subentries() -> None:
    with memory_file() as f:
        entry = group(f, "entry", "NXentry")
        for index in range(3):
            sub = nxmx_entry(entry, f"experiment_{index}", frames=4 + index, data="none")
            sub.attrs["NX_class"] = np.bytes_(b"NXsubentry")
        reflections = group(entry, "reflections", "NXsubentry")
        text(reflections, "definition", "NXreflections")
        result = harvest_file(f, "mem.nxs")
    assert result.layout == "nxmx-subentries"
    assert [s.metadata["number_of_images"] for s in result.sweeps] == [4, 5, 6]


def test_vds_with_sources_present(tmp_path: Path) -> None:
    master = tmp_path / "scan_master.h5"
    with h5py.File(master, "w") as f:
        nxmx_entry(f, frames=9, data="vds-present", data_dir=tmp_path)
    [sweep] = harvest_nexus(master).sweeps
    assert sweep.metadata["number_of_images"] == 9
    data = [d for d in sweep.datafiles if d["kind"] == "data"]
    assert [Path(d["path"]).name for d in data] == ["entry_data_000001.h5", "entry_data_000002.h5"]
    assert all(d["exists"] for d in data)
    assert not any("missing" in w for w in sweep.warnings)


def test_missing_external_link_is_a_warning_with_target(tmp_path: Path) -> None:
    master = tmp_path / "x_master.h5"
    with h5py.File(master, "w") as f:
        entry = nxmx_entry(f, frames=4, data="external-missing")
        detector = entry["instrument/detector"]
        del detector["saturation_value"]
        detector["saturation_value"] = h5py.ExternalLink("x_meta.h5", "/_dectris/countrate_correction_count_cutoff")
    [sweep] = harvest_nexus(master).sweeps
    assert "saturation_value" not in sweep.metadata  # value absent, no exception
    by_name = {Path(d["path"]).name: d for d in sweep.datafiles}
    assert by_name["entry_000001.h5"] == {"path": str(tmp_path / "entry_000001.h5"), "exists": False,
                                          "kind": "data", "target": "/data"}
    assert by_name["x_meta.h5"]["kind"] == "external" and not by_name["x_meta.h5"]["exists"]
    assert any("x_meta.h5:/_dectris/countrate_correction_count_cutoff" in w for w in sweep.warnings)
    assert sweep.metadata["number_of_images"] == 4  # from the scan axis


def test_not_hdf5_truncated_no_mx_and_missing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"this is not HDF5 at all" * 10)
    with pytest.raises(HarvestError, match="not an HDF5 file") as info:
        harvest_nexus(junk)
    assert info.value.path == str(junk)
    assert isinstance(info.value, BadParameterError) and isinstance(info.value, MxicatError)

    good = tmp_path / "good.nxs"
    with h5py.File(good, "w") as f:
        nxmx_entry(f, frames=4000, data="none")
    truncated = tmp_path / "truncated.nxs"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(HarvestError, match="truncated or corrupt") as info:
        harvest_nexus(truncated)
    assert str(truncated) in str(info.value)

    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f.create_dataset("numbers", data=np.arange(5))
        group(f, "entry", "NXentry").create_group("notes")
    with pytest.raises(HarvestError, match="no MX content"):
        harvest_nexus(plain)

    with pytest.raises(HarvestError, match="no such file"):
        harvest_nexus(tmp_path / "absent.nxs")


def test_harvest_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(HarvestError("/x.h5", "not an HDF5 file")))
    assert (err.path, err.reason, str(err)) == ("/x.h5", "not an HDF5 file", "/x.h5: not an HDF5 file")


def test_to_json_shape() -> None:
    result = harvest_memory(nxmx_entry)
    obj = result.to_json()
    assert set(obj) == {"file", "layout", "sweeps", "warnings"}
    sweep = obj["sweeps"][0]
    assert set(sweep) == {"scan_type", "metadata", "sources", "datafiles", "warnings"}
    assert sweep["metadata"]["start_time"] == "2024-03-01T10:00:00+00:00"
    assert set(sweep["datafiles"][0]) == {"path", "exists", "kind", "target"}


def test_keys_are_ontology_terms_in_canonical_units() -> None:
    ontology = pytest.importorskip("mxicat.ontology").load_ontology()
    sweeps = [s for build in (nxmx_entry, dectris_entry, stills_entry) for s in harvest_memory(build).sweeps]
    assert len(sweeps) == 3
    for sweep in sweeps:
        for key, value in sweep.metadata.items():
            term = ontology.term(key)
            assert term.name == key
            if term.type in ("float", "int"):
                assert isinstance(value, int | float) and not isinstance(value, bool)
    assert not units.MISSING_TERMS


def _geometry_only(f: h5py.File, two_theta: float) -> None:
    """No distance field: det_z (mm) → two_theta → module_offset (m, with an offset) → pixel directions."""
    entry = nxmx_entry(f)
    detector = entry["instrument/detector"]
    del detector["distance"]
    t = group(detector, "transformations", "NXtransformations")
    axis(t, "det_z", [250.0], "translation", "/entry/instrument/detector/transformations/two_theta", (0, 0, 1),
         "mm")
    axis(t, "two_theta", [two_theta], "rotation", ".", (1, 0, 0), "deg")
    module = detector["module"]
    number(module, "module_offset", 0.0, "m", transformation_type="translation", vector=np.array([1.0, 0, 0]),
           offset=np.array([0.1, 0.12, 0.0]), depends_on=np.bytes_(b"/entry/instrument/detector/transformations/det_z"))
    for name, vector in (("fast_pixel_direction", (-1.0, 0, 0)), ("slow_pixel_direction", (0, -1.0, 0))):
        module[name].attrs["vector"] = np.array(vector)
        module[name].attrs["depends_on"] = np.bytes_(b"/entry/instrument/detector/module/module_offset")


def test_distance_derived_from_module_geometry() -> None:
    [sweep] = harvest_memory(_geometry_only, two_theta=0.0).sweeps
    assert sweep.metadata["detector_distance"] == pytest.approx(250.0)
    assert sweep.sources["detector_distance"] == "/entry/instrument/detector/module/module_offset"
    assert any("derived from the module geometry" in w for w in sweep.warnings)


def test_no_distance_invented_for_a_rotated_detector_arm() -> None:
    [sweep] = harvest_memory(_geometry_only, two_theta=20.0).sweeps
    assert "detector_distance" not in sweep.metadata


def test_frames_from_linked_data_files_without_nimages(tmp_path: Path) -> None:
    """Old Dectris layout: data_000001, data_000002 ExternalLinks, no VDS, no nimages: frames = sum of shapes."""
    master = tmp_path / "old_master.h5"
    for index, frames in ((1, 7), (2, 3)):
        with h5py.File(tmp_path / f"old_data_{index:06d}.h5", "w") as f:
            f.create_dataset("entry/data/data", data=np.zeros((frames, 4, 4), "uint16"))
    with h5py.File(master, "w") as f:
        entry = dectris_entry(f)
        del entry["instrument/detector/detectorSpecific/nimages"], entry["data/data_000001"]
        for index in (1, 2):
            entry["data"][f"data_{index:06d}"] = h5py.ExternalLink(f"old_data_{index:06d}.h5", "entry/data/data")
    [sweep] = harvest_nexus(master).sweeps
    assert sweep.metadata["number_of_images"] == 10
    assert [d["exists"] for d in sweep.datafiles if d["kind"] == "data"] == [True, True]
    assert not any("missing" in w for w in sweep.warnings)
