"""ISPyB-style integration/scaling dicts (mx-metadata.md §10-§11) → canonical per-shell metadata."""

from __future__ import annotations

import warnings

import pytest

from mxicat.errors import BadParameterError
from mxicat.mx.ispyb import from_ispyb

approx = pytest.approx

# one scaling of a two-sweep merge, as xia2 reports it to ISPyB (values from the xia2 summary in the
# shared test data, §3.4, plus a second sweep)
STATISTICS = [
    {"scalingStatisticsType": "outerShell", "resolutionLimitLow": 1.58, "resolutionLimitHigh": 1.55,
     "rMerge": 2.382, "rMeasAllIPlusIMinus": 2.693, "rPimAllIPlusIMinus": 1.217, "meanIOverSigI": 0.1,
     "completeness": 86.2, "multiplicity": 4.4, "ccHalf": 0.188, "nTotalObservations": 7113,
     "nTotalUniqueObservations": 1616, "anomalous": 0},
    {"scalingStatisticsType": "innerShell", "resolutionLimitLow": 47.91, "resolutionLimitHigh": 4.21,
     "rMerge": 0.040, "rMeasAllIPlusIMinus": 0.042, "rPimAllIPlusIMinus": 0.014, "meanIOverSigI": 49.3,
     "completeness": 100.0, "multiplicity": 9.1, "ccHalf": 0.999, "nTotalObservations": 18969,
     "nTotalUniqueObservations": 2088},
    {"scalingStatisticsType": "overall", "resolutionLimitLow": 47.89, "resolutionLimitHigh": 1.55,
     "rMerge": 0.102, "rMeasAllIPlusIMinus": 0.108, "rPimAllIPlusIMinus": 0.035, "meanIOverSigI": 7.1,
     "completeness": 99.0, "multiplicity": 8.8, "ccHalf": 0.998, "nTotalObservations": 328664,
     "nTotalUniqueObservations": 37545, "anomalousCompleteness": 98.6, "comments": "xia2"},
]
INTEGRATIONS = [
    {"autoProcIntegrationId": 11, "dataCollectionId": 1066786, "startImageNumber": 1001, "endImageNumber": 1161,
     "refinedDetectorDistance": 180.2, "refinedXBeam": 150.1, "refinedYBeam": 151.3, "cell_a": 60.09,
     "cell_b": 60.09, "cell_c": 122.38, "cell_alpha": 90, "cell_beta": 90, "cell_gamma": 120, "anomalous": 0},
    {"autoProcIntegrationId": 12, "dataCollectionId": 1066790, "startImageNumber": 1, "endImageNumber": 900,
     "cell_a": 60.12, "cell_b": 60.12, "cell_c": 122.41, "cell_alpha": 90, "cell_beta": 90, "cell_gamma": 120},
]
AUTO_PROC = {"spaceGroup": "P 31 2 1", "refinedCell_a": 60.0816, "refinedCell_b": 60.0816,
             "refinedCell_c": 122.3824, "refinedCell_alpha": 90, "refinedCell_beta": 90, "refinedCell_gamma": 120}
PROGRAM = {"processingPrograms": "xia2 dials", "processingPackageVersion": "0.6.467"}


def _check_statistics(result) -> None:
    m = result.metadata
    assert (m["resolution_high"], m["resolution_low"]) == (approx(1.55), approx(47.89))
    assert (m["resolution_high_inner"], m["resolution_high_outer"]) == (approx(4.21), approx(1.55))
    assert (m["r_merge"], m["r_merge_inner"], m["r_merge_outer"]) == (approx(0.102), approx(0.040), approx(2.382))
    assert (m["r_meas"], m["r_pim_outer"]) == (approx(0.108), approx(1.217))
    assert (m["completeness"], m["completeness_outer"]) == (approx(99.0), approx(86.2))  # percent stays percent
    assert (m["cc_half"], m["cc_half_outer"]) == (approx(0.998), approx(0.188))
    assert (m["mean_i_over_sigma_inner"], m["multiplicity"]) == (approx(49.3), approx(8.8))
    assert (m["n_total_observations"], m["n_unique_observations_outer"]) == (328664, 1616)
    assert m["anomalous_completeness"] == approx(98.6)
    assert m["space_group"] == "P 31 2 1" and m["cell_c"] == approx(122.3824)
    assert result.data_collection_ids == [1066786, 1066790]


