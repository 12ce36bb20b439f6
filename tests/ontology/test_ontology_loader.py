"""Loading the packaged ontology, the required terms, and line-numbered errors for malformed YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mxicat.errors import BadParameterError, ConfigurationError
from mxicat.ontology import SHELLS, Ontology, OntologyFileError, Term, load_ontology


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


def test_default_ontology_is_cached_and_large(ont: Ontology) -> None:
    assert load_ontology() is ont
    assert len(ont.terms) >= 70
    assert all(isinstance(t, Term) for t in ont.terms.values())
    assert {"MX", "SSX"} <= {x for t in ont for x in t.techniques}
    themes = list(dict.fromkeys(t.theme for t in ont))
    assert themes[:3] == ["source_beam", "detector", "scan"]  # the files' 'order', not their names
    assert list(ont.theme_descriptions) == themes


@dataclass(frozen=True)
class Required:
    name: str
    unit: str | None = None  # None: not stated by the issue
    mmcif: str | None = None
    type: str | None = None


REQUIRED = [
    Required("wavelength", "angstrom", "_diffrn_radiation_wavelength.wavelength", "float"),
    Required("photon_energy", "keV", type="float"),
    Required("detector_distance", "mm", type="float"),
    Required("beam_center_x"), Required("beam_center_y"),
    Required("pixel_size_x"), Required("pixel_size_y"),
    Required("exposure_time", "s"),
    Required("number_of_images", type="int"),
    Required("oscillation_start", "deg"), Required("oscillation_width", "deg"),
    Required("transmission", "percent"),
    Required("flux", "photon/s"),
    Required("beam_size_x"), Required("beam_size_y"),
    Required("detector_model", type="str"), Required("beamline", type="str"),
    Required("facility", type="str"),
    Required("start_time", type="datetime"), Required("end_time", type="datetime"),
    Required("sample_name", type="str"),
    Required("sample_temperature", "K"),
    Required("scan_type"),
    Required("space_group", mmcif="_symmetry.space_group_name_H-M"),
    Required("cell_a", "angstrom", "_cell.length_a"), Required("cell_b", "angstrom", "_cell.length_b"),
    Required("cell_c", "angstrom", "_cell.length_c"),
    Required("cell_alpha", "deg", "_cell.angle_alpha"), Required("cell_beta", "deg", "_cell.angle_beta"),
    Required("cell_gamma", "deg", "_cell.angle_gamma"),
    Required("resolution_high", "angstrom", "_reflns.d_resolution_high"),
    Required("resolution_low", "angstrom", "_reflns.d_resolution_low"),
    Required("completeness", "percent", "_reflns.percent_possible_obs"),
    Required("multiplicity", mmcif="_reflns.pdbx_redundancy"),
    Required("r_merge", "", "_reflns.pdbx_Rmerge_I_obs"),
    Required("r_meas", ""), Required("r_pim", ""),
    Required("cc_half", "", "_reflns.pdbx_CC_half"),
    Required("mean_i_over_sigma", mmcif="_reflns.pdbx_netI_over_sigmaI"),
    Required("frames_total", type="int"), Required("crystal_hits", type="int"),
    Required("frames_indexed", type="int"), Required("lattices_merged", type="int"),
    Required("sample_delivery_method"), Required("software", type="str"),
]


@pytest.mark.parametrize("req", REQUIRED, ids=lambda r: r.name)
def test_required_terms(ont: Ontology, req: Required) -> None:
    term = ont.terms[req.name]
    assert term.description
    if req.unit is not None:
        assert term.unit == req.unit
    if req.mmcif is not None:
        assert req.mmcif in term.mmcif
        assert ont.by_mmcif(req.mmcif) is term
    if req.type is not None:
        assert term.type == req.type


def test_every_term_is_complete(ont: Ontology) -> None:
    for term in ont:
        assert term.icat_name and term.description and term.applies_to and term.techniques
        assert term.record in ("raw", "processed", "both")
        if term.type == "enum":
            assert term.allowed


def test_every_name_resolves_to_its_term(ont: Ontology) -> None:
    """Canonical keys, ICAT names (each shell) and every alias resolve to the term that lists them."""
    checked = 0
    for term in ont:
        for name, shell in term.names():
            found = ont.resolve(name)
            assert found is not None, name
            assert found.term is term, name
            assert found.shell == (shell if term.shells else None), name
            assert ont.term(name) is term
            checked += 1
    assert checked > 3 * len(ont.terms)


def test_per_shell_keys_and_icat_names(ont: Ontology) -> None:
    assert SHELLS == ("overall", "inner", "outer")
    r_merge = ont.term("r_merge")
    assert r_merge.shells == SHELLS
    assert ont.key("r_merge") == "r_merge"
    assert ont.key("r_merge", "inner") == "r_merge_inner"
    assert ont.key("r_merge", "outer") == "r_merge_outer"
    assert ont.key("r_merge", "overall") == "r_merge"
    assert r_merge.icat_name == "MXAutoprocIntegrationScaling_overall_r_merge"
    assert r_merge.icat_name_for("outer") == "MXAutoprocIntegrationScaling_outer_r_merge"
    found = ont.resolve("r_merge_overall")
    assert found is not None and (found.key, found.shell) == ("r_merge", "overall")
    found = ont.resolve("MXAutoprocIntegrationScaling_inner_r_meas_all_IPlus_IMinus")
    assert found is not None and (found.term.name, found.shell, found.key) == ("r_meas", "inner", "r_meas_inner")
    with pytest.raises(BadParameterError):
        ont.key("wavelength", "outer")


def test_unknown_term_raises(ont: Ontology) -> None:
    assert ont.resolve("no_such_thing") is None
    with pytest.raises(BadParameterError, match="no_such_thing"):
        ont.term("no_such_thing")


def test_lookup_by_mmcif_and_nxmx(ont: Ontology) -> None:
    assert ont.by_mmcif("_REFLNS_SHELL.pdbx_cc_half").name == "cc_half"  # type: ignore[union-attr]
    assert ont.by_mmcif("_reflns_shell.d_res_high").name == "resolution_high"  # type: ignore[union-attr]
    assert ont.by_mmcif("_no.such_item") is None
    assert ont.by_nxmx("/entry/instrument/beam/incident_wavelength").name == "wavelength"  # type: ignore[union-attr]
    assert ont.by_nxmx("entry1/sample/beam/incident_wavelength").name == "wavelength"  # type: ignore[union-attr]
    assert ont.by_nxmx("/entry/instrument/detector/module/fast_pixel_direction").name == "pixel_size_x"  # type: ignore[union-attr]
    assert ont.by_nxmx("/entry/sample/transformations/omega_end").name == "oscillation_end"  # type: ignore[union-attr]
    assert ont.by_nxmx("/entry/sample/transformations/omega").name == "oscillation_start"  # type: ignore[union-attr]
    assert ont.by_nxmx("/entry/instrument/nothing") is None


def test_case_insensitive_fallback(ont: Ontology) -> None:
    found = ont.resolve("mxautoprocintegrationscaling_outer_ccano")
    assert found is not None and found.key == "cc_ano_outer"
    assert ont.resolve("  MX_wavelength ") is not None


# --- malformed files -------------------------------------------------------------------------------

GOOD_TERM = """\
  - name: wavelength
    description: Incident wavelength.
    type: float
    unit: angstrom
    icat_name: MX_wavelength
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_explicit_path_folder_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "one.yaml", "theme: one\nterms:\n" + GOOD_TERM)
    for where in (tmp_path, path, str(path)):
        ont = load_ontology(where)
        assert list(ont.terms) == ["wavelength"]
        term = ont.terms["wavelength"]
        assert term.applies_to == ("dataset",) and term.record == "raw" and term.theme == "one"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", "theme: bad\nterms:\n" + GOOD_TERM + "  - name: [unclosed\n")
    with pytest.raises(OntologyFileError) as info:
        load_ontology(tmp_path)
    message = str(info.value)
    assert f"{path}:8:" in message or f"{path}:9:" in message
    assert "invalid YAML" in message
    assert isinstance(info.value, ConfigurationError)


def test_every_bad_field_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        "theme: t\n"                      # 1
        "terms:\n"                        # 2
        "  - name: Bad-Name\n"            # 3
        "    description: x\n"            # 4
        "    type: float\n"               # 5
        "    unit: furlongs_per_blah\n"   # 6
        "    icat_name: X_bad\n"          # 7
        "    colour: blue\n"              # 8
        "  - name: ok_name\n"             # 9
        "    description: y\n"            # 10
        "    type: enum\n"                # 11
        "    icat_name: X_ok\n"           # 12
        "    record: cooked\n"            # 13
    )
    path = _write(tmp_path, "t.yaml", text)
    with pytest.raises(OntologyFileError) as info:
        load_ontology(path)
    problems = info.value.problems
    joined = "\n".join(problems)
    assert f"{path}:8: term 'Bad-Name': unknown field 'colour'" in joined
    # the second term is still checked although the first one failed
    assert f"{path}:11: term 'ok_name': an enum term needs" in joined or f"{path}:9:" in joined
    assert f"{path}:13: term 'ok_name': record must be one of" in joined


