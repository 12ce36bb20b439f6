"""``mxicat rules export`` and ``mxicat user ...`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mxicat.catalogue.embedded.rules_default import beamline_group_rules, default_rules
from mxicat.catalogue.embedded.store import EmbeddedStore
from mxicat.cli import cli
from mxicat.errors import SessionError


def test_rules_export_yaml_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "policy.yaml"
    res = runner.invoke(cli, ["rules", "export", "-o", str(out), "--beamline-group", "bl1staff=ID23-1"])
    assert res.exit_code == 0, res.output
    [chunk] = list(yaml.safe_load_all(out.read_text()))
    assert len(chunk["rule"]) == len(default_rules()) + len(beamline_group_rules("bl1staff", "ID23-1"))
    assert set(chunk["grouping"]) == {"Grouping_name-ingest", "Grouping_name-useroffice", "Grouping_name-bl1staff"}
    assert any("'ID23-1'" in r["what"] and r["grouping"] == "Grouping_name-bl1staff" for r in chunk["rule"].values())
    res = runner.invoke(cli, ["rules", "export", "--format", "json"])
    entities = json.loads(res.output)
    assert {next(iter(e)) for e in entities} == {"Grouping", "Rule", "PublicStep"}
    res = runner.invoke(cli, ["rules", "export", "--beamline-group", "nonsense"])
    assert res.exit_code != 0 and "GROUPING=INSTRUMENT" in res.output


def test_user_add_passwd_login(tmp_path: Path) -> None:
    db = tmp_path / "cat.db"
    url = f"sqlite:///{db}"
    runner = CliRunner()
    assert runner.invoke(cli, ["--catalogue", url, "init", "--bare"]).exit_code == 0
    res = runner.invoke(cli, ["--catalogue", url, "user", "add", "jdoe", "--password-stdin"], input="s3cret\n")
    assert res.exit_code == 0 and res.output.strip() == "db/jdoe"
    store = EmbeddedStore(db)
    try:
        assert store.login("db", {"username": "jdoe", "password": "s3cret"}).user_name == "db/jdoe"
        res = runner.invoke(cli, ["--catalogue", url, "user", "passwd", "jdoe", "--password-stdin"], input="new\n")
        assert res.exit_code == 0
        with pytest.raises(SessionError):
            store.login("db", {"username": "jdoe", "password": "s3cret"})
        assert runner.invoke(cli, ["--catalogue", url, "user", "list"]).output.split() == ["db/jdoe"]
        assert runner.invoke(cli, ["--catalogue", url, "user", "remove", "jdoe"]).exit_code == 0
        assert runner.invoke(cli, ["--catalogue", url, "user", "remove", "jdoe"]).exit_code != 0
    finally:
        store.close()
