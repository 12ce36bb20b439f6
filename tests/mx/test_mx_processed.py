"""register_processed: values / mmCIF / ISPyB inputs, Job provenance, transitive graph, pyicat-plus calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from mx_support import write_mmcif

from mxicat.errors import BadParameterError, NoSuchObjectFoundError
from mxicat.mx import MxCatalogue

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _raw(mx: MxCatalogue, name: str, **extra: object) -> int:
    meta = {"Sample_name": "lyso", "MX_wavelength": 0.9763, **extra}
    return mx.register_collection("mx2532", name, meta, beamline="id23eh2",
                                  location=f"/data/mx2532/{name}").id


def test_processed_from_mmcif_links_inputs_by_path_and_name(mx: MxCatalogue, tmp_path: Path) -> None:
    a, b = _raw(mx, "sweep_1"), _raw(mx, "sweep_2")
    cif = write_mmcif(tmp_path / "scaled.cif", program="XSCALE", version="Jan 2022", d_min=1.45)
    reg = mx.register_processed("merged", inputs=["/data/mx2532/sweep_1/", "sweep_2"], mmcif=cif)
    detail = mx.dataset(reg.id)
    assert detail["type"] == "processed" and detail["sample"] == "lyso"
    meta = detail["metadata"]
    assert meta["resolution_high"] == pytest.approx(1.45)
    assert meta["r_merge"] == pytest.approx(0.071)
    assert meta["r_merge_outer"] == pytest.approx(0.85)
    assert meta["r_merge_inner"] == pytest.approx(0.031)
    assert meta["space_group"] == "P 43 21 2"
    assert meta["completeness"] == pytest.approx(99.5) and detail["units"]["completeness"] == "percent"
    assert detail["input_datasets"] == ["/data/mx2532/sweep_1", "/data/mx2532/sweep_2"]
    assert sorted(d["id"] for d in detail["provenance"]["inputs"]) == [a, b]
    (job,) = detail["provenance"]["jobs"]
    assert (job["program"], job["version"]) == ("XSCALE", "Jan 2022")
    assert detail["software"][0]["classification"] == "data scaling"
    # ICAT-native provenance objects
    app = mx.session.search("SELECT a FROM Application a WHERE a.name = 'XSCALE'")
    assert len(app) == 1
    jobs = mx.session.search("SELECT COUNT(j) FROM Job j")
    assert jobs == [1]
    # raw side sees the output
    assert [d["id"] for d in mx.dataset(a)["provenance"]["outputs"]] == [reg.id]
    # re-registration: same content, no second job
    again = mx.register_processed("merged", inputs=[a, b], mmcif=cif)
    assert again.status == "unchanged" and mx.session.search("SELECT COUNT(j) FROM Job j") == [1]


def test_transitive_provenance(mx: MxCatalogue) -> None:
    raw = _raw(mx, "r1")
    integrated = mx.register_processed("int", inputs=[raw], values={"space_group": "P 1"},
                                       program="dials.integrate", version="3.17").id
    scaled = mx.register_processed("scaled", inputs=[integrated], values={"resolution_high": 1.9},
                                   program="dials.scale").id
    graph = mx.dataset(scaled)["provenance"]
    assert [(d["id"], d["depth"]) for d in graph["upstream"]] == [(integrated, 1), (raw, 2)]
    down = mx.dataset(raw)["provenance"]["downstream"]
    assert [(d["id"], d["depth"]) for d in down] == [(integrated, 1), (scaled, 2)]
    assert mx.count_datasets("resolution_high < 2 and type = processed") == 1


def test_processed_from_ispyb_dict_finds_raw_inputs_by_collection_id(mx: MxCatalogue) -> None:
    a = _raw(mx, "dc_1", MX_dataCollectionId="1066786")
    b = _raw(mx, "dc_2", MX_dataCollectionId="1066787")
    scaling = {
        "AutoProc": {"spaceGroup": "P 21 21 21", "refinedCell_a": 78.1, "refinedCell_b": 79.2,
                     "refinedCell_c": 37.9, "refinedCell_alpha": 90, "refinedCell_beta": 90,
                     "refinedCell_gamma": 90},
        "AutoProcProgram": {"processingPrograms": "xia2 dials", "processingPackageVersion": "3.8"},
        "AutoProcScalingStatistics": [
            {"scalingStatisticsType": "overall", "resolutionLimitHigh": 1.6, "rMerge": 0.08,
             "completeness": 99.1},
            {"scalingStatisticsType": "innerShell", "resolutionLimitHigh": 4.3, "rMerge": 0.03,
             "completeness": 99.9},
            {"scalingStatisticsType": "outerShell", "resolutionLimitHigh": 1.6, "rMerge": 0.9,
             "completeness": 95.0},
        ],
        "AutoProcIntegration": [{"dataCollectionId": 1066786, "startImageNumber": 1},
                                {"dataCollectionId": 1066787, "startImageNumber": 1}],
    }
    reg = mx.register_processed("xia2_merge", inputs=[], ispyb=scaling)
    detail = mx.dataset(reg.id)
    assert sorted(d["id"] for d in detail["provenance"]["inputs"]) == [a, b]
    assert detail["metadata"]["r_merge_outer"] == pytest.approx(0.9)
    assert detail["metadata"]["space_group"] == "P 21 21 21"


def test_processed_errors(mx: MxCatalogue) -> None:
    raw = _raw(mx, "r1")
    with pytest.raises(BadParameterError, match="input"):
        mx.register_processed("p", inputs=[], values={"space_group": "P 1"}, program="x")
    with pytest.raises(BadParameterError, match="program"):
        mx.register_processed("p", inputs=[raw], values={"space_group": "P 1"})
    with pytest.raises(NoSuchObjectFoundError):
        mx.register_processed("p", inputs=["/no/such/dir"], values={"space_group": "P 1"}, program="x")
    assert mx.count_datasets("type = processed") == 0


def test_pyicat_plus_store_dataset_and_processed(mx: MxCatalogue) -> None:
    with pytest.raises(BadParameterError, match="Sample_name"):
        mx.store_dataset("id23eh2", "mx2532", "run1", "/data/visitor/mx2532/id23eh2/RAW_DATA/run1", {})
    raw = mx.store_dataset(
        "id23eh2", "MX2532", "run1", "/data/visitor/mx2532/id23eh2/RAW_DATA/run1/",
        {"Sample_name": "Sample-8-1-05", "MX_exposureTime": "0.01", "MX_numberOfImages": "3600",
         "startDate": "2025-03-25T10:00:00+01:00", "definition": "MX SAD", "scanType": "datacollection",
         "MX_unknownThing": "42"})
    detail = mx.dataset(raw.id)
    assert detail["metadata"]["number_of_images"] == 3600
    assert detail["metadata"]["machine"] and detail["metadata"]["software"].startswith("mxicat_v")
    assert detail["techniques"] == ["MX", "SAD"]
    assert detail["unverified"] == {"MX_unknownThing": "42"}
    assert detail["location"] == "/data/visitor/mx2532/id23eh2/RAW_DATA/run1"
    with pytest.raises(BadParameterError, match="Provide 'raw'"):
        mx.store_processed_data("id23eh2", "mx2532", "proc", "/p", {"Sample_name": "s"})
    proc = mx.store_processed_data(
        "id23eh2", "mx2532", "autoPROC", "/data/visitor/mx2532/id23eh2/PROCESSED_DATA/run1",
        {"Sample_name": "Sample-8-1-05", "scanType": "integration", "Process_program": "autoPROC",
         "MXAutoprocIntegrationScaling_overall_r_merge": "0.052"},
        raw=["/data/visitor/mx2532/id23eh2/RAW_DATA/run1"])
    pdetail = mx.dataset(proc.id)
    assert [d["id"] for d in pdetail["provenance"]["inputs"]] == [raw.id]
    assert pdetail["metadata"]["r_merge"] == pytest.approx(0.052)
    assert pdetail["provenance"]["jobs"][0]["program"] == "autoPROC"
