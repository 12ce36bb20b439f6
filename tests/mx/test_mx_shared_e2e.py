"""End to end on the real files: push every NXmx file, register every mmCIF result, group, search, show,
export mmCIF and re-read it with gemmi -- through the CLI and the Python API on one catalogue file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import gemmi
import pytest
from click.testing import CliRunner
from mx_support import open_mx

from mxicat.cli import cli
from mxicat.harvest.mmcif import import_mmcif
from mxicat.mx.mmcif_dictionary import check_mmcif, load_dictionaries

pytestmark = [pytest.mark.shared, pytest.mark.filterwarnings("ignore::UserWarning")]


def _files(shared: type, kind: str, patterns: tuple[str, ...]) -> list[Path]:
    root = shared.file(kind)  # skips (or fails under MXICAT_REQUIRE_SHARED=1) when absent
    found = sorted(p for pattern in patterns for p in Path(root).rglob(pattern))
    assert found, f"no {patterns} under {root}"
    return found


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for key in ("MXICAT_CATALOGUE", "MXICAT_USERNAME", "MXICAT_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MXICAT_CONFIG", str(tmp_path / "absent.toml"))
    return CliRunner()


def _run(runner: CliRunner, url: str, *args: str) -> str:
    result = runner.invoke(cli, ["--catalogue", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _has_software(path: Path) -> bool:
    block = gemmi.cif.read(str(path)).sole_block()
    return bool(block.find_values("_software.name"))


def test_shared_files_end_to_end(shared: type, runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    nxmx = _files(shared, "nxmx", ("*.nxs", "*master.h5"))
    cifs = _files(shared, "mmcif", ("*.cif",))

    pushed = json.loads(_run(runner, url, "push", *map(str, nxmx), "--investigation", "mx2532",
                             "--instrument", "id23eh2", "--format", "json"))
    assert {p["file"] for p in pushed} == set(map(str, nxmx))
    assert all(p["status"] == "created" for p in pushed)
    raw_ids = [p["id"] for p in pushed]
    # pushing again changes nothing
    again = json.loads(_run(runner, url, "push", *map(str, nxmx), "--investigation", "mx2532",
                            "--instrument", "id23eh2", "--format", "json"))
    assert {p["status"] for p in again} == {"unchanged"}

    processed: dict[str, int] = {}
    for index, cif in enumerate(cifs):
        name = f"proc_{cif.parent.name}"
        args = ["register-processed", name, "--input", str(raw_ids[index % len(raw_ids)]),
                "--mmcif", str(cif)]
        if not _has_software(cif):
            args += ["--program", "unknown-program"]
        reg = json.loads(_run(runner, url, *args))
        processed[name] = reg["id"]

    group = json.loads(_run(runner, url, "group", "all-raw", "--kind", "multi_sweep",
                            *map(str, raw_ids)))
    assert group["size"] == len(raw_ids)

    count = int(_run(runner, url, "search", "in_group('all-raw')", "--count"))
    assert count == len(raw_ids)
    found = json.loads(_run(runner, url, "search", "type = processed", "--format", "json",
                            "--limit", "100"))
    assert {d["name"] for d in found} == set(processed)
    for item in found:
        assert {"id", "name", "investigation", "type", "metadata"} <= set(item)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mx = open_mx(tmp_path / "e2e.db")
    compared = {"stored": 0, "exported": 0, "reread": 0}
    dictionaries = load_dictionaries(sorted(Path(shared.file("dictionaries")).glob("*.dic")))
    for cif in cifs:
        name = f"proc_{cif.parent.name}"
        shown = json.loads(_run(runner, url, "show", name, "--format", "json"))
        assert {"units", "provenance", "groups", "unverified"} <= set(shown)
        assert len(shown["provenance"]["inputs"]) == 1
        original = import_mmcif(cif)
        stored = shown["metadata"]
        # every canonical value the importer read from the file is in the catalogue, unchanged
        for key, value in original.metadata.items():
            if isinstance(value, float):
                assert stored[key] == pytest.approx(value), key
            elif isinstance(value, int | str):
                assert stored[key] == value, key
            compared["stored"] += 1

        text = _run(runner, url, "export-mmcif", name)
        assert check_mmcif(text, dictionaries) == [], name  # PDBx extension dictionaries, where they apply
        if original.technique == "SSX":
            assert "_pdbx_serial_crystallography" in text and "pdbx_serial_crystal_experiment" in text
        block = gemmi.cif.read_string(text).sole_block()
        reread = import_mmcif(text)
        source = gemmi.cif.read(str(cif)).sole_block()
        for item in ("_reflns.d_resolution_high", "_symmetry.space_group_name_H-M", "_cell.length_a",
                     "_reflns.pdbx_Rmerge_I_obs", "_reflns.percent_possible_obs"):
            value = source.find_value(item)
            if value is None or value in ("?", "."):
                continue
            written = block.find_value(item)
            assert written is not None, f"{cif.name}: {item} not exported"
            a, b = gemmi.cif.as_string(value), gemmi.cif.as_string(written)
            try:
                assert float(a) == pytest.approx(float(b)), item
            except ValueError:
                assert a == b, item
            compared["exported"] += 1
        processed_keys = {k for k in stored if mx.ontology.resolve(k) and
                          mx.ontology.resolve(k).term.record == "processed"}  # type: ignore[union-attr]
        for key in processed_keys & set(reread.metadata):
            value = stored[key]
            if isinstance(value, float):
                assert reread.metadata[key] == pytest.approx(value, rel=1e-6), key
                compared["reread"] += 1
    mx.close()
    assert compared["stored"] > 50 and compared["exported"] >= 12 and compared["reread"] > 30, compared
