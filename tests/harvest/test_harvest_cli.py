"""``mxicat harvest``: directory walking, JSON lines, table, bad files, parallel jobs."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from nxmx_fixtures import group, nxmx_entry, stills_entry

from mxicat.cli import cli
from mxicat.cli.harvest import discover


@pytest.fixture
def visit(tmp_path: Path) -> Path:
    """A visit folder: two masters (one .nxs, one *_master.h5), an SSX master named *.h5, data files."""
    (tmp_path / "sub").mkdir()
    with h5py.File(tmp_path / "rot_1.nxs", "w") as f:
        nxmx_entry(f, frames=12)
    with h5py.File(tmp_path / "sub" / "grid_master.h5", "w") as f:
        nxmx_entry(f, frames=6, width=0.0)
    with h5py.File(tmp_path / "sub" / "chip_run.h5", "w") as f:
        stills_entry(f, frames=3)
    with h5py.File(tmp_path / "sub" / "grid_data_000001.h5", "w") as f:  # a Dectris-style data file
        entry = group(f, "entry", "NXentry")
        group(entry, "data", "NXdata").create_dataset("data", data=np.zeros((3, 4, 4), "uint16"))
    with h5py.File(tmp_path / "rot_1_000001.h5", "w") as f:  # a GDA data file: /data only
        f.create_dataset("data", data=np.zeros((2, 4, 4), "uint16"))
    (tmp_path / "notes.txt").write_text("not data")
    return tmp_path


def test_discover_walks_for_masters_only(visit: Path) -> None:
    found = sorted(Path(p).name for p in discover((str(visit),)))
    assert found == ["chip_run.h5", "grid_master.h5", "rot_1.nxs"]


def test_json_lines_one_object_per_file(visit: Path) -> None:
    result = CliRunner().invoke(cli, ["harvest", str(visit), "--format", "json"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 3
    by_name = {Path(o["file"]).name: o for o in objects}
    assert by_name["rot_1.nxs"]["sweeps"][0]["scan_type"] == "rotation"
    assert by_name["rot_1.nxs"]["sweeps"][0]["metadata"]["number_of_images"] == 12
    assert by_name["grid_master.h5"]["sweeps"][0]["scan_type"] == "still"
    assert by_name["chip_run.h5"]["sweeps"][0]["metadata"]["number_of_images"] == 3


def test_bad_files_one_line_each_others_harvested_exit_non_zero(visit: Path, tmp_path: Path) -> None:
    junk = visit / "broken_master.h5"
    junk.write_bytes(b"\x00garbage" * 100)
    empty = visit / "empty.nxs"
    with h5py.File(empty, "w") as f:
        f.create_dataset("x", data=1)
    result = CliRunner().invoke(cli, ["harvest", str(visit), "--jobs", "2"])
    assert result.exit_code != 0
    errors = result.stderr.strip().splitlines()
    assert any(str(junk) in line and "not an HDF5 file" in line for line in errors)
    assert any(str(empty) in line and "no MX content" in line for line in errors)
    assert all(line.startswith("mxicat: error: ") for line in errors if "WARNING" not in line)
    assert len(result.stdout.splitlines()) == 3  # the good files


def test_table_format(visit: Path) -> None:
    result = CliRunner().invoke(cli, ["harvest", str(visit / "rot_1.nxs"), "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "rot_1.nxs" in result.stdout and "rotation" in result.stdout


def test_missing_path_is_one_error_line_and_the_rest_is_harvested(visit: Path) -> None:
    missing = visit / "nope_master.h5"
    result = CliRunner().invoke(cli, ["harvest", str(missing), str(visit / "rot_1.nxs")])
    assert result.exit_code != 0
    assert f"mxicat: error: BAD_PARAMETER: {missing}: no such file" in result.stderr
    assert len(result.stdout.splitlines()) == 1
