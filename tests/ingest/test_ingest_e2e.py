"""``mxicat ingest`` as a process: real pyicat-plus → real RabbitMQ (STOMP) → real catalogue, with crashes.

These are the delivery guarantees an operator relies on: kill -9 in the middle, a broker restart and an
unreachable catalogue all end with every dataset present exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from mxicat.http.launcher import free_port, serve_subprocess
from mxicat.mx import open_catalogue

pytestmark = [pytest.mark.broker, pytest.mark.slow]

PROPOSAL, BEAMLINE = "mx2532", "id23eh2"


def _env(catalogue: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MXICAT_")}
    env.update({"MXICAT_CATALOGUE": catalogue, "MXICAT_CONFIG": "/nonexistent/mxicat.toml", **extra})
    return env


def _ingester(catalogue: str, queue_name: str, log: Path, *extra: str, env: dict[str, str] | None = None,
              idle_exit: float | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "mxicat", "ingest", "--broker", "stomp://127.0.0.1:61613",
            "--queue", queue_name, "--format", "json", *extra]
    if idle_exit is not None:
        args += ["--idle-exit", str(idle_exit)]
    return subprocess.Popen(args, env=env or _env(catalogue), stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _client(queue_name: str) -> Any:
    main = pytest.importorskip("pyicat_plus.client.main", reason="pyicat-plus (test extra) missing")
    return main.IcatClient(metadata_urls=["127.0.0.1:61613"], metadata_queue=queue_name.rsplit("/", 1)[-1])


def _send_raw(client: Any, names: list[str]) -> None:
    for name in names:
        client.store_dataset(
            beamline=BEAMLINE, proposal=PROPOSAL, dataset=name,
            path=f"/data/visitor/{PROPOSAL}/{BEAMLINE}/20261120/RAW_DATA/lyso/{name}",
            metadata={"Sample_name": "lyso-A1", "MX_numberOfImages": 3600, "MX_exposureTime": 0.01,
                      "InstrumentMonochromator_wavelength": 0.97625, "MX_transmission": 12.5,
                      "startDate": "2026-11-20T10:00:00+01:00"},
        )


def _names(catalogue: str) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mx = open_catalogue(catalogue)
        try:
            return list(mx.session.search("SELECT ds.name FROM Dataset ds ORDER BY ds.name"))
        finally:
            mx.close()


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _mxicat(catalogue: str, *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "mxicat", *args], env=_env(catalogue), capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def catalogue(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'beamline.db'}"
    subprocess.run([sys.executable, "-m", "mxicat", "--catalogue", url, "init"], check=True,
                   capture_output=True, env=_env(url))
    return url


def test_pyicat_plus_to_search(broker: str, queue_name: str, catalogue: str, tmp_path: Path) -> None:
    client = _client(queue_name)
    _send_raw(client, ["run_01", "run_02"])
    client.store_processed_data(
        beamline=BEAMLINE, proposal=PROPOSAL, dataset="xia2_dials",
        path=f"/data/visitor/{PROPOSAL}/{BEAMLINE}/20261120/PROCESSED_DATA/lyso/xia2_dials",
        metadata={"Sample_name": "lyso-A1", "Process_program": "xia2.multiplex",
                  "MXAutoprocIntegrationScaling_overall_resolution_limit_high": 1.42,
                  "MXAutoprocIntegrationScaling_overall_r_merge": 0.052,
                  "MXAutoprocIntegrationScaling_outer_cc_half": 0.58,
                  "MXAutoprocIntegration_space_group": "P 43 21 2"},
        raw=[f"/data/visitor/{PROPOSAL}/{BEAMLINE}/20261120/RAW_DATA/lyso/run_01",
             f"/data/visitor/{PROPOSAL}/{BEAMLINE}/20261120/RAW_DATA/lyso/run_02"],
    )
    proc = _ingester(catalogue, queue_name, tmp_path / "ingest.log", idle_exit=3)
    assert proc.wait(timeout=180) == 0, (tmp_path / "ingest.log").read_text()
    found = _mxicat(catalogue, "search", "resolution_high < 1.5 and space_group = \"P 43 21 2\"",
                    "--format", "json")
    assert [d["name"] for d in found] == ["xia2_dials"]
    meta = found[0]["metadata"]
    assert meta["r_merge"] == pytest.approx(0.052) and meta["cc_half_outer"] == pytest.approx(0.58)
    raw = _mxicat(catalogue, "search", "wavelength < 1 angstrom and number_of_images = 3600", "--format", "json")
    assert sorted(d["name"] for d in raw) == ["run_01", "run_02"]
    assert raw[0]["metadata"]["transmission"] == pytest.approx(12.5)
    shown = _mxicat(catalogue, "show", "xia2_dials", "--format", "json")
    assert sorted(d["name"] for d in shown["provenance"]["inputs"]) == ["run_01", "run_02"]


def test_kill_9_mid_stream_loses_and_duplicates_nothing(broker: str, queue_name: str, catalogue: str,
                                                        tmp_path: Path) -> None:
    names = [f"run_{i:04d}" for i in range(1000)]
    _send_raw(_client(queue_name), names)
    log = tmp_path / "ingest.log"
    first = _ingester(catalogue, queue_name, log)
    try:
        _wait_for(lambda: len(_names(catalogue)) >= 100, 300, "100 datasets before the crash")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert len(_names(catalogue)) < 1000, "the crash should come mid-stream"
    second = _ingester(catalogue, queue_name, log, idle_exit=5)
    assert second.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert _names(catalogue) == names


def test_broker_restart_mid_stream(broker: str, queue_name: str, catalogue: str, tmp_path: Path) -> None:
    names = [f"run_{i:04d}" for i in range(300)]
    _send_raw(_client(queue_name), names)
    log = tmp_path / "ingest.log"
    proc = _ingester(catalogue, queue_name, log)
    try:
        _wait_for(lambda: len(_names(catalogue)) >= 30, 300, "30 datasets before the broker restart")
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
        _wait_for(lambda: len(_names(catalogue)) == len(names), 600, "every dataset after the restart")
        assert proc.poll() is None, "the ingester must survive a broker restart"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert _names(catalogue) == names


def test_catalogue_unavailable_then_recovered(broker: str, queue_name: str, tmp_path: Path) -> None:
    from mxicat.catalogue.embedded.auth import write_simple_user

    auth_file = tmp_path / "users.yaml"
    write_simple_user(auth_file, "ingest", "ingest-pw")
    settings = {"catalogue": f"sqlite:///{tmp_path / 'served.db'}", "auth_file": auth_file,
                "root_user_names": ["simple/ingest"]}
    port = free_port()
    remote = f"icat+http://127.0.0.1:{port}"
    env = _env(remote, MXICAT_USERNAME="ingest", MXICAT_PASSWORD="ingest-pw", MXICAT_PLUGIN="simple")
    names = [f"run_{i:03d}" for i in range(40)]
    log = tmp_path / "ingest.log"
    with serve_subprocess(settings, port=port, log_path=tmp_path / "serve1.log"):
        proc = _ingester(remote, queue_name, log, env=env)
        _send_raw(_client(queue_name), names[:20])
        _wait_for(lambda: len(_names(settings["catalogue"])) == 20, 300, "the first 20 datasets")
    # the catalogue is down now: the rest must wait on the broker, the ingester must keep running
    _send_raw(_client(queue_name), names[20:])
    time.sleep(3)
    assert proc.poll() is None, log.read_text()[-3000:]
    assert len(_names(settings["catalogue"])) == 20
    try:
        with serve_subprocess(settings, port=port, log_path=tmp_path / "serve2.log"):
            _wait_for(lambda: len(_names(settings["catalogue"])) == 40, 300, "all 40 after recovery")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert _names(settings["catalogue"]) == names
