"""Broker fixtures: the RabbitMQ STOMP adapter on 127.0.0.1:61613 (set up by deploy/ci-services.sh)."""

from __future__ import annotations

import os
import socket
import uuid

import pytest


def _broker_up(host: str = "127.0.0.1", port: int = 61613) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> str:
    """``host:port`` of the STOMP broker; skips (or fails under CI) when it is not running."""
    if not _broker_up():
        reason = "no STOMP broker on 127.0.0.1:61613 (run deploy/ci-services.sh)"
        if os.environ.get("CI") or os.environ.get("MXICAT_REQUIRE_SHARED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return "127.0.0.1:61613"


@pytest.fixture
def queue_name() -> str:
    """A fresh queue per test so tests never see each other's messages."""
    return f"/queue/mxicat-test-{uuid.uuid4().hex[:12]}"
