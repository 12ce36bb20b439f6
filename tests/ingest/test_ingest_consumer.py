"""The ingester loop against the real RabbitMQ STOMP adapter, with messages sent by real pyicat-plus."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mxicat.errors import UnavailableError, ValidationError
from mxicat.ingest.broker import BrokerConfig, StompClient
from mxicat.ingest.consumer import ERROR_HEADER, Ingester
from mxicat.ingest.messages import DatasetMessage, Message

pytestmark = pytest.mark.broker


class RecordingSink:
    """Keeps what it was given; refuses absurd wavelengths like a catalogue would."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def handle(self, message: Message) -> None:
        assert isinstance(message, DatasetMessage)
        if float(message.parameters.get("MX_wavelength", "1")) <= 0:
            raise ValidationError(f"MX_wavelength {message.parameters['MX_wavelength']} must be > 0")
        self.names.append(message.name)


def _send_with_pyicat_plus(broker: str, queue_name: str, count: int, **extra: Any) -> None:
    main = pytest.importorskip("pyicat_plus.client.main", reason="pyicat-plus (test extra) missing")
    client = main.IcatClient(metadata_urls=[broker], metadata_queue=queue_name.rsplit("/", 1)[-1])
    for i in range(count):
        client.store_dataset(
            beamline="id23eh2", proposal="mx2532", dataset=f"run_{i:03d}",
            path=f"/data/visitor/mx2532/id23eh2/RAW_DATA/s/run_{i:03d}",
            metadata={"Sample_name": "lyso-A1", "MX_wavelength": extra.get("wavelength", 0.97)},
        )


def _drain(broker: str, queue_name: str) -> list[Any]:
    client = StompClient(BrokerConfig.from_url(broker))
    client.connect()
    client.subscribe(queue_name)
    got = []
    try:
        while True:
            item = client.inbox.get(timeout=2)
            got.append(item)
            client.ack(item)
    except Exception:
        pass
    client.disconnect()
    return got


def test_pyicat_plus_messages_are_consumed_and_acked(broker: str, queue_name: str) -> None:
    _send_with_pyicat_plus(broker, queue_name, 5)
    sink = RecordingSink()
    ingester = Ingester(BrokerConfig.from_url(broker), sink, queue_name=queue_name)
    stats = ingester.run(idle_exit=1.5)
    assert sorted(sink.names) == [f"run_{i:03d}" for i in range(5)]
    assert (stats.received, stats.processed, stats.dead_lettered) == (5, 5, 0)
    assert _drain(broker, queue_name) == []  # everything acked


def test_bad_messages_go_to_the_dead_letter_queue_with_reason(broker: str, queue_name: str) -> None:
    _send_with_pyicat_plus(broker, queue_name, 1, wavelength=-3)
    raw = StompClient(BrokerConfig.from_url(broker))
    raw.connect()
    raw.send(queue_name, b"<not-xml")
    raw.disconnect()
    _send_with_pyicat_plus(broker, queue_name, 1)
    sink = RecordingSink()
    stats = Ingester(BrokerConfig.from_url(broker), sink, queue_name=queue_name).run(idle_exit=1.5)
    assert sink.names == ["run_000"]
    assert (stats.processed, stats.dead_lettered) == (1, 2)
    dead = _drain(broker, f"{queue_name}.DLQ")
    reasons = sorted(d.headers[ERROR_HEADER] for d in dead)
    assert len(reasons) == 2
    assert reasons[0].startswith("BAD_PARAMETER: malformed XML")
    assert reasons[1].startswith("VALIDATION: MX_wavelength -3")


def test_unavailable_catalogue_leaves_messages_queued(broker: str, queue_name: str) -> None:
    _send_with_pyicat_plus(broker, queue_name, 3)

    class DownSink:
        calls = 0

        def handle(self, message: Message) -> None:
            DownSink.calls += 1
            raise UnavailableError("catalogue is down")

    ingester = Ingester(BrokerConfig.from_url(broker), DownSink(), queue_name=queue_name, max_backoff=0.2)
    timer = threading.Timer(2.0, ingester.stop)
    timer.start()
    stats = ingester.run()
    timer.join()
    assert DownSink.calls >= 1 and stats.processed == 0 and stats.requeued >= 1
    sink = RecordingSink()
    Ingester(BrokerConfig.from_url(broker), sink, queue_name=queue_name).run(idle_exit=1.5)
    assert sorted(sink.names) == ["run_000", "run_001", "run_002"]


def test_unreachable_broker_is_a_clear_error() -> None:
    client = StompClient(BrokerConfig(host="127.0.0.1", port=1), timeout=1)
    with pytest.raises(UnavailableError, match="127.0.0.1:1"):
        client.connect()


def test_broker_url_parsing() -> None:
    cfg = BrokerConfig.from_url("stomp://user:p%40ss@mq.example:61614", vhost="/")
    assert (cfg.host, cfg.port, cfg.user, cfg.password, cfg.vhost) == ("mq.example", 61614, "user", "p@ss", "/")
    assert BrokerConfig.from_url("bcu-mq-01:61613").port == 61613


