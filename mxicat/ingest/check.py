"""``mxicat ingest --check``: can the ingester reach its broker, is a consumer attached, how deep is the queue.

Connectivity is checked over STOMP itself (the path the ingester uses). Consumer count and queue depth are
not part of STOMP; on RabbitMQ they come from a passive AMQP queue declaration on the same virtual host
(port 5672 by default), which neither creates nor changes the queue. Where that is not available (another
broker, AMQP closed) they are reported as unknown rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxicat.errors import UnavailableError
from mxicat.ingest.broker import BrokerConfig, StompClient


@dataclass(frozen=True)
class BrokerCheck:
    """The answer of one check."""

    broker: str
    queue: str
    connected: bool
    error: str | None = None
    consumers: int | None = None
    depth: int | None = None
    depth_source: str | None = None

    @property
    def ok(self) -> bool:
        """Reachable, and (when known) someone consumes the queue."""
        return self.connected and (self.consumers is None or self.consumers > 0)


def amqp_queue_state(config: BrokerConfig, queue: str, *, port: int = 5672) -> tuple[int, int] | None:
    """(depth, consumers) of a RabbitMQ queue via a passive declare; None when AMQP is not reachable."""
    try:
        import pika
        from pika.exceptions import AMQPError
    except ImportError:  # pragma: no cover - pika is a dependency, but the check must never crash on it
        return None
    params = pika.ConnectionParameters(
        host=config.host, port=port, virtual_host=config.vhost,
        credentials=pika.PlainCredentials(config.user, config.password),
        connection_attempts=1, socket_timeout=3, blocked_connection_timeout=3,
    )
    name = queue.removeprefix("/queue/")
    try:
        connection = pika.BlockingConnection(params)
    except (AMQPError, OSError):
        return None
    try:
        channel = connection.channel()
        try:
            state = channel.queue_declare(name, passive=True)
        except AMQPError:  # the queue does not exist yet: nothing waiting, nobody consuming
            return (0, 0)
        return (int(state.method.message_count), int(state.method.consumer_count))
    finally:
        if connection.is_open:
            connection.close()


def check_broker(config: BrokerConfig, queue: str, *, amqp_port: int = 5672) -> BrokerCheck:
    """Check the broker the ingester would use."""
    where = f"{config.host}:{config.port} (virtual host {config.vhost!r})"
    client = StompClient(config, timeout=3)
    try:
        client.connect()
    except UnavailableError as err:
        return BrokerCheck(broker=where, queue=queue, connected=False, error=str(err))
    finally:
        client.disconnect()
    state = amqp_queue_state(config, queue, port=amqp_port)
    if state is None:
        return BrokerCheck(broker=where, queue=queue, connected=True)
    depth, consumers = state
    return BrokerCheck(broker=where, queue=queue, connected=True, consumers=consumers, depth=depth,
                       depth_source=f"AMQP {config.host}:{amqp_port}")
