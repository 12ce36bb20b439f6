"""pyicat-plus message parsing: the real client's bytes, the shared samples, and bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from mxicat.ingest.messages import (
    AddFilesMessage,
    DatasetMessage,
    InvestigationMessage,
    MessageError,
    UpdateMetadataMessage,
    parse_message,
)

NS = 'xmlns:tns="http://www.esrf.fr/icat"'


def test_shared_raw_dataset(shared) -> None:
    msg = parse_message(shared.file("pyicat-plus", "raw_dataset.xml").read_bytes())
    assert isinstance(msg, DatasetMessage)
    assert (msg.proposal, msg.beamline, msg.name) == ("mx2532", "id23eh2", "run_01")
    assert msg.sample_name == "lyso-A1"
    assert msg.parameters["InstrumentMonochromator_wavelength"] == "0.97625"
    assert msg.end_date is not None and msg.start_date is not None
    assert msg.end_date - msg.start_date == timedelta(seconds=27)
    assert not msg.is_processed


def test_shared_processed_dataset(shared) -> None:
    msg = parse_message(shared.file("pyicat-plus", "processed_dataset.xml").read_bytes())
    assert isinstance(msg, DatasetMessage) and msg.is_processed
    assert msg.input_datasets == [
        "/data/visitor/mx2532/id23eh2/20261120/RAW_DATA/lyso/lyso-A1/run_01",
        "/data/visitor/mx2532/id23eh2/20261120/RAW_DATA/lyso/lyso-A1/run_02",
    ]
    assert msg.parameters["MXAutoprocIntegrationScaling_overall_r_merge"] == "0.061"


def test_real_pyicat_plus_client_messages(tmp_path: Path) -> None:
    client_mod = pytest.importorskip("pyicat_plus.client.main", reason="pyicat-plus (test extra) missing")
    client = client_mod.IcatClient(metadata_urls=["127.0.0.1:1"])  # never connects: store_filename
    raw_file, proc_file = tmp_path / "raw.xml", tmp_path / "proc.xml"
    client.store_dataset(
        beamline="id30a1", proposal="mx1234", dataset="sweep_1", path="/data/mx1234/RAW/s1/",
        metadata={"Sample_name": "thau-1", "MX_numberOfImages": 1800, "MX_exposureTime": 0.01},
        store_filename=str(raw_file),
    )
    client.store_processed_data(
        beamline="id30a1", proposal="mx1234", dataset="xia2", path="/data/mx1234/PROC/xia2",
        metadata={"Sample_name": "thau-1", "MXAutoprocIntegrationScaling_overall_cc_half": 0.99},
        raw=["/data/mx1234/RAW/s1", "/data/mx1234/RAW/s2"], store_filename=str(proc_file),
    )
    raw = parse_message(raw_file.read_bytes())
    assert isinstance(raw, DatasetMessage)
    assert raw.location == "/data/mx1234/RAW/s1"  # pyicat-plus normalises the path
    assert raw.parameters["MX_numberOfImages"] == "1800"
    proc = parse_message(proc_file.read_bytes())
    assert isinstance(proc, DatasetMessage)
    assert proc.input_datasets == ["/data/mx1234/RAW/s1", "/data/mx1234/RAW/s2"]


def test_investigation_message() -> None:
    body = (
        f"<tns:investigation {NS}><tns:experiment>mx2532</tns:experiment>"
        "<tns:instrument>id23eh2</tns:instrument><tns:startDate>2026-11-20T08:00:00+01:00</tns:startDate>"
        "</tns:investigation>"
    )
    msg = parse_message(body)
    assert isinstance(msg, InvestigationMessage)
    assert msg.start_date is not None and msg.start_date.utcoffset() == timedelta(hours=1)


def test_json_messages() -> None:
    update = parse_message(json.dumps({
        "proposal": "mx2532", "beamline": "id23eh2", "datasetPaths": ["/d/1", "/d/2"],
        "metadataName": "Sample_name", "metadataValue": "new",
    }))
    assert isinstance(update, UpdateMetadataMessage) and update.dataset_paths == ["/d/1", "/d/2"]
    files = parse_message(b'{"datasetId": 42}')
    assert files == AddFilesMessage(dataset_id=42)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<tns:dataset", "malformed XML"),
        (b"<dataset><name>x</name></dataset>", "namespace"),
        (f"<tns:sample {NS}/>".encode(), "root element"),
        (
            f"<tns:dataset {NS}><tns:investigation>p</tns:investigation><tns:instrument>b</tns:instrument>"
            "<tns:name>n</tns:name><tns:location>/l</tns:location></tns:dataset>".encode(),
            "Sample_name",
        ),
        (
            f"<tns:dataset {NS}><tns:instrument>b</tns:instrument><tns:name>n</tns:name>"
            "<tns:location>/l</tns:location><tns:sample><tns:name>s</tns:name></tns:sample>"
            "</tns:dataset>".encode(),
            "'investigation'",
        ),
        (
            f"<tns:dataset {NS}><tns:investigation>p</tns:investigation><tns:instrument>b</tns:instrument>"
            "<tns:name>n</tns:name><tns:location>/l</tns:location><tns:startDate>yesterday</tns:startDate>"
            "<tns:sample><tns:name>s</tns:name></tns:sample></tns:dataset>".encode(),
            "startDate",
        ),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"datasetId": "abc"}', "datasetId"),
        (b'{"proposal": "p", "beamline": "b"}', "datasetPaths"),
        (b'{"datasetId": 1, "type": "t", "level": "l", "message": "m"}', "deprecated"),
        (b'{"foo": 1}', "unknown JSON"),
        (b"plain text", "neither XML nor JSON"),
        (b"<" + b"x" * (4 * 1024 * 1024 + 1), "exceeds"),
    ],
)
def test_bad_messages_name_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MessageError, match=reason):
        parse_message(body)
