"""Unit conversion and value parsing: pint units, ESRF strings, fractions/percent, datetimes."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import pint
import pytest

from mxicat.errors import BadParameterError, UnitConversionWarning
from mxicat.ontology import Ontology, load_ontology, ureg


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


@pytest.mark.parametrize(
    ("term", "value", "unit", "expected"),
    [
        # percent / fraction
        ("transmission", 0.49, "", 49.0),
        ("transmission", 0.49, "dimensionless", 49.0),
        ("transmission", "49", None, 49.0),
        ("completeness", 0.998, "", 99.8),
        ("r_merge", 7.1, "percent", 0.071),
        ("r_merge", "7.1%", None, 0.071),
        ("r_merge", "7.1 %", None, 0.071),
        ("r_merge", 0.071, None, 0.071),
        ("cc_half", "99.8%", None, 0.998),
        # eV / keV
        ("photon_energy", 12650, "eV", 12.65),
        ("photon_energy", "12650 eV", None, 12.65),
        ("photon_energy", "12.65", None, 12.65),
        ("threshold_energy", 6325, "eV", 6.325),
        # m / mm / um
        ("detector_distance", 0.21396, "m", 213.96),
        ("detector_distance", "213.96", None, 213.96),
        ("pixel_size_x", 7.5e-5, "m", 75.0),
        ("pixel_size_x", 0.075, "mm", 75.0),
        ("sensor_thickness", 0.00045, "m", 450.0),
        ("beam_size_x", 50, "um", 0.05),
        # Hz / photon per second
        ("flux", 2.0982e9, "Hz", 2.0982e9),
        ("flux", 3, "kHz", 3000.0),
        ("flux", "2.7e11", None, 2.7e11),
        ("flux", 5e11, "ph/s", 5e11),
        # angstrom / nm
        ("wavelength", 0.098027356, "nm", 0.98027356),
        ("wavelength", "0.98 Å", None, 0.98),
        ("wavelength", "0.98 angstrom", None, 0.98),
        # time, temperature, rate
        ("exposure_time", 8, "ms", 0.008),
        ("sample_temperature", -173.15, "degC", 100.0),
        ("injector_flow_rate", 0.22, "uL/min", 0.22),
        ("photons_per_pulse", 1.5, "Tphoton", 1.5e12),
        ("oscillation_width", 0.25, "deg", 0.25),
        ("oscillation_width", 0.004363323129985824, "rad", 0.25),
    ],
)
def test_convert(ont: Ontology, term: str, value: object, unit: str | None, expected: float) -> None:
    result = ont.convert(term, value, unit)
    assert isinstance(result, float)
    assert result == pytest.approx(expected, rel=1e-12)


def test_quantities_from_any_registry(ont: Ontology) -> None:
    assert ont.convert("detector_distance", ureg.Quantity(0.2, "m")) == pytest.approx(200.0)
    other = pint.UnitRegistry()
    assert ont.convert("detector_distance", other.Quantity(2, "cm")) == pytest.approx(20.0)
    assert ont.convert("exposure_time", {"value": "10", "unit": "ms"}) == pytest.approx(0.01)
    assert ont.convert("exposure_time", {"value": 0.5, "units": "s"}) == pytest.approx(0.5)


def test_conversion_noise_is_dropped(ont: Ontology) -> None:
    assert ont.convert("wavelength", 0.098, "nm") == 0.98
    assert ont.convert("sample_temperature", -173.15, "degC") == 100.0


@pytest.mark.parametrize(
    ("term", "value", "unit", "reason"),
    [
        ("wavelength", 12.4, "keV", "cannot convert 'keV' to 'angstrom'"),  # E = hc/lambda is no unit conversion
        ("photon_energy", 0.98, "angstrom", "cannot convert 'angstrom' to 'keV'"),
        ("beam_center_x", 12.0, "mm", "cannot convert 'mm' to 'pixel'"),
        ("detector_distance", 1, "furlongs_per_blah", "unknown unit"),
        ("detector_distance", "far", None, "not a number"),
        ("detector_distance", "m", None, "not a number"),  # a bare unit is no value
        ("detector_distance", "mm 12", None, "not a number"),
        ("detector_distance", "", None, "empty value"),
        ("detector_distance", "nan", None, "not a finite number"),
        ("detector_distance", -5, None, "below the minimum 0 mm"),
        ("transmission", 140, None, "above the maximum 100 percent"),
        ("photon_energy", "12650", None, "above the maximum 1000 keV"),  # eV sent without unit
        ("cc_half", 99.8, None, "above the maximum 1"),
        ("number_of_images", "3600.5", None, "expected an integer"),
        ("number_of_images", True, None, "boolean"),
        ("detector_distance", [1, 2], None, "expected a number"),
        ("sample_name", "ok", "mm", "has no unit"),
    ],
)
def test_bad_values(ont: Ontology, term: str, value: object, unit: str | None, reason: str) -> None:
    with pytest.raises(BadParameterError, match=reason):
        ont.convert(term, value, unit)


def test_bare_fraction_above_one_warns_and_is_kept(ont: Ontology) -> None:
    with pytest.warns(UnitConversionWarning, match="kept as a fraction"):
        assert ont.convert("r_merge", "7.1") == 7.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ont.convert("r_merge", "0.9") == 0.9  # no warning for plausible fractions
        assert ont.convert("r_merge", "7.1", "percent") == pytest.approx(0.071)


def test_integers_from_strings(ont: Ontology) -> None:
    assert ont.convert("number_of_images", "3600") == 3600
    assert ont.convert("number_of_images", "3600.0") == 3600
    assert isinstance(ont.convert("number_of_images", 3600.0), int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-25T10:00:00+01:00", datetime(2025, 3, 25, 10, tzinfo=timezone(timedelta(hours=1)))),
        ("2019-02-14T14:25:57Z", datetime(2019, 2, 14, 14, 25, 57, tzinfo=UTC)),
        ("2019-02-14T14:25:57", datetime(2019, 2, 14, 14, 25, 57)),
        ("2016-12-16T07:06:17.852051", datetime(2016, 12, 16, 7, 6, 17, 852051)),
        ("2025-03-25 10:00:00", datetime(2025, 3, 25, 10)),
        ("2019-02-14:14:25", datetime(2019, 2, 14, 14, 25)),  # PDBx yyyy-mm-dd:hh:mm-flex
        ("2019-02-14", datetime(2019, 2, 14)),
    ],
)
def test_datetimes(ont: Ontology, text: str, expected: datetime) -> None:
    result = ont.convert("start_time", text)
    assert result == expected
    assert result.tzinfo == expected.tzinfo


def test_bad_datetime(ont: Ontology) -> None:
    with pytest.raises(BadParameterError, match="not an ISO 8601"):
        ont.convert("start_time", "yesterday")
    with pytest.raises(BadParameterError, match="ISO 8601"):
        ont.convert("start_time", 1234567890)


def test_bool_enum_and_text(ont: Ontology) -> None:
    assert ont.convert("serial_experiment", "Y") is True
    assert ont.convert("serial_experiment", "N") is False
    assert ont.convert("anomalous", "1") is True
    assert ont.convert("take_pedestal", "False") is False
    with pytest.raises(BadParameterError, match="expected a boolean"):
        ont.convert("anomalous", "maybe")
    assert ont.convert("sample_delivery_method", "Fixed Target") == "fixed target"
    with pytest.raises(BadParameterError, match="not one of: fixed target, injection"):
        ont.convert("sample_delivery_method", "teleport")
    assert ont.convert("sample_name", "  Sample-8-1-05 ") == "Sample-8-1-05"
    assert ont.convert("data_collection_id", 12345) == "12345"
    assert ont.convert("sample_name", b"abc") == "abc"


def test_registry_knows_photon() -> None:
    assert ureg.Quantity(1, "Hz").to("photon/s").magnitude == pytest.approx(1.0)


def test_arrays_and_lists(ont: Ontology) -> None:
    import numpy as np

    assert ont.convert("detector_distance", np.array([0.21396]), "m") == pytest.approx(213.96)  # h5py (1,)
    assert ont.convert("number_of_images", np.int64(488)) == 488
    assert ont.convert("wavelength", np.float32(0.9801122)) == pytest.approx(0.9801122, rel=1e-6)
    with pytest.raises(BadParameterError, match="expected a number"):
        ont.convert("wavelength", np.array([0.98, 0.99]))  # per-shot arrays are the harvester's to reduce
    # text terms take flat lists the way pyicat-plus serialises them
    assert ont.convert("input_datasets", ["/data/a", "/data/b"]) == "/data/a,/data/b"
    with pytest.raises(BadParameterError, match="expected text"):
        ont.convert("input_datasets", {"a": 1})