def test_bad_unit_and_range_reported(tmp_path: Path) -> None:
    text = (
        "theme: t\nterms:\n"
        "  - name: a\n    description: x\n    type: float\n    unit: furlongs_per_blah\n"
        "    icat_name: X_a\n    minimum: 5\n    maximum: 1\n"
    )
    path = _write(tmp_path, "t.yaml", text)
    with pytest.raises(OntologyFileError) as info:
        load_ontology(path)
    joined = "\n".join(info.value.problems)
    assert f"{path}:6: term 'a': unknown unit 'furlongs_per_blah'" in joined
    assert f"{path}:8: term 'a': minimum 5.0 is greater than maximum 1.0" in joined


def test_missing_required_field_and_duplicate_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", "theme: t\nterms:\n  - name: a\n    type: float\n    icat_name: X\n")
    with pytest.raises(OntologyFileError, match=r"t\.yaml:3: term 'a': missing required field 'description'"):
        load_ontology(path)
    path = _write(tmp_path, "t.yaml", "theme: t\nterms:\n" + GOOD_TERM + "    unit: nm\n")
    with pytest.raises(OntologyFileError, match=r"t\.yaml:8: invalid YAML.*duplicate key 'unit'"):
        load_ontology(path)


def test_name_clash_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "theme: a\nterms:\n" + GOOD_TERM)
    _write(tmp_path, "b.yaml", "theme: b\nterms:\n  - name: energy\n    description: e\n    type: float\n"
                               "    unit: keV\n    icat_name: X_energy\n    aliases: [MX_wavelength]\n")
    with pytest.raises(OntologyFileError, match=r"b\.yaml:3: term 'energy': name 'MX_wavelength' already "
                                                 r"means 'wavelength'"):
        load_ontology(tmp_path)