def test_flat_shape():
    result = from_ispyb({"AutoProc": AUTO_PROC, "AutoProcProgram": PROGRAM,
                         "AutoProcScalingStatistics": STATISTICS, "AutoProcIntegration": INTEGRATIONS})
    _check_statistics(result)
    assert result.sources["r_merge_outer"] == "AutoProcScalingStatistics[outerShell].rMerge"
    first = result.integrations[0]
    assert first.data_collection_id == 1066786
    assert first.metadata["integration_start_image"] == 1001
    assert first.metadata["integration_end_image"] == 1161
    assert first.metadata["refined_detector_distance"] == approx(180.2)
    assert first.metadata["cell_c"] == approx(122.38) and first.metadata["anomalous"] is False
    assert result.integrations[1].metadata["cell_a"] == approx(60.12)
    assert result.software == [{"name": "xia2 dials", "version": "0.6.467", "classification": "data processing"}]
    assert result.metadata["software"] == "xia2 dials 0.6.467"
    assert result.warnings == []


def test_nested_container_shape():
    data = {"AutoProcContainer": {
        "AutoProc": AUTO_PROC,
        "AutoProcScalingContainer": {
            "AutoProcScaling": {"recordTimeStamp": "2020-10-31 10:00:00"},
            "AutoProcScalingStatistics": STATISTICS,
            "AutoProcIntegrationContainer": [{"Image": {"fileName": "x_0001.cbf"}, "AutoProcIntegration": row}
                                             for row in INTEGRATIONS],
        },
        "AutoProcProgramContainer": {"AutoProcProgram": PROGRAM},
    }}
    _check_statistics(from_ispyb(data))


def test_statistics_keyed_by_shell_under_scaling():
    keyed = {row["scalingStatisticsType"]: {k: v for k, v in row.items() if k != "scalingStatisticsType"}
             for row in STATISTICS}
    result = from_ispyb({"AutoProc": AUTO_PROC, "AutoProcScaling": keyed, "AutoProcIntegration": INTEGRATIONS})
    _check_statistics(result)


def test_dls_stored_procedure_spellings():
    rows = [{"type": "overall", "res_lim_high": 1.9, "r_merge": 0.05, "mean_i_sig_i": 12.0, "cc_half": 0.99},
            {"type": "innerShell", "res_lim_high": 5.1, "r_merge": 0.03},
            {"type": "outerShell", "res_lim_high": 1.9, "r_merge": 0.9, "cc_anom": 0.1}]
    m = from_ispyb({"AutoProcScalingStatistics": rows}).metadata
    assert (m["resolution_high"], m["r_merge"], m["mean_i_over_sigma"]) == (approx(1.9), approx(0.05), approx(12.0))
    assert (m["r_merge_inner"], m["r_merge_outer"], m["cc_ano_outer"]) == (approx(0.03), approx(0.9), approx(0.1))


def test_percent_r_factors_with_units():
    rows = [{"scalingStatisticsType": "overall", "rMerge": 7.1, "ccHalf": 99.8},
            {"scalingStatisticsType": "innerShell", "rMerge": 3.0},
            {"scalingStatisticsType": "outerShell", "rMerge": 88.1}]
    m = from_ispyb({"AutoProcScalingStatistics": rows}, units={"rMerge": "percent", "ccHalf": "percent"}).metadata
    assert (m["r_merge"], m["r_merge_outer"], m["cc_half"]) == (approx(0.071), approx(0.881), approx(0.998))


def test_percent_cc_half_without_unit_is_rejected():
    rows = [{"scalingStatisticsType": "overall", "ccHalf": 99.8}]
    with pytest.raises(BadParameterError, match=r"overall\]\.ccHalf = 99.8"):
        from_ispyb({"AutoProcScalingStatistics": rows})


def test_missing_shells_and_unknown_fields():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = from_ispyb({"AutoProcScalingStatistics": [{"scalingStatisticsType": "overall", "rMerge": 0.05,
                                                            "someNewStat": 3}],
                             "AutoProcIntegration": [{"startImageNumber": 1}]})
    assert result.metadata == {"r_merge": approx(0.05)}
    assert result.unmapped == {"AutoProcScalingStatistics[overall].someNewStat": 3}
    assert any("without inner, outer" in w for w in result.warnings)
    assert any("no dataCollectionId" in w for w in result.warnings)
    assert result.data_collection_ids == []


@pytest.mark.parametrize(("data", "message"), [
    ({}, "no AutoProcScalingStatistics"),
    ({"AutoProcScalingStatistics": [{"scalingStatisticsType": "middleShell"}]}, "unknown scalingStatisticsType"),
    ({"AutoProcScalingStatistics": [{"scalingStatisticsType": "overall"}, {"scalingStatisticsType": "overall"}]},
     "two overall"),
    ({"AutoProcScalingStatistics": [{"scalingStatisticsType": "overall", "completeness": "lots"}]}, "completeness"),
    ({"AutoProcScalingStatistics": "overall"}, "expected a list"),
])
def test_bad_input(data, message):
    with pytest.raises(BadParameterError, match=message):
        from_ispyb(data)


def test_not_a_mapping():
    with pytest.raises(BadParameterError, match="expected a mapping"):
        from_ispyb([1, 2])  # type: ignore[arg-type]
