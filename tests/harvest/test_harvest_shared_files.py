"""The harvester on every real NXmx/HDF5 file of ../shared/testdata/nxmx, against the README's values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mxicat.cli import cli
from mxicat.harvest import harvest_nexus


def test_dls_i04_gda_rotation(shared) -> None:
    path = shared.file("nxmx", "dls_i04_rotation_Therm_6_2", "Therm_6_2.nxs")
    result = harvest_nexus(path)
    assert result.layout == "nxmx"
    [sweep] = result.sweeps
    meta, src = sweep.metadata, sweep.sources
    assert sweep.scan_type == "rotation"
    assert meta["wavelength"] == pytest.approx(0.98027356, rel=1e-7)
    assert meta["photon_energy"] == pytest.approx(12.648, abs=1e-3)
    assert meta["flux"] == pytest.approx(2.0982e9, rel=1e-4)
    assert meta["transmission"] == pytest.approx(1.1187, rel=1e-4)  # 0.011187 fraction → percent
    assert meta["detector_model"] == "Eiger 16M"
    assert meta["sensor_material"] == "Silicon"
    assert meta["sensor_thickness"] == pytest.approx(450.0)
    assert meta["pixel_size_x"] == pytest.approx(75.0) and meta["pixel_size_y"] == pytest.approx(75.0)
    assert meta["beam_center_x"] == pytest.approx(2216.055, abs=1e-3)
    assert meta["beam_center_y"] == pytest.approx(2300.410, abs=1e-3)
    assert meta["detector_distance"] == pytest.approx(213.959, abs=1e-3)
    assert meta["exposure_time"] == pytest.approx(0.008)
    assert any("count_time: no units" in w for w in sweep.warnings)
    assert meta["number_of_images"] == 488
    assert src["number_of_images"] == "/entry/data/data"  # the VDS shape, sources missing
    assert meta["oscillation_start"] == pytest.approx(174.0)
    assert meta["oscillation_width"] == pytest.approx(0.25)
    assert meta["rotation_axis"] == "omega"
    assert meta["beamline"] == "I04" and src["beamline"] == "/entry/instrument@short_name"
    assert meta["facility"] == "Diamond Light Source"
    assert src["facility"] == "/entry/instrument/source/name"  # the old location
    assert "sample_name" not in meta
    assert meta["start_time"] == datetime(2019, 2, 14, 14, 25, 57)
    assert meta["end_time"] == datetime(2019, 2, 14, 14, 26, 24)
    assert (meta["end_time"] - meta["start_time"]).total_seconds() == 27
    missing = [d for d in sweep.datafiles if not d["exists"]]
    assert [(d["path"].rsplit("/", 1)[-1], d["kind"], d["target"]) for d in missing] == [
        ("Therm_6_2_000001.h5", "data", "/data")
    ]
    assert sweep.datafiles[0]["kind"] == "master" and sweep.datafiles[0]["exists"]
    assert any("Therm_6_2_000001.h5:/data" in w for w in sweep.warnings)


def test_dectris_filewriter_nearly_nexus(shared) -> None:
    path = shared.file("nxmx", "dectris_eiger9m_fw1.6", "dectris_eiger_master.h5")
    result = harvest_nexus(path)
    assert result.layout == "dectris-filewriter"
    assert any("definition" in w for w in result.warnings)
    [sweep] = result.sweeps
    meta, src = sweep.metadata, sweep.sources
    assert meta["wavelength"] == 0.9801122  # float32 without binary noise
    assert meta["photon_energy"] == pytest.approx(12.650, abs=1e-3)
    assert meta["detector_model"] == "Dectris Eiger 9M"
    assert meta["sensor_material"] == "Si" and meta["sensor_thickness"] == pytest.approx(450.0)
    assert meta["pixel_size_x"] == pytest.approx(75.0) and src["pixel_size_x"].endswith("/x_pixel_size")
    assert meta["beam_center_x"] == pytest.approx(1607.415) and meta["beam_center_y"] == pytest.approx(1586.431,
                                                                                                        abs=1e-3)
    assert meta["detector_distance"] == pytest.approx(134.255)
    assert meta["exposure_time"] == pytest.approx(0.00499)
    assert meta["number_of_images"] == 1
    assert src["number_of_images"].endswith("detectorSpecific/nimages")
    assert sweep.scan_type == "rotation"
    assert meta["oscillation_start"] == 0.0 and meta["oscillation_width"] == pytest.approx(0.5)
    assert src["oscillation_width"] == "/entry/sample/goniometer/omega_increment"
    assert meta["start_time"] == datetime(2016, 12, 16, 7, 6, 17, 852051)
    for absent in ("facility", "beamline", "sample_name"):
        assert absent not in meta
    [missing] = [d for d in sweep.datafiles if not d["exists"]]
    assert missing["path"].endswith("dectris_eiger_data_000001.h5") and missing["target"] == "entry/data/data"


def test_dials_export_one_sweep_per_experiment(shared) -> None:
    path = shared.file("nxmx", "dials_export_two_experiments", "thaumatin_integrated_multisample.nxs")
    result = harvest_nexus(path)
    assert result.layout == "nxmx-subentries"
    assert [s.entry for s in result.sweeps] == ["/entry/experiment_0", "/entry/experiment_1"]
    for index, sweep in enumerate(result.sweeps):
        meta, src = sweep.metadata, sweep.sources
        assert sweep.scan_type == "rotation"
        assert meta["wavelength"] == pytest.approx(0.97625)
        assert meta["photon_energy"] == pytest.approx(12.700, abs=1e-3)
        assert meta["detector_model"] == "SENSOR_PAD"
        assert meta["pixel_size_x"] == pytest.approx(172.0)
        assert meta["sensor_material"] == "Si" and meta["sensor_thickness"] == pytest.approx(320.0)
        assert meta["number_of_images"] == 540
        assert meta["oscillation_start"] == pytest.approx(82.0)
        assert meta["oscillation_width"] == pytest.approx(0.15)
        assert meta["rotation_axis"] == "phi"
        assert meta["exposure_time"] == pytest.approx(0.067)
        assert meta["start_time"] == datetime(2013, 7, 3, 9, 49, 57, 347000, tzinfo=UTC)
        assert meta["end_time"].replace(microsecond=0) == datetime(2013, 7, 3, 9, 50, 33, tzinfo=UTC)
        assert (meta["facility"], meta["beamline"], meta["sample_name"]) == ("Unknown", "Unknown", "FROM_DIALS")
        assert src["wavelength"] == f"/entry/experiment_{index}/sample/beam/incident_wavelength"
        # no distance field: 395.36 mm along the tilted module_offset vector, projected on fast × slow
        assert meta["detector_distance"] == pytest.approx(265.07, abs=0.01)
        assert src["detector_distance"] == f"/entry/experiment_{index}/instrument/detector/module0/module_offset"


def test_dls_i16_entry1_array_strings(shared) -> None:
    path = shared.file("nxmx", "dls_i16_sixcircle_538039", "538039.nxs")
    result = harvest_nexus(path)
    [sweep] = result.sweeps
    meta, src = sweep.metadata, sweep.sources
    assert sweep.entry == "/entry1"
    assert meta["wavelength"] == pytest.approx(2.3738, abs=1e-4)  # 0.237381 nm
    assert meta["beamline"] == "i16" and meta["facility"] == "DLS"
    assert src["facility"] == "/entry1/instrument/source/name"
    assert meta["sensor_material"] == "Silicon"
    assert meta["sensor_thickness"] == pytest.approx(320.0)  # unitless 0.32 → mm, with a warning
    assert any("sensor_thickness: no units; assumed mm" in w for w in sweep.warnings)
    assert meta["pixel_size_x"] == pytest.approx(172.0)
    assert meta["exposure_time"] == pytest.approx(1.0)
    assert meta["number_of_images"] == 61
    assert sweep.scan_type == "rotation"
    assert meta["rotation_axis"] == "theta"  # phi and kappa are constant 61-element arrays
    assert meta["oscillation_start"] == pytest.approx(101.5612, abs=1e-4)
    assert meta["oscillation_width"] == pytest.approx(0.001)
    assert meta["sample_name"] == "Default Sample"
    assert "start_time" not in meta
    assert "detector_distance" not in meta  # rotated six-circle arm: not derived, not invented
    missing = {d["path"].rsplit("/", 2)[-2] + "/" + d["path"].rsplit("/", 1)[-1]: d for d in sweep.datafiles
               if not d["exists"]}
    assert missing["538039-pilatus100k-files/538039.hdf"]["target"] == "/entry/instrument/detector/data"
    assert any("538039-pilatus100k-files/538039.hdf" in w for w in sweep.warnings)
    tiffs = sorted(Path(d["path"]).name for d in sweep.datafiles if d["path"].endswith(".tif"))
    assert tiffs == [f"{i:05d}.tif" for i in range(1, 62)]  # GDA image_data list, one warning for all
    assert sum("61 of 61 image files" in w for w in sweep.warnings) == 1


def test_cli_json_lines_for_the_whole_folder(shared) -> None:
    folder = shared.file("nxmx")
    result = CliRunner().invoke(cli, ["harvest", str(folder), "--format", "json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 4
    assert {tuple(sorted(obj)) for obj in lines} == {("file", "layout", "sweeps", "warnings")}
    for obj in lines:
        for sweep in obj["sweeps"]:
            assert set(sweep) == {"scan_type", "metadata", "sources", "datafiles", "warnings"}
            assert set(sweep["sources"]) == set(sweep["metadata"])
    by_name = {obj["file"].rsplit("/", 1)[-1]: obj for obj in lines}
    assert by_name["Therm_6_2.nxs"]["sweeps"][0]["metadata"]["start_time"] == "2019-02-14T14:25:57"
    assert len(by_name["thaumatin_integrated_multisample.nxs"]["sweeps"]) == 2


@pytest.mark.parametrize("parts", [
    ("nxmx", "dls_i04_rotation_Therm_6_2", "Therm_6_2.nxs"),
    ("nxmx", "dectris_eiger9m_fw1.6", "dectris_eiger_master.h5"),
    ("nxmx", "dials_export_two_experiments", "thaumatin_integrated_multisample.nxs"),
    ("nxmx", "dls_i16_sixcircle_538039", "538039.nxs"),
    ("ssx", "dials_i24_CuNiR_stills", "integrated.expt"),
], ids=lambda parts: parts[-1])
def test_harvested_metadata_is_valid_canonical_ontology_data(shared, parts: tuple[str, ...]) -> None:
    """What the harvester emits passes the ontology's validation unchanged (names, types, units, ranges)."""
    from mxicat.harvest import harvest
    from mxicat.ontology import validate

    for sweep in harvest(shared.file(*parts)).sweeps:
        checked = validate(sweep.metadata, record="raw")
        assert not checked.problems and not checked.unmapped
        assert checked.values == sweep.metadata
