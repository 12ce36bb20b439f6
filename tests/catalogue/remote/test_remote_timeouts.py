"""Timeouts and unreachable servers, on real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mxicat.catalogue.remote import RemoteIcat, TransportOptions
from mxicat.errors import UnavailableError


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_read_timeout(silent_port: int) -> None:
    server = RemoteIcat(f"icat+http://127.0.0.1:{silent_port}", TransportOptions(timeout=0.3, retries=1, backoff=0))
    start = time.monotonic()
    with pytest.raises(UnavailableError, match=r"did not answer GET version within 0.3 s"):
        server.version()
    assert time.monotonic() - start < 5  # one retry of a read, then the error


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    server = RemoteIcat(f"icat+http://127.0.0.1:{port}", TransportOptions(retries=0))
    with pytest.raises(UnavailableError, match=f"cannot reach ICAT at http://127.0.0.1:{port}"):
        server.login("simple", {"username": "root", "password": "pw"})
