"""``mxicat ingest --check`` logic against the real broker."""

from __future__ import annotations

import threading
import time

import pytest

from mxicat.ingest.broker import BrokerConfig, StompClient
from mxicat.ingest.check import check_broker
from mxicat.ingest.consumer import Ingester
from mxicat.ingest.messages import Message

pytestmark = pytest.mark.broker


def test_depth_and_consumers_are_reported(broker: str, queue_name: str) -> None:
    config = BrokerConfig.from_url(broker)
    sender = StompClient(config)
    sender.connect()
    for _ in range(2):
        sender.send(queue_name, b'{"datasetId": 1}')
    sender.disconnect()

    idle = check_broker(config, queue_name)
    assert idle.connected and idle.depth == 2 and idle.consumers == 0
    assert not idle.ok  # nobody is consuming

    class Slow:
        def handle(self, message: Message) -> None:
            time.sleep(0.05)

    ingester = Ingester(config, Slow(), queue_name=queue_name)
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            busy = check_broker(config, queue_name)
            if busy.consumers:
                break
            time.sleep(0.2)
        assert busy.consumers == 1 and busy.ok
    finally:
        ingester.stop()
        thread.join(10)


def test_unreachable_broker_is_reported_not_raised() -> None:
    result = check_broker(BrokerConfig(host="127.0.0.1", port=1), "/queue/icatIngest")
    assert not result.connected and not result.ok and "127.0.0.1:1" in (result.error or "")
