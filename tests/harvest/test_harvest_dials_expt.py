"""DIALS experiment lists (.expt): the SSX stills file of the shared data and synthetic ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mxicat.cli import cli
from mxicat.harvest import HarvestError, harvest, harvest_dials_expt


def test_ssx_stills_experiment_list(shared) -> None:
    path = shared.file("ssx", "dials_i24_CuNiR_stills", "integrated.expt")
    result = harvest(path)  # chosen by content
    assert result.layout == "dials-experiment-list"
    assert len(result.sweeps) == 5  # one per experiment (lattice)
    images = []
    for sweep in result.sweeps:
        meta = sweep.metadata
        assert sweep.scan_type == "still" and meta["scan_type"] == "still"  # no goniometer, no scan
        assert meta["wavelength"] == pytest.approx(1.37611)
        assert meta["photon_energy"] == pytest.approx(9.010, abs=1e-3)
        assert meta["detector_model"] == "SENSOR_PAD"
        assert meta["pixel_size_x"] == pytest.approx(172.0) and meta["pixel_size_y"] == pytest.approx(172.0)
        assert (meta["sensor_material"], meta["sensor_thickness"]) == ("Si", pytest.approx(450.0))
        # dxtbx Panel.get_distance(): origin · (fast × slow) = 249.10 mm (origin z alone is 248.65 mm)
        assert meta["detector_distance"] == pytest.approx(249.10, abs=0.01)
        assert meta["number_of_images"] == 1
        assert "oscillation_width" not in meta
        assert sweep.sources["wavelength"].startswith("/beam/")
        [image] = [d for d in sweep.datafiles if d["kind"] == "data"]
        assert not image["exists"] and any("merlin0047_170" in w for w in sweep.warnings)
        images.append(Path(image["path"]).name)
    assert images == [f"merlin0047_1700{i}.cbf" for i in range(5)]


def _write(tmp_path: Path, data: object, name: str = "x.expt") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_rotation_experiment_with_scan(tmp_path: Path) -> None:
    (tmp_path / "img_0001.cbf").write_bytes(b"")
    data = {
        "__id__": "ExperimentList",
        "experiment": [{"__id__": "Experiment", "beam": 0, "detector": 0, "scan": 0, "imageset": 0}],
        "beam": [{"wavelength": 0.9762}],
        "detector": [{"panels": [{"type": "SENSOR_PAD", "fast_axis": [1, 0, 0], "slow_axis": [0, -1, 0],
                                  "origin": [-210.0, 205.0, -300.0], "pixel_size": [0.075, 0.075],
                                  "thickness": 0.45, "material": "Si"}]}],
        "scan": [{"image_range": [1, 3600], "oscillation": [10.0, 0.1],
                  "properties": {"exposure_time": [0.002] * 3600}}],
        "imageset": [{"images": ["img_0001.cbf"]}],
    }
    [sweep] = harvest_dials_expt(_write(tmp_path, data)).sweeps
    meta = sweep.metadata
    assert sweep.scan_type == "rotation"
    assert (meta["oscillation_start"], meta["oscillation_width"]) == (10.0, 0.1)
    assert meta["number_of_images"] == 3600 and meta["exposure_time"] == pytest.approx(0.002)
    assert meta["detector_distance"] == pytest.approx(300.0)
    assert meta["pixel_size_x"] == pytest.approx(75.0)
    assert [d["exists"] for d in sweep.datafiles] == [True, True] and not sweep.warnings


def test_not_an_experiment_list(tmp_path: Path) -> None:
    with pytest.raises(HarvestError, match="not a DIALS experiment list"):
        harvest_dials_expt(_write(tmp_path, {"__id__": "ReflectionTable"}))
    broken = tmp_path / "broken.expt"
    broken.write_text('{"__id__": "ExperimentList", ')
    with pytest.raises(HarvestError, match="not a DIALS experiment list"):
        harvest_dials_expt(broken)
    with pytest.raises(HarvestError, match="without experiments"):
        harvest_dials_expt(_write(tmp_path, {"__id__": "ExperimentList", "experiment": []}))


def test_cli_accepts_an_expt_file(shared) -> None:
    path = shared.file("ssx", "dials_i24_CuNiR_stills", "integrated.expt")
    result = CliRunner().invoke(cli, ["harvest", str(path)])
    assert result.exit_code == 0, result.output
    [obj] = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(obj["sweeps"]) == 5 and obj["layout"] == "dials-experiment-list"
