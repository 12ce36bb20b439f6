"""pyicat-plus messages as written by pyicat-plus 3.1.0 (shared test data) through store_dataset /
store_processed_data: the key conventions of a real producer reach the catalogue intact."""

from __future__ import annotations

import pytest

from mxicat.ingest.messages import parse_message
from mxicat.mx import MxCatalogue

pytestmark = [pytest.mark.shared, pytest.mark.filterwarnings("ignore::UserWarning")]


def test_real_pyicat_plus_messages(mx: MxCatalogue, shared: type) -> None:
    raw = parse_message(shared.file("pyicat-plus", "raw_dataset.xml").read_bytes())
    processed = parse_message(shared.file("pyicat-plus", "processed_dataset.xml").read_bytes())
    first = mx.store_dataset(raw.beamline, raw.proposal, raw.name, raw.location, raw.parameters)
    detail = mx.dataset(first.id)
    assert detail["metadata"]["number_of_images"] == int(raw.parameters["MX_numberOfImages"])
    assert detail["metadata"]["wavelength"] == pytest.approx(float(
        raw.parameters["InstrumentMonochromator_wavelength"]))
    assert detail["metadata"]["data_collection_id"] == raw.parameters["MX_dataCollectionId"]
    assert detail["sample"] == raw.sample_name and detail["complete"] is True
    assert detail["beamline"] == raw.beamline
    assert "complete" not in detail["unverified"]
    # every key sent is either a canonical value or kept unverified under its own name
    kept = set(detail["unverified"])
    for key in set(raw.parameters) - {"complete"}:  # complete is Dataset.complete
        assert mx.ontology.resolve(key) is not None or key in kept, key
    # the second run the processed result merges, registered the same way
    second_location = processed.input_datasets[1]
    mx.store_dataset(raw.beamline, raw.proposal, "run_02", second_location,
                     {**raw.parameters, "MX_dataCollectionId": "2910434"})
    result = mx.store_processed_data(processed.beamline, processed.proposal, processed.name,
                                     processed.location, processed.parameters)
    pdetail = mx.dataset(result.id)
    assert sorted(d["name"] for d in pdetail["provenance"]["inputs"]) == ["run_01", "run_02"]
    assert pdetail["provenance"]["jobs"][0]["program"] == processed.parameters["Process_program"]
    assert pdetail["metadata"]["r_merge"] == pytest.approx(float(
        processed.parameters["MXAutoprocIntegrationScaling_overall_r_merge"]))
    assert pdetail["metadata"]["space_group"] == processed.parameters["MXAutoprocIntegration_space_group"]
    assert pdetail["input_datasets"] == processed.input_datasets
    assert mx.count_datasets("r_merge < 0.1 and cc_half_outer > 0.5") == 1
