"""The ingester loop: consume pyicat-plus messages, write them through a sink, ack only after commit.

Delivery rules:

* a message is acked only after the sink has committed it (client-individual ack), so a crash at any point
  leaves it on the broker and it is redelivered; the sink is idempotent, so a redelivery changes nothing;
* a message that can never be processed (:class:`~mxicat.ingest.messages.MessageError` or another
  permanent :class:`~mxicat.errors.MxicatError`) is sent to the dead-letter queue with the reason in the
  ``x-mxicat-error`` header, and acked only once the broker confirmed the dead letter;
* when the catalogue is unreachable (:class:`~mxicat.errors.UnavailableError`) the message is given back
  (nack → requeued) and the ingester pauses with backoff: messages stay queued until it recovers;
* SIGTERM/SIGINT stop the loop after the message in hand.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mxicat.errors import InternalError, MxicatError, UnavailableError
from mxicat.ingest.broker import BrokerConfig, Delivery, StompClient
from mxicat.ingest.messages import Message, MessageError, parse_message

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "/queue/icatIngest"
ERROR_HEADER = "x-mxicat-error"


class Sink(Protocol):
    """Where parsed messages go; ``handle`` returns once the message is committed."""

    def handle(self, message: Message) -> None: ...


@dataclass
class IngestStats:
    """Counters an operator wants to see."""

    received: int = 0
    processed: int = 0
    dead_lettered: int = 0
    requeued: int = 0
    redelivered: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class Ingester:
    """Consumes one queue into a sink until stopped."""

    config: BrokerConfig
    sink: Sink
    queue_name: str = DEFAULT_QUEUE
    dead_letter_queue: str | None = None
    prefetch: int = 100
    max_backoff: float = 30.0
    stats: IngestStats = field(default_factory=IngestStats)
    stop_event: threading.Event = field(default_factory=threading.Event)
    client_factory: Callable[[BrokerConfig], StompClient] = StompClient

    @property
    def dlq(self) -> str:
        return self.dead_letter_queue or f"{self.queue_name}.DLQ"

    def stop(self, *_: object) -> None:
        """Ask the loop to finish the message in hand and return (usable as a signal handler)."""
        self.stop_event.set()

    def run(self, *, idle_exit: float | None = None) -> IngestStats:
        """Consume until :meth:`stop` (or, with ``idle_exit``, until the queue stayed empty that long)."""
        backoff = 0.5
        while not self.stop_event.is_set():
            client = self.client_factory(self.config)
            try:
                client.connect()
                client.subscribe(self.queue_name, prefetch=self.prefetch)
                logger.info("consuming %s", self.queue_name)
                backoff = 0.5
                if self._consume(client, idle_exit):
                    return self.stats
            except UnavailableError as err:
                logger.warning("%s; retrying in %.1f s", err, backoff)
                self.stop_event.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
            finally:
                client.disconnect()
        return self.stats

    def _consume(self, client: StompClient, idle_exit: float | None) -> bool:
        """Process deliveries; True when finished for good, False to reconnect."""
        idle_since = time.monotonic()
        while not self.stop_event.is_set():
            try:
                item = client.inbox.get(timeout=0.2)
            except queue.Empty:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    return True
                continue
            if isinstance(item, Exception):
                raise item if isinstance(item, UnavailableError) else UnavailableError(str(item))
            idle_since = time.monotonic()
            self._deliver(client, item)
        return True

    def _deliver(self, client: StompClient, delivery: Delivery) -> None:
        self.stats.received += 1
        if delivery.redelivered:
            self.stats.redelivered += 1
        try:
            message = parse_message(delivery.body)
            self.sink.handle(message)
        except UnavailableError:
            self.stats.requeued += 1
            client.nack(delivery)
            raise
        except MxicatError as err:
            self._dead_letter(client, delivery, err)
            return
        except Exception as err:  # a bug or an unforeseen input: keep the message, keep running
            logger.exception("unexpected failure on message %s", delivery.message_id)
            self._dead_letter(client, delivery, InternalError(f"{err.__class__.__name__}: {err}"))
            return
        client.ack(delivery)
        self.stats.processed += 1

    def _dead_letter(self, client: StompClient, delivery: Delivery, err: MxicatError) -> None:
        reason = f"{err.code}: {err}"[:1000].replace("\n", " ")
        kind = "message" if isinstance(err, MessageError) else err.code
        logger.warning("dead-lettering message %s: %s", delivery.message_id, reason)
        headers = {ERROR_HEADER: reason, "x-mxicat-original-destination": self.queue_name}
        client.send(self.dlq, delivery.body, headers=headers)
        client.ack(delivery)
        self.stats.dead_lettered += 1
        self.stats.reasons[kind] = self.stats.reasons.get(kind, 0) + 1
