"""ICAT ParameterType definitions generated from the ontology."""

from __future__ import annotations

from collections import Counter

import pytest

from mxicat.ontology import Ontology, load_ontology, parameter_types

ICAT_FIELDS = {"name", "units", "unitsFullName", "valueType", "applicableToDataset",
               "applicableToDatafile", "applicableToSample", "applicableToInvestigation",
               "applicableToDataCollection", "minimumNumericValue", "maximumNumericValue", "enforced",
               "verified", "description", "pid", "permissibleStringValues"}


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


@pytest.fixture(scope="module")
def types(ont: Ontology) -> dict[str, dict[str, object]]:
    return {t["name"]: t for t in parameter_types(ont)}


def test_one_type_per_term_and_shell(ont: Ontology, types: dict[str, dict[str, object]]) -> None:
    generated = parameter_types(ont)
    assert len(generated) == sum(len(t.keys()) for t in ont)
    assert len(types) == len(generated)  # names unique, hence (facility, name, units) unique too
    assert all(set(t) <= ICAT_FIELDS for t in generated)
    assert all({"name", "units", "valueType"} <= set(t) for t in generated)
    assert Counter(t["valueType"] for t in generated).keys() == {"NUMERIC", "STRING", "DATE_AND_TIME"}


def test_numeric_with_unit_and_range(types: dict[str, dict[str, object]]) -> None:
    wavelength = types["MX_wavelength"]
    assert wavelength["valueType"] == "NUMERIC"
    assert wavelength["units"] == "angstrom" and wavelength["unitsFullName"] == "angstrom"
    assert wavelength["minimumNumericValue"] == 0.0 and "maximumNumericValue" not in wavelength
    assert wavelength["applicableToDataset"] is True and wavelength["applicableToSample"] is False
    energy = types["InstrumentMonochromator_energy"]
    assert energy["units"] == "keV" and energy["unitsFullName"] == "kiloelectron_volt"
    transmission = types["MX_transmission"]
    assert (transmission["units"], transmission["minimumNumericValue"],
            transmission["maximumNumericValue"], transmission["enforced"]) == ("percent", 0.0, 100.0, True)


def test_strings_dates_enums_bools(types: dict[str, dict[str, object]]) -> None:
    assert types["Sample_name"]["valueType"] == "STRING" and types["Sample_name"]["units"] == "N/A"
    assert types["Sample_name"]["applicableToSample"] is True
    assert types["startDate"]["valueType"] == "DATE_AND_TIME"
    delivery = types["SSXSampleDelivery_method"]
    assert delivery["permissibleStringValues"] == [{"value": "fixed target"}, {"value": "injection"}]
    assert delivery["enforced"] is True and delivery["pid"] == "https://w3id.org/PaN/ESRFET#SSX"
    anomalous = types["MXAutoprocIntegration_anomalous"]
    assert (anomalous["valueType"], anomalous["minimumNumericValue"], anomalous["maximumNumericValue"]) == (
        "NUMERIC", 0.0, 1.0)


def test_per_shell_types(types: dict[str, dict[str, object]]) -> None:
    for shell in ("overall", "inner", "outer"):
        entry = types[f"MXAutoprocIntegrationScaling_{shell}_cc_half"]
        assert entry["units"] == "N/A" and f"({shell} shell)" in str(entry["description"])
        assert entry["minimumNumericValue"] == -1.0 and entry["maximumNumericValue"] == 1.0
    assert "MXAutoprocIntegrationScaling_outer_cc_ano" not in types  # drift spelling is an alias only
    assert "MXAutoprocIntegrationScaling_outer_ccAno" in types
