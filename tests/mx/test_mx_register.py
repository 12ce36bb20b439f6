"""register_collection / register_nexus: creation, idempotency, updates with history, unknown keys."""

from __future__ import annotations

import warnings
from datetime import UTC
from pathlib import Path

import pytest
from mx_support import write_nxmx

from mxicat.errors import BadParameterError, NoSuchObjectFoundError
from mxicat.mx import MxCatalogue

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

META = {
    "MX_wavelength": "0.98",  # ESRF name, string value as pyicat-plus sends it
    "exposure_time": {"value": 10, "unit": "ms"},
    "Sample_name": "lyso-1",
    "startDate": "2024-03-01T10:00:00+01:00",
    "chipModel_custom": "oxford-v2",  # not an ontology term
    "beam_size_x": "abc",  # a term, but a bad value
}


def test_new_collection_is_created_with_everything(mx: MxCatalogue) -> None:
    reg = mx.register_collection("mx2532", "run_01", META, beamline="ID23EH2",
                                 datafiles=["/data/mx2532/run_01/run_01_master.h5"],
                                 location="/data/mx2532/run_01/")
    assert reg.status == "created"
    assert reg.unverified == ["beam_size_x", "chipModel_custom"]
    assert reg.problems and "beam_size_x" in reg.problems[0]
    detail = mx.dataset(reg.id)
    assert detail["metadata"]["wavelength"] == pytest.approx(0.98)
    assert detail["metadata"]["exposure_time"] == pytest.approx(0.01)
    assert detail["units"]["wavelength"] == "angstrom"
    assert detail["unverified"] == {"beam_size_x": "abc", "chipModel_custom": "oxford-v2"}
    assert detail["sample"] == "lyso-1"
    assert detail["beamline"] == "id23eh2"
    assert detail["techniques"] == ["MX"]
    assert detail["location"] == "/data/mx2532/run_01"
    assert detail["start_time"].isoformat().startswith("2024-03-01T09:00:00")
    assert [f["name"] for f in detail["datafiles"]] == ["run_01_master.h5"]
    # the raw ICAT objects: DatasetInstrument, DatasetTechnique, Sample in the investigation
    rows = mx.session.search(f"SELECT COUNT(di) FROM DatasetInstrument di WHERE di.dataset.id = {reg.id}")
    assert rows == [1]
    rows = mx.session.search("SELECT s.name FROM Sample s WHERE s.investigation.name = 'mx2532'")
    assert rows == ["lyso-1"]
    unverified = mx.session.search(
        "SELECT pt FROM ParameterType pt WHERE pt.name = 'chipModel_custom'")[0]["ParameterType"]
    assert unverified["verified"] is False


def test_same_content_is_a_no_op(mx: MxCatalogue) -> None:
    first = mx.register_collection("mx2532", "run_01", META, beamline="id23eh2")
    before = mx.session.search("SELECT COUNT(p) FROM DatasetParameter p")
    again = mx.register_collection("mx2532", "run_01", META, beamline="id23eh2")
    assert (again.id, again.status, again.changes) == (first.id, "unchanged", {})
    assert mx.session.search("SELECT COUNT(p) FROM DatasetParameter p") == before
    assert mx.dataset(first.id)["history"] == []


def test_changed_content_updates_and_records_history(mx: MxCatalogue) -> None:
    first = mx.register_collection("mx2532", "run_01", META, beamline="id23eh2")
    changed = {**META, "MX_wavelength": "0.97", "MX_numberOfImages": 3600, "Sample_name": "lyso-2"}
    del changed["chipModel_custom"]
    reg = mx.register_collection("mx2532", "run_01", changed, beamline="id23eh2")
    assert reg.status == "updated" and reg.id == first.id
    assert reg.changes["wavelength"] == (pytest.approx(0.98), pytest.approx(0.97))
    assert reg.changes["number_of_images"] == (None, 3600)
    assert reg.changes["dataset.sample"] == ("lyso-1", "lyso-2")
    detail = mx.dataset(first.id)
    assert detail["metadata"]["wavelength"] == pytest.approx(0.97)
    assert detail["unverified"]["chipModel_custom"] == "oxford-v2"  # merge policy: kept
    assert detail["sample"] == "lyso-2"
    (entry,) = detail["history"]
    assert entry["user"] == mx.session.user_name
    assert entry["changes"]["wavelength"] == [0.98, 0.97]


def test_complete_dataset_is_not_reopened_but_open_one_completes(mx: MxCatalogue) -> None:
    reg = mx.register_collection("mx2532", "char_1", {"Sample_name": "s"}, complete=False)
    assert mx.dataset(reg.id)["complete"] is False
    later = mx.register_collection("mx2532", "char_1", {"Sample_name": "s", "MX_numberOfImages": 4},
                                   datafiles=["/d/char_1_2.cbf"], complete=False)
    assert later.status == "updated" and mx.dataset(reg.id)["complete"] is False
    one_key = mx.register_collection("mx2532", "char_1", {"MX_numberOfImages": 8})  # complete not given
    assert one_key.status == "updated" and mx.dataset(reg.id)["complete"] is False
    done = mx.register_collection("mx2532", "char_1", {"Sample_name": "s"}, complete=True)
    assert done.changes["dataset.complete"] == (False, True)
    reopen = mx.register_collection("mx2532", "char_1", {"Sample_name": "s"}, complete=False)
    assert reopen.status == "unchanged" and reopen.warnings
    assert mx.dataset(reg.id)["complete"] is True


