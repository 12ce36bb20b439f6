"""validate(), to_icat() and from_icat(): every bad field at once, unmapped keys kept, ICAT round trip."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import pytest

from mxicat.errors import BadParameterError, OntologyTermWarning, UnitConversionWarning
from mxicat.ontology import (
    Ontology,
    Problem,
    ValidationResult,
    from_icat,
    load_ontology,
    to_icat,
    validate,
)

#: an ESRF-style raw dataset message: every value a string (pyicat-plus serialisation)
ESRF_RAW = {
    "Sample_name": "Sample-8-1-05",
    "startDate": "2025-03-25T10:00:00+01:00",
    "endDate": "2025-03-25T10:03:00+01:00",
    "MX_scanType": "datacollection",
    "MX_numberOfImages": "3600",
    "MX_exposureTime": "0.01",
    "MX_oscillationStart": "0.0",
    "MX_oscillationRange": "0.1",
    "MX_detectorDistance": "213.96",
    "MX_transmission": "49.5",
    "MX_flux": "2.1e12",
    "InstrumentMonochromator_wavelength": "0.98",
    "InstrumentMonochromator_energy": "12.65",
    "InstrumentDetector01_beam_center_x": "2216.05",
    "machine": "host.esrf.fr",
    "software": "pyicat-plus_v0.4",
}


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


def test_esrf_strings_become_canonical_values(ont: Ontology) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = validate(ESRF_RAW, record="raw", technique="MX", ontology=ont)
    assert isinstance(result, ValidationResult) and result.ok and not result.unmapped
    values = result.values
    assert values["number_of_images"] == 3600 and isinstance(values["number_of_images"], int)
    assert values["oscillation_start"] == 0.0
    assert values["wavelength"] == 0.98 and values["photon_energy"] == 12.65
    assert values["start_time"] == datetime(2025, 3, 25, 10, tzinfo=timezone(timedelta(hours=1)))
    assert values["transmission"] == 49.5
    assert result.sources["oscillation_start"] == "MX_oscillationStart"
    assert len(values) == len(ESRF_RAW)


def test_every_bad_field_reported_at_once(ont: Ontology) -> None:
    metadata = {
        "MX_wavelength": "abc",
        "MX_transmission": "150",
        "MX_numberOfImages": "12.5",
        "startDate": "not a date",
        "MX_detectorDistance": "200",
    }
    result = validate(metadata, ontology=ont)
    assert not result.ok
    assert {p.key for p in result.problems} == {"MX_wavelength", "MX_transmission", "MX_numberOfImages",
                                                "startDate"}
    assert all(isinstance(p, Problem) and p.reason for p in result.problems)
    bad = {p.key: p for p in result.problems}
    assert bad["MX_transmission"].value == "150" and "maximum 100" in bad["MX_transmission"].reason
    assert "MX_transmission='150'" in str(bad["MX_transmission"])
    assert result.values == {"detector_distance": 200.0}


def test_unknown_keys_are_kept_unmapped_with_a_warning(ont: Ontology) -> None:
    metadata = {"MX_wavelength": "0.98", "sampleId": "42", "chip_colour": "blue"}
    with pytest.warns(OntologyTermWarning, match="chip_colour, sampleId"):
        result = validate(metadata, ontology=ont)
    assert result.ok
    assert result.unmapped == {"sampleId": "42", "chip_colour": "blue"}
    assert result.values == {"wavelength": 0.98}


def test_none_means_absent(ont: Ontology) -> None:
    result = validate({"MX_wavelength": None, "MX_flux": "1e12"}, ontology=ont)
    assert result.values == {"flux": 1e12} and result.ok and not result.unmapped


def test_record_and_technique_filters(ont: Ontology) -> None:
    metadata = {"MX_wavelength": "0.98", "MXAutoprocIntegrationScaling_overall_r_merge": "0.05",
                "Sample_name": "s1", "chipModel": "Oxford"}
    raw = validate(metadata, record="raw", ontology=ont)
    assert [p.key for p in raw.problems] == ["MXAutoprocIntegrationScaling_overall_r_merge"]
    assert "processed-data term" in raw.problems[0].reason
    processed = validate(metadata, record="processed", ontology=ont)
    assert {p.key for p in processed.problems} == {"MX_wavelength", "chipModel"}
    assert "sample_name" in processed.values  # 'both' terms belong to every record
    mx = validate(metadata, technique="MX", ontology=ont)
    assert [p.key for p in mx.problems] == ["chipModel"]
    assert validate(metadata, technique="ssx", ontology=ont).ok


def test_conflicting_names_for_one_key(ont: Ontology) -> None:
    same = validate({"MX_wavelength": "0.98", "InstrumentMonochromator_wavelength": "0.98"}, ontology=ont)
    assert same.ok and same.values == {"wavelength": 0.98}
    units = validate({"MX_detectorDistance": "213.96", "detector_distance": {"value": 0.21396, "unit": "m"}},
                     ontology=ont)
    assert units.ok and units.values == {"detector_distance": 213.96}
    differ = validate({"MX_wavelength": "0.98", "InstrumentMonochromator_wavelength": "1.2"}, ontology=ont)
    assert [p.key for p in differ.problems] == ["InstrumentMonochromator_wavelength"]
    assert "conflicts with MX_wavelength" in differ.problems[0].reason


def test_r_factor_percent_handling(ont: Ontology) -> None:
    edna2 = {f"MXAutoprocIntegrationScaling_{s}_r_merge": v
             for s, v in (("overall", "7.1"), ("inner", "3.2"), ("outer", "120.5"))}
    with pytest.warns(UnitConversionWarning):
        bare = validate(edna2, ontology=ont)
    assert bare.values["r_merge"] == 7.1 and len(bare.notes) == 3
    declared = validate(edna2, ontology=ont, units={"r_merge": "percent"})
    assert declared.values == pytest.approx({"r_merge": 0.071, "r_merge_inner": 0.032,
                                             "r_merge_outer": 1.205})
    assert not declared.notes
    one_key = validate(edna2, ontology=ont, units={"r_merge_outer": "percent"}, warn=False)
    assert one_key.values["r_merge_outer"] == pytest.approx(1.205) and len(one_key.notes) == 2


def test_to_icat_and_back(ont: Ontology) -> None:
    result = validate(ESRF_RAW, ontology=ont)
    icat = to_icat(result.values, ontology=ont)
    assert icat["MX_axis_start"] == 0.0  # legacy MX_oscillationStart is written under the current name
    assert icat["MX_wavelength"] == 0.98
    assert "InstrumentMonochromator_wavelength" not in icat
    back = from_icat(icat, ontology=ont)
    assert back.ok and back.values == result.values


def test_to_icat_per_shell_and_bool(ont: Ontology) -> None:
    values = {"r_merge": 0.05, "r_merge_outer": 0.9, "cc_ano_inner": 0.4, "anomalous": True}
    icat = to_icat(values, ontology=ont)
    assert icat == {
        "MXAutoprocIntegrationScaling_overall_r_merge": 0.05,
        "MXAutoprocIntegrationScaling_outer_r_merge": 0.9,
        "MXAutoprocIntegrationScaling_inner_ccAno": 0.4,
        "MXAutoprocIntegration_anomalous": 1,
    }
    with pytest.raises(BadParameterError, match="no_such_key"):
        to_icat({"no_such_key": 1, "r_merge": 0.1}, ontology=ont)


def test_from_icat_drift_names(ont: Ontology) -> None:
    params = {"MXAutoprocIntegrationScaling_outer_cc_ano": "0.31", "scanType": "integration",
              "MX_axis_range": "Omega", "Process_program": "XDS", "custom": "x"}
    result = from_icat(params, ontology=ont, warn=False)
    assert result.values == {"cc_ano_outer": 0.31, "scan_type": "integration", "rotation_axis": "Omega",
                             "software": "XDS"}
    assert result.unmapped == {"custom": "x"}


def test_default_ontology_used_when_none_given() -> None:
    assert validate({"MX_wavelength": "1.0"}).values == {"wavelength": 1.0}


def _numeric_keys() -> list[tuple[str, float, float]]:
    out = []
    for term in load_ontology():
        if term.numeric:
            low = term.minimum if term.minimum is not None else -1e6
            high = term.maximum if term.maximum is not None else 1e6
            out.extend((key, low, high) for key in term.keys())
    return out


NUMERIC_KEYS = _numeric_keys()


def test_round_trip_property(ont: Ontology) -> None:
    """Any in-range value of any numeric key, sent as an ESRF string under its ICAT name, comes back
    unchanged through validate -> to_icat -> from_icat."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(NUMERIC_KEYS), st.floats(0, 1))
    def check(entry: tuple[str, float, float], position: float) -> None:
        key, low, high = entry
        resolved = ont.resolve(key)
        assert resolved is not None
        value: float | int = low + (high - low) * position
        if resolved.term.type == "int":
            value = int(value)
            if value < low:
                value += 1
        first = validate({resolved.icat_name: str(value)}, ontology=ont, warn=False)
        assert first.ok, first.problems
        assert first.values[key] == pytest.approx(value)
        back = from_icat(to_icat(first.values, ontology=ont), ontology=ont, warn=False)
        assert back.values == first.values

    check()
