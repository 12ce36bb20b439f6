"""Messages applied to a real embedded catalogue through the MX layer (the ingester's sink)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mxicat.errors import NoSuchObjectFoundError
from mxicat.ingest.messages import (
    AddFilesMessage,
    DatasetMessage,
    InvestigationMessage,
    UpdateMetadataMessage,
    parse_message,
)
from mxicat.ingest.sink import UNSCHEDULED_KEYWORD, CatalogueSink, SchedulePolicy
from mxicat.mx import MxCatalogue, open_catalogue

RAW = "/data/visitor/mx2532/id23eh2/20261120/RAW_DATA/lyso/lyso-A1"


@pytest.fixture
def mx(tmp_path: Path) -> Iterator[MxCatalogue]:
    cat = open_catalogue(f"sqlite:///{tmp_path / 'ingest.db'}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield cat
    cat.close()


def raw_message(name: str, when: str = "2026-11-20T10:00:00+00:00", **params: str) -> DatasetMessage:
    parameters = {"Sample_name": "lyso-A1", "MX_numberOfImages": "3600", "MX_exposureTime": "0.01",
                  "InstrumentMonochromator_wavelength": "0.97625", **params}
    return DatasetMessage(proposal="mx2532", beamline="id23eh2", name=name, location=f"{RAW}/{name}",
                          sample_name="lyso-A1", parameters=parameters,
                          start_date=datetime.fromisoformat(when), end_date=datetime.fromisoformat(when))


def schedule(mx: MxCatalogue, start: str, end: str, visit: str = "1") -> int:
    inv = mx.registry.create_investigation(
        "mx2532", visit_id=visit, beamline="id23eh2",
        start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))
    return int(inv["id"])


def test_raw_and_processed_land_with_provenance(mx: MxCatalogue, shared) -> None:
    sink = CatalogueSink(mx)
    inv = schedule(mx, "2026-11-20T08:00:00+00:00", "2026-11-20T20:00:00+00:00")
    sink.handle(raw_message("run_01"))
    sink.handle(raw_message("run_02"))
    processed = parse_message(shared.file("pyicat-plus", "processed_dataset.xml").read_bytes())
    sink.handle(processed)
    page = mx.search_datasets("r_merge < 0.1")
    assert [d["name"] for d in page.items] == ["autoPROC_run_01"]
    detail = mx.dataset("autoPROC_run_01")
    assert detail["investigation_id"] == inv and detail["type"] == "processed"
    inputs = {d["name"] for d in detail["provenance"]["inputs"]}
    assert inputs == {"run_01", "run_02"}
    assert detail["metadata"]["space_group"] == "P 43 21 2"
    assert detail["metadata"]["cc_half_outer"] == pytest.approx(0.61)
    raw = mx.dataset("run_01")
    assert raw["metadata"]["number_of_images"] == 3600
    assert raw["metadata"]["wavelength"] == pytest.approx(0.97625)


def test_redelivery_changes_nothing(mx: MxCatalogue) -> None:
    sink = CatalogueSink(mx)
    schedule(mx, "2026-11-20T08:00:00+00:00", "2026-11-20T20:00:00+00:00")
    message = raw_message("run_01")
    sink.handle(message)
    before = mx.dataset("run_01")
    sink.handle(message)
    after = mx.dataset("run_01")
    assert before == after
    assert mx.count_datasets() == 1


def test_dataset_goes_to_the_session_within_the_window(mx: MxCatalogue) -> None:
    sink = CatalogueSink(mx)
    early = schedule(mx, "2026-11-01T08:00:00+00:00", "2026-11-02T08:00:00+00:00", visit="1")
    late = schedule(mx, "2026-11-20T08:00:00+00:00", "2026-11-21T08:00:00+00:00", visit="2")
    assert sink.investigation_for("mx2532", "id23eh2", datetime(2026, 11, 22, 12, tzinfo=UTC)) == late
    assert sink.investigation_for("mx2532", "id23eh2", datetime(2026, 11, 1, 12, tzinfo=UTC)) == early


def test_unscheduled_dataset_gets_a_flagged_investigation_once(mx: MxCatalogue) -> None:
    sink = CatalogueSink(mx)
    schedule(mx, "2026-01-01T08:00:00+00:00", "2026-01-02T08:00:00+00:00")
    sink.handle(raw_message("run_x", when="2026-11-20T10:00:00+00:00"))
    sink.handle(raw_message("run_y", when="2026-11-20T11:00:00+00:00"))
    assert sink.unscheduled_created == 1
    rows = mx.session.search("SELECT k.investigation.visitId FROM Keyword k WHERE k.name = 'unscheduled'")
    assert rows == ["id23eh2-20261120"]
    assert UNSCHEDULED_KEYWORD == "unscheduled"
    invs = {mx.dataset(n)["investigation_id"] for n in ("run_x", "run_y")}
    assert len(invs) == 1


def test_unscheduled_can_be_refused(mx: MxCatalogue) -> None:
    sink = CatalogueSink(mx, policy=SchedulePolicy(unscheduled="refuse"))
    with pytest.raises(NoSuchObjectFoundError, match="no session of proposal mx2532"):
        sink.handle(raw_message("run_x"))
    assert mx.count_datasets() == 0


def test_bad_values_are_kept_unverified(mx: MxCatalogue) -> None:
    sink = CatalogueSink(mx)
    schedule(mx, "2026-11-20T08:00:00+00:00", "2026-11-20T20:00:00+00:00")
    sink.handle(raw_message("run_01", MX_exposureTime="fast", experimentPlan="OSC"))
    detail = mx.dataset("run_01")
    assert "exposure_time" not in detail["metadata"]
    assert {"MX_exposureTime", "experimentPlan"} <= set(detail["unverified"])


def test_investigation_update_and_add_files_messages(mx: MxCatalogue, tmp_path: Path) -> None:
    sink = CatalogueSink(mx)
    sink.handle(InvestigationMessage(proposal="mx2532", beamline="id23eh2",
                                     start_date=datetime(2026, 11, 20, 8, tzinfo=UTC)))
    sink.handle(InvestigationMessage(proposal="mx2532", beamline="id23eh2",
                                     start_date=datetime(2026, 11, 20, 8, tzinfo=UTC)))
    assert len(mx.registry.find_investigations("mx2532")) == 1
    location = tmp_path / "run_01"
    location.mkdir()
    (location / "run_01_master.h5").write_bytes(b"x" * 10)
    message = raw_message("run_01")
    message = DatasetMessage(**{**message.__dict__, "location": str(location)})
    sink.handle(message)
    sink.handle(UpdateMetadataMessage(proposal="mx2532", beamline="id23eh2", dataset_paths=[str(location)],
                                      name="Sample_name", value="lyso-B2"))
    assert mx.dataset("run_01")["metadata"]["sample_name"] == "lyso-B2"
    (location / "run_01_000001.h5").write_bytes(b"y" * 20)
    dataset_id = mx.dataset_id("run_01")
    sink.handle(AddFilesMessage(dataset_id=dataset_id))
    names = sorted(mx.session.search(f"SELECT df.name FROM Datafile df WHERE df.dataset.id = {dataset_id}"))
    assert names == ["run_01_000001.h5", "run_01_master.h5"]
