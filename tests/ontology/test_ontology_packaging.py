"""The shipped YAML equals ``ontology/``, and ``docs/ontology.md`` is generated from it (not stale)."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from mxicat.ontology import load_ontology
from mxicat.ontology.export import as_markdown
from mxicat.ontology.loader import default_ontology_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "ontology"
PACKAGED = "mxicat/ontology/yaml"


def _source_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(SOURCE.iterdir()) if p.is_file()}


def _installed_editable() -> bool | None:
    """True/False for an editable/regular install of mxicat, None when it is not installed."""
    try:
        dist = metadata.distribution("mxicat")
    except metadata.PackageNotFoundError:
        return None
    direct_url = dist.read_text("direct_url.json")
    if not direct_url:
        return False
    return bool(json.loads(direct_url).get("dir_info", {}).get("editable", False))


def test_packaged_yaml_equals_source_folder() -> None:
    """In a regular install the loader reads the wheel's copy, which must equal ontology/ byte for byte;
    in a source checkout or editable install it reads ontology/ itself and the wheel config ships it."""
    source = _source_files()
    assert any(name.endswith(".yaml") for name in source)
    used = default_ontology_path()
    editable = _installed_editable()
    if used.resolve() == SOURCE.resolve():
        assert editable in (True, None), "a regular install must use its packaged YAML, not ontology/"
        config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
        force = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
        assert force.get("ontology") == PACKAGED
        return
    assert editable is False
    assert used.as_posix().endswith(PACKAGED)
    packaged = {p.name: p.read_bytes() for p in sorted(used.iterdir()) if p.is_file()}
    assert packaged.keys() == source.keys(), "reinstall mxicat: the packaged ontology differs"
    for name, content in source.items():
        assert packaged[name] == content, f"{name}: packaged copy differs from ontology/{name}"
    # the installed distribution's RECORD lists every file too
    recorded = {Path(str(f)).name for f in metadata.files("mxicat") or [] if str(f).startswith(PACKAGED)}
    assert recorded == set(source)


def test_docs_ontology_md_is_fresh() -> None:
    doc = REPO_ROOT / "docs" / "ontology.md"
    if not doc.exists():
        pytest.fail("docs/ontology.md missing: run `mxicat ontology export --format markdown "
                    "-o docs/ontology.md`")
    expected = as_markdown(load_ontology()) + "\n"
    assert doc.read_text(encoding="utf-8") == expected, (
        "docs/ontology.md is stale: run `mxicat ontology export --format markdown -o docs/ontology.md`")


def test_docs_mention_every_term() -> None:
    text = (REPO_ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    for term in load_ontology():
        assert f"| `{term.name}` |" in text
