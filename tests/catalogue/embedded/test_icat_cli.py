"""``mxicat init`` and ``mxicat icat import/export/search/summary`` through click, on real files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mxicat.cli import cli

SMALL = """\
%YAML 1.1
---
facility:
  Facility_name-ESRF:
    name: ESRF
datasetType:
  DatasetType_facility-(name-ESRF)_name-raw:
    facility: Facility_name-ESRF
    name: raw
investigationType:
  InvestigationType_name-MX_facility-(name-ESRF):
    facility: Facility_name-ESRF
    name: MX
---
investigation:
  Investigation_facility-(name-ESRF)_name-mx1_visitId-1:
    facility: Facility_name-ESRF
    name: mx1
    title: Lysozyme
    type: InvestigationType_name-MX_facility-(name-ESRF)
    visitId: '1'
dataset:
  Dataset_investigation-(facility-(name-ESRF)_name-mx1_visitId-1)_name-d1:
    complete: false
    investigation: Investigation_facility-(name-ESRF)_name-mx1_visitId-1
    name: d1
    startDate: '2024-05-01T10:00:00+00:00'
    type: DatasetType_facility-(name-ESRF)_name-raw
rule:
  Rule_00000001:
    crudFlags: R
    what: Grouping <-> UserGroup <-> User [name=:user]
  Rule_00000002:
    crudFlags: CRUD
    what: DataCollection [createId=:user]
"""


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--catalogue", f"sqlite:///{db}", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_import_search_export_cycle(tmp_path: Path) -> None:
    dump = tmp_path / "small.yaml"
    dump.write_text(SMALL)
    db = tmp_path / "new" / "cat.db"
    code, out = _run(db, "icat", "import", str(dump))  # creates the missing file bare
    assert code == 0 and "imported" in out
    code, out = _run(db, "icat", "export", "-")
    assert code == 0 and "Dataset_investigation-(facility-(name-ESRF)_name-mx1_visitId-1)_name-d1" in out
    code, out = _run(db, "icat", "search", "SELECT COUNT(d) FROM Dataset d")
    assert (code, json.loads(out)) == (0, [1])
    code, out = _run(db, "icat", "search", "SELECT d.name, d.startDate FROM Dataset d")
    assert json.loads(out) == [["d1", "2024-05-01T10:00:00.000Z"]]
    code, out = _run(db, "icat", "search", "Dataset [name='d1']")
    (obj,) = json.loads(out)
    assert obj["Dataset"]["name"] == "d1" and obj["Dataset"]["datafiles"] == []
    code, out = _run(db, "icat", "search", "SELECT d.name FROM Dataset d", "--format", "table")
    assert code == 0 and "d1" in out
    code, out = _run(db, "icat", "search", "SELECT COUNT(d) FROM Dataset d", "--as", "db/jdoe")
    assert json.loads(out) == [0]
    for suffix in ("yaml", "xml"):
        target = tmp_path / f"out.{suffix}"
        assert _run(db, "icat", "export", str(target))[0] == 0
        db2 = tmp_path / f"again-{suffix}.db"
        assert _run(db2, "icat", "import", str(target))[0] == 0
        again = tmp_path / f"again.{suffix}"
        assert _run(db2, "icat", "export", str(again))[0] == 0
        skip = ("# Date", "# Service", "  <date>", "  <service>")
        assert ([ln for ln in target.read_text().splitlines() if not ln.startswith(skip)]
                == [ln for ln in again.read_text().splitlines() if not ln.startswith(skip)])


def test_errors_are_one_line(tmp_path: Path) -> None:
    dump = tmp_path / "bad.yaml"
    dump.write_text(SMALL.replace("name: d1", "name: d1\n    colour: red"))
    result = CliRunner().invoke(cli, ["--catalogue", f"sqlite:///{tmp_path / 'c.db'}", "icat", "import", str(dump)])
    assert result.exit_code != 0
    assert "colour" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--catalogue", f"sqlite:///{tmp_path / 'c.db'}", "icat", "search", "SELECT"])
    assert result.exit_code != 0 and "BAD_PARAMETER" in result.output


def test_init_bare_and_seeded(tmp_path: Path) -> None:
    bare = tmp_path / "bare.db"
    code, out = _run(bare, "init", "--bare")
    assert code == 0 and "created" in out
    assert json.loads(_run(bare, "icat", "search", "SELECT COUNT(r) FROM Rule r")[1]) == [0]
    assert _run(bare, "init", "--bare")[1].endswith("schema up to date\n")
    seeded = tmp_path / "seeded.db"
    code, out = _run(seeded, "init")
    assert code == 0, out
    assert json.loads(_run(seeded, "icat", "search", "SELECT COUNT(r) FROM Rule r")[1])[0] > 0


def test_summary_layout_and_python_icat_example(tmp_path: Path, shared) -> None:
    db = tmp_path / "cat.db"
    assert _run(db, "icat", "import", str(shared.file("icat", "icatdump-5.0.yaml")))[0] == 0
    code, out = _run(db, "icat", "summary")
    expected = shared.file("icat", "summary-5").read_text()
    assert code == 0
    assert [ln for ln in out.splitlines() if not ln.startswith("Subject ")] == expected.splitlines()
    # another user's view (authorization decides the numbers; rows not depending on createId must match)
    code, out = _run(db, "icat", "summary", "--as", "db/jdoe")
    expected = shared.file("icat", "summary-5.jdoe").read_text().splitlines()
    ours = [ln for ln in out.splitlines() if not ln.startswith("Subject ")]
    assert ours[0] == "User: db/jdoe" and len(ours) == len(expected)
    created_by = ("DataCollection", "Job ", "RelatedDatafile")
    assert [a for a, b in zip(ours, expected, strict=True) if a != b and not a.startswith(created_by)] == []