def test_shell_template_rules(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", "theme: s\nterms:\n  - name: r\n    description: r\n    type: float\n"
                                      "    icat_name: G_r\n    shells: [overall, inner, outer]\n")
    with pytest.raises(OntologyFileError, match=r"needs \{shell\} in its ICAT name"):
        load_ontology(path)


def test_empty_or_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no \\*.yaml"):
        load_ontology(tmp_path)
    with pytest.raises(ConfigurationError, match="not found"):
        load_ontology(tmp_path / "absent")
    _write(tmp_path, "x.yaml", "- just\n- a list\n")
    with pytest.raises(OntologyFileError, match="expected a mapping"):
        load_ontology(tmp_path)


def test_duplicate_term_name_and_all_field_problems(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "theme: a\nterms:\n" + GOOD_TERM)
    _write(tmp_path, "b.yaml", "theme: b\nterms:\n" + GOOD_TERM.replace("MX_wavelength", "X_w") +
           "  - name: c\n    description: d\n    type: float\n    icat_name: X_c\n    colour: red\n"
           "    unit: parsecs_per_blah\n")
    with pytest.raises(OntologyFileError) as info:
        load_ontology(tmp_path)
    joined = "\n".join(info.value.problems)
    assert "b.yaml:3: term 'wavelength' is already defined at" in joined and "a.yaml:3" in joined
    # an unknown field does not hide the other problems of the same term
    assert "b.yaml:12: term 'c': unknown field 'colour'" in joined
    assert "b.yaml:13: term 'c': unknown unit 'parsecs_per_blah'" in joined
