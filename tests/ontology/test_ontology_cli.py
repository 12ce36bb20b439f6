"""``mxicat ontology ...`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mxicat.cli import cli
from mxicat.ontology import load_ontology
from mxicat.ontology.export import JSON_KEYS


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["ontology", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["", "list", "show", "resolve", "export", "validate"])
def test_every_command_has_help_with_example(command: str) -> None:
    code, out = run(*([command] if command else []), "--help")
    assert code == 0
    assert "Example:" in out and "mxicat ontology" in out


def test_list_table_and_json() -> None:
    code, out = run("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["name", "type", "unit", "ICAT name", "record", "techniques"]
    assert "wavelength\tfloat\tangstrom\tMX_wavelength\traw\tMX,SSX" in lines
    assert len(lines) == len(load_ontology().terms) + 1
    code, out = run("list", "--technique", "SSX", "--format", "json")
    records = json.loads(out)
    assert code == 0 and all("SSX" in r["techniques"] for r in records)
    assert {"frames_total", "wavelength"} <= {r["name"] for r in records}
    assert "anomalous_statistics" in {r["name"] for r in records}
    assert "element" not in {r["name"] for r in records}  # MX/MAD energy scans only
    code, out = run("list", "--record", "processed", "--format", "json")
    assert {r["record"] for r in json.loads(out)} == {"processed", "both"}


def test_show_accepts_aliases() -> None:
    code, out = run("show", "MX_oscillationStart")
    assert code == 0
    assert "MX_oscillationStart -> oscillation_start" in out and "MX_axis_start" in out and "deg" in out
    code, out = run("show", "MXAutoprocIntegrationScaling_outer_cc_half", "--format", "json")
    data = json.loads(out)
    assert data["name"] == "cc_half" and data["shells"] == ["overall", "inner", "outer"]
    code, out = run("show", "nonsense_term")
    assert code == 2 and "unknown ontology term 'nonsense_term'" in out


def test_resolve_reports_terms_and_shells() -> None:
    names = ["MX_oscillationStart", "scanType", "MXAutoprocIntegrationScaling_outer_cc_half",
             "MXAutoprocIntegrationScaling_inner_cc_ano", "total_flux"]
    code, out = run("resolve", *names, "--format", "json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["MX_oscillationStart"]["term"] == "oscillation_start"
    assert rows["scanType"]["icat_name"] == "MX_scanType"
    assert (rows["MXAutoprocIntegrationScaling_outer_cc_half"]["term"],
            rows["MXAutoprocIntegrationScaling_outer_cc_half"]["shell"]) == ("cc_half", "outer")
    assert rows["MXAutoprocIntegrationScaling_inner_cc_ano"]["key"] == "cc_ano_inner"
    assert rows["total_flux"]["unit"] == "photon/s"


def test_resolve_exit_1_when_any_unknown() -> None:
    code, out = run("resolve", "MX_wavelength", "sampleId")
    assert code == 1
    assert "sampleId\tunknown" in out and "MX_wavelength\twavelength" in out


def test_export_json_has_exactly_the_keys() -> None:
    code, out = run("export", "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert isinstance(records, list) and len(records) == len(load_ontology().terms)
    for record in records:
        assert tuple(record) == JSON_KEYS
        for key in ("mmcif", "nxmx", "aliases", "applies_to", "techniques"):
            assert isinstance(record[key], list)
    wavelength = next(r for r in records if r["name"] == "wavelength")
    assert wavelength["mmcif"] == ["_diffrn_radiation_wavelength.wavelength"]
    assert wavelength["unit"] == "angstrom" and wavelength["icat_name"] == "MX_wavelength"


def test_export_icat_and_markdown(tmp_path: Path) -> None:
    code, out = run("export", "--format", "icat")
    types = json.loads(out)
    assert code == 0 and {"name", "units", "valueType"} <= set(types[0])
    target = tmp_path / "ontology.md"
    code, _ = run("export", "--format", "markdown", "-o", str(target))
    assert code == 0 and target.read_text().startswith("<!-- Generated from ontology/*.yaml")


def test_validate_file(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"MX_wavelength": "0.98", "MX_numberOfImages": "3600", "lims": "x"}))
    code, out = run("validate", str(good))
    assert code == 0
    assert "unmapped: lims" in out and "2 value(s) valid, 0 problem(s), 1 unmapped" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("MX_wavelength: abc\nMX_transmission: 150\nSample_name: s1\n")
    code, out = run("validate", str(bad))
    assert code == 1
    assert "problem: MX_wavelength='abc': not a number" in out
    assert "problem: MX_transmission=150:" in out
    code, out = run("validate", str(bad), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and len(data["problems"]) == 2
    assert data["values"] == {"sample_name": "s1"}


def test_validate_record_filter_and_bad_files(tmp_path: Path) -> None:
    processed = tmp_path / "p.json"
    processed.write_text(json.dumps({"MXAutoprocIntegrationScaling_overall_r_merge": "0.05"}))
    assert run("validate", str(processed), "--record", "processed")[0] == 0
    code, out = run("validate", str(processed), "--record", "raw")
    assert code == 1 and "processed-data term" in out
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out = run("validate", str(broken))
    assert code == 2 and "not valid json" in out
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    code, out = run("validate", str(listed))
    assert code == 2 and "expected a mapping" in out


def test_alternative_ontology_folder(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("theme: x\nterms:\n  - name: only_term\n    description: d\n"
                                     "    type: str\n    icat_name: X_only\n")
    code, out = run("--ontology", str(tmp_path), "resolve", "X_only", "MX_wavelength")
    assert code == 1 and "X_only\tonly_term" in out and "MX_wavelength\tunknown" in out
    (tmp_path / "x.yaml").write_text("theme: x\nterms:\n  - name: only_term\n    type: str\n")
    code, out = run("--ontology", str(tmp_path), "list")
    assert code == 78 and "x.yaml:3: term 'only_term': missing required field" in out
