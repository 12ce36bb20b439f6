"""STOMP broker connection settings and a small client made for at-least-once consumption.

pyicat-plus sends persistent messages over STOMP 1.1 (stompest) with an empty ``host`` header; RabbitMQ's
STOMP adapter takes that header as the virtual host, so by default we connect to the virtual host ``''``
too (``vhost`` is configurable: ActiveMQ ignores the header, RabbitMQ sites may use ``/``).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import stomp
from stomp.exception import StompException

from mxicat.errors import BadParameterError, UnavailableError


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how to reach the broker."""

    host: str = "127.0.0.1"
    port: int = 61613
    vhost: str = ""
    user: str = "guest"
    password: str = "guest"
    heartbeat_ms: int = 10_000

    @classmethod
    def from_url(cls, url: str, *, vhost: str = "") -> BrokerConfig:
        """``stomp://[user:password@]host[:port]`` (also a bare ``host:port``, as pyicat-plus writes it)."""
        text = url if "://" in url else f"stomp://{url}"
        parts = urlsplit(text)
        if parts.scheme not in {"stomp", "tcp"} or not parts.hostname:
            raise BadParameterError(f"broker URL {url!r}: expected stomp://host[:port]")
        try:
            port = parts.port or 61613
        except ValueError as err:
            raise BadParameterError(f"broker URL {url!r}: bad port") from err
        return cls(
            host=parts.hostname,
            port=port,
            vhost=vhost,
            user=unquote(parts.username) if parts.username else "guest",
            password=unquote(parts.password) if parts.password else "guest",
        )


@dataclass(frozen=True)
class Delivery:
    """One message handed to the consumer, to be acked or nacked by id."""

    message_id: str
    subscription: str
    body: bytes
    headers: dict[str, str]

    @property
    def redelivered(self) -> bool:
        return self.headers.get("redelivered", "false") == "true"


class _Listener(stomp.ConnectionListener):
    def __init__(self, inbox: queue.Queue[Delivery | Exception]) -> None:
        self.inbox = inbox
        self.connected = threading.Event()

    def on_connected(self, frame: Any) -> None:
        self.connected.set()

    def on_message(self, frame: Any) -> None:
        body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode("utf-8")
        self.inbox.put(Delivery(frame.headers["message-id"], frame.headers.get("subscription", ""), body,
                                dict(frame.headers)))

    def on_error(self, frame: Any) -> None:
        self.inbox.put(UnavailableError(f"broker error: {frame.headers.get('message', frame.body)}"))

    def on_disconnected(self) -> None:
        self.connected.clear()
        self.inbox.put(UnavailableError("disconnected from the broker"))


class StompClient:
    """A STOMP 1.1 connection: subscribe with client-individual acks, ack/nack, send persistent messages."""

    def __init__(self, config: BrokerConfig, *, timeout: float = 5.0) -> None:
        self.config = config
        self.timeout = timeout
        self.inbox: queue.Queue[Delivery | Exception] = queue.Queue()
        self._listener = _Listener(self.inbox)
        hb = config.heartbeat_ms
        self._conn = stomp.Connection11(
            [(config.host, config.port)],
            vhost=config.vhost or None,
            heartbeats=(hb, hb),
            auto_decode=False,
            reconnect_attempts_max=1,
            timeout=timeout,
        )
        self._conn.set_listener("mxicat", self._listener)

    def connect(self) -> None:
        """Connect (raises :class:`UnavailableError` when the broker cannot be reached or refuses)."""
        headers = {} if self.config.vhost else {"host": ""}
        try:
            self._conn.connect(self.config.user, self.config.password, wait=True, headers=headers)
        except (StompException, OSError) as err:
            raise UnavailableError(
                f"cannot connect to the STOMP broker {self.config.host}:{self.config.port} "
                f"(virtual host {self.config.vhost!r}): {err.__class__.__name__} {err}"
            ) from err

    def subscribe(self, destination: str, *, prefetch: int = 100, sub_id: str = "mxicat") -> None:
        """Consume ``destination`` with client-individual acks and at most ``prefetch`` unacked messages."""
        self._guard("subscribe", self._conn.subscribe, destination, id=sub_id, ack="client-individual",
                    headers={"prefetch-count": str(prefetch)})

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge; a lost connection means the broker redelivers it (harmless: handling is idempotent)."""
        self._guard("ack", self._conn.ack, delivery.message_id, delivery.subscription)

    def nack(self, delivery: Delivery) -> None:
        """Give the message back to the broker (RabbitMQ requeues it)."""
        self._guard("nack", self._conn.nack, delivery.message_id, delivery.subscription)

    def _guard(self, what: str, call: Any, *args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except (StompException, OSError) as err:
            raise UnavailableError(f"lost the broker connection during {what}: {err.__class__.__name__}") from err

    def send(self, destination: str, body: bytes | str, headers: dict[str, str] | None = None) -> None:
        """Send a persistent message and wait for the broker's receipt (so it is safe to ack after)."""
        receipt = f"r-{threading.get_ident()}-{id(body)}"
        event = threading.Event()

        class _Receipt(stomp.ConnectionListener):
            def on_receipt(self, frame: Any) -> None:
                if frame.headers.get("receipt-id") == receipt:
                    event.set()

        self._conn.set_listener(receipt, _Receipt())
        try:
            self._guard("send", self._conn.send, destination, body,
                        headers={"persistent": "true", **(headers or {}), "receipt": receipt})
            if not event.wait(self.timeout):
                raise UnavailableError(f"no receipt from the broker for a message to {destination}")
        finally:
            self._conn.remove_listener(receipt)

    def disconnect(self) -> None:
        if self._conn.is_connected():
            try:
                self._conn.disconnect()
            except (StompException, OSError):
                pass
