"""The MX CLI commands on generated files (CliRunner, real SQLite catalogue file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mx_support import write_mmcif, write_nxmx

from mxicat.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    for key in ("MXICAT_CATALOGUE", "MXICAT_USERNAME", "MXICAT_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MXICAT_CONFIG", str(tmp_path / "absent.toml"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, stderr: bool = False) -> str:
        result = runner.invoke(cli, ["--catalogue", url, *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.stderr if stderr or code != 0 else result.stdout

    return invoke


def test_push_search_show_group_export(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        write_nxmx(data / f"x{i}_master.h5", sample=f"crystal{i}", wavelength=0.95 + i / 100)
    warned = run("push", str(data / "x0_master.h5"), "-i", "mx2532", "-b", "ID23EH2", stderr=True)
    assert "warning: investigation mx2532/1 did not exist: created it" in warned
    pushed = json.loads(run("push", str(data), "-i", "mx2532", "-b", "ID23EH2", "--format", "json"))
    assert [p["name"] for p in pushed] == ["x0_master", "x1_master", "x2_master"]
    assert [p["status"] for p in pushed] == ["unchanged", "created", "created"]
    table = run("push", str(data / "x0_master.h5"), "-i", "mx2532", "-b", "id23eh2")
    assert "unchanged" in table
    assert run("search", "wavelength < 0.96 angstrom", "--count").strip() == "1"
    assert run("search", "beamline = id23eh2", "--count").strip() == "3"
    listed = json.loads(run("search", "sample_name like 'crystal%'", "--format", "json", "--limit", "2"))
    assert len(listed) == 2 and listed[0]["metadata"]["wavelength"] == pytest.approx(0.95)
    assert "x0_master" in run("search", "--limit", "5")

    cif = write_mmcif(tmp_path / "r.cif", program="XDS", version="2024", d_min=1.9)
    reg = json.loads(run("register-processed", "xds_run", "--input", "x0_master", "--input", "x1_master",
                         "--mmcif", str(cif)))
    assert reg["status"] == "created"
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"space_group": "P 1", "resolution_high": 2.5}))
    json.loads(run("register-processed", "manual", "--input", "xds_run", "--metadata", str(values),
                   "--program", "coot"))
    shown = json.loads(run("show", "manual", "--format", "json"))
    assert shown["provenance"]["inputs"][0]["name"] == "xds_run"
    assert {d["name"] for d in shown["provenance"]["upstream"]} == {"xds_run", "x0_master", "x1_master"}
    assert "resolution_high" in run("show", "xds_run")

    group = json.loads(run("group", "pair", "--kind", "merge", "x0_master", "x1_master", "-p", "note=a"))
    assert group["size"] == 2
    assert run("search", "in_group(pair)", "--count").strip() == "2"
    text = run("export-mmcif", "xds_run")
    assert text.startswith("data_") and "_reflns.d_resolution_high" in text
    out = tmp_path / "group.cif"
    run("export-mmcif", "pair", "--group", "-o", str(out))
    assert "_diffrn" in out.read_text()


def test_errors_are_one_line_with_exit_codes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    err = run("search", "resolution < 2", code=2)
    assert "no catalogue file" in err and "mxicat init" in err  # a read never creates the file
    run("init")
    err = run("search", "wavelength < 1 kg", code=2)
    assert "BAD_PARAMETER" in err and "position 15" in err and "Traceback" not in err
    err = run("show", "nothing-here", code=4)
    assert "NO_SUCH_OBJECT_FOUND" in err
    err = run("register-processed", "p", "--input", "1", code=2)
    assert "--mmcif" in err
    err = run("group", "g", "1", "--parameter", "novalue", code=2)
    assert "KEY=VALUE" in err