def test_unknown_keys_are_queryable(mx: MxCatalogue) -> None:
    mx.register_collection("mx2532", "a", {"Sample_name": "s", "pump_delay": "12.5", "note": "it's ok"})
    mx.register_collection("mx2532", "b", {"Sample_name": "s", "pump_delay": "3"})
    assert [d["name"] for d in mx.search_datasets("pump_delay > 10")] == ["a"]
    assert [d["name"] for d in mx.search_datasets("note = \"it's ok\"")] == ["a"]
    assert mx.count_datasets("has(pump_delay)") == 2


def test_investigation_lookup_spellings_and_errors(mx: MxCatalogue) -> None:
    reg = mx.register_collection("MX-2532", "x", {"Sample_name": "s"})
    assert mx.dataset(reg.id)["investigation"] == "mx2532"
    reg2 = mx.register_collection("mx2532/1", "y", {"Sample_name": "s"})
    assert reg2.investigation_id == reg.investigation_id
    with pytest.raises(NoSuchObjectFoundError):
        mx.register_collection("mx9999", "z", {"Sample_name": "s"})
    with pytest.raises(BadParameterError):
        mx.register_collection("mx2532", " ", {"Sample_name": "s"})


def test_two_visits_are_told_apart_by_date(mx: MxCatalogue) -> None:
    from datetime import datetime

    registry = mx.registry
    registry.create_investigation("mx3000", visit_id="1", beamline="id29",
                                  start=datetime(2024, 1, 1, tzinfo=UTC),
                                  end=datetime(2024, 1, 3, tzinfo=UTC))
    registry.create_investigation("mx3000", visit_id="2", beamline="id29",
                                  start=datetime(2024, 6, 1, tzinfo=UTC),
                                  end=datetime(2024, 6, 3, tzinfo=UTC))
    with pytest.raises(BadParameterError, match="ambiguous"):
        mx.investigation("mx3000")
    june = mx.investigation("mx3000", beamline="ID29", when=datetime(2024, 6, 2, tzinfo=UTC))
    assert june["visitId"] == "2"
    assert mx.investigation("mx3000-2")["visitId"] == "2"


def test_register_nexus_generated_file(mx: MxCatalogue, tmp_path: Path) -> None:
    master = write_nxmx(tmp_path / "run_07_master.h5", sample="thaum-3", wavelength=0.9763)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (reg,) = mx.register_nexus(master, "mx2532", beamline="id23eh2")
    detail = mx.dataset(reg.id)
    assert detail["name"] == "run_07_master"
    assert detail["sample"] == "thaum-3"
    assert detail["metadata"]["wavelength"] == pytest.approx(0.9763)
    assert detail["metadata"]["detector_distance"] == pytest.approx(250.0)
    assert detail["location"] == str(tmp_path)
    names = sorted(f["name"] for f in detail["datafiles"])
    assert names == ["run_07_master.h5", "run_07_master_data_000001.h5"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (again,) = mx.register_nexus(master, "mx2532", beamline="id23eh2")
    assert again.status == "unchanged"


def test_register_nexus_multi_entry_file_gives_one_dataset_per_sweep(mx: MxCatalogue,
                                                                    tmp_path: Path) -> None:
    master = write_nxmx(tmp_path / "multi.nxs", entries=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regs = mx.register_nexus(master, "mx2532", beamline="id23eh2")
    assert len(regs) == 2 and len({r.name for r in regs}) == 2


def test_parameter_type_sync_is_idempotent_and_reports_drift(mx: MxCatalogue) -> None:
    first = mx.sync_parameter_types()
    assert first.created and first.ok
    second = mx.sync_parameter_types()
    assert second.created == [] and len(second.unchanged) == len(first.created) + len(first.unchanged)
    pt = mx.session.search("SELECT pt FROM ParameterType pt WHERE pt.name = 'MX_wavelength'")[0]
    mx.session.update({"ParameterType": {"id": pt["ParameterType"]["id"], "valueType": "STRING"}})
    mx.session.create({"ParameterType": {"name": "MX_exposureTime", "units": "ms", "valueType": "NUMERIC",
                                         "verified": True,
                                         "facility": {"id": mx.registry.facility_id}}})
    third = mx.sync_parameter_types()
    assert not third.ok
    assert any(d.startswith("MX_wavelength [angstrom]: valueType") for d in third.drift)
    assert any(d.startswith("MX_exposureTime: catalogue has units 'ms'") for d in third.drift)


def test_default_technique_does_not_change_a_registered_one(mx: MxCatalogue) -> None:
    reg = mx.register_collection("mx2532", "jet_1", {"Sample_name": "s"}, technique="SSX")
    again = mx.register_collection("mx2532", "jet_1", {"Sample_name": "s"})
    assert again.status == "unchanged" and mx.dataset(reg.id)["techniques"] == ["SSX"]
    more = mx.register_collection("mx2532", "jet_1", {"Sample_name": "s"}, technique="SSX MAD")
    assert more.changes == {"dataset.technique": (None, "MAD")}
