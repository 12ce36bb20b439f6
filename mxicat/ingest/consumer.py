"""The ingester loop: consume pyicat-plus messages, write them through a sink, ack only after commit.

Delivery rules:

* a message is acked only after the sink has committed it (client-individual ack), so a crash at any point
  leaves it on the broker and it is redelivered; the sink is idempotent, so a redelivery changes nothing;
* a message that can never be processed (:class:`~mxicat.ingest.messages.MessageError` or another
  permanent :class:`~mxicat.errors.MxicatError`) is sent to the dead-letter queue with the reason in the
  ``x-mxicat-error`` header, and acked only once the broker confirmed the dead letter;
* when the catalogue is unreachable (:class:`~mxicat.errors.UnavailableError`) the message is given back
  (nack → requeued) and the ingester pauses with backoff: messages stay queued until it recovers;
* throughput: the deliveries already waiting (up to ``batch_size``) are handed to the sink together when it
  has ``handle_batch`` (the catalogue sink registers consecutive raw datasets in one transaction); each
  message is still acked on its own, after the sink returned, i.e. after the commit that holds it; a message
  the sink refuses is dead-lettered alone, and an unreachable catalogue gives the whole batch back;
* SIGTERM/SIGINT stop the loop after the message (batch) in hand.
"""

from __future__ import annotations

import gc
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
    """Where parsed messages go; ``handle`` returns once the message is committed.

    A sink may also offer ``handle_batch(messages) -> list[MxicatError | None]`` (see
    :meth:`~mxicat.ingest.sink.CatalogueSink.handle_batch`): it returns once every message it did not refuse
    is committed, with the permanent error of each refused one; the ingester then uses it for batches.
    """

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
    #: most messages handed to the sink at once (at most the deliveries already waiting; capped by prefetch)
    batch_size: int = 100
    max_backoff: float = 30.0
    stats: IngestStats = field(default_factory=IngestStats)
    stop_event: threading.Event = field(default_factory=threading.Event)
    client_factory: Callable[[BrokerConfig], StompClient] = StompClient

    @property
    def dlq(self) -> str:
        return self.dead_letter_queue or f"{self.queue_name}.DLQ"

    def stop(self, *_: object) -> None:
        """Ask the loop to finish the batch in hand and return (usable as a signal handler)."""
        self.stop_event.set()

    def run(self, *, idle_exit: float | None = None) -> IngestStats:
        """Consume until :meth:`stop` (or, with ``idle_exit``, until the queue stayed empty that long)."""
        warm_up = getattr(self.sink, "warm_up", None)
        if warm_up is not None:
            warm_up()
        # the ontology and unit registry are large and live forever: keep the cyclic garbage collector from
        # rescanning them while messages stream through (measured: ~20 % of the time per message)
        gc.collect()
        gc.freeze()
        try:
            return self._run(idle_exit)
        finally:
            gc.unfreeze()

    def _run(self, idle_exit: float | None) -> IngestStats:
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
        """Process deliveries; True when finished for good (stopped, or idle), raises to reconnect."""
        batched = hasattr(self.sink, "handle_batch")
        idle_since = time.monotonic()
        while not self.stop_event.is_set():
            deliveries = self._collect(client)
            if not deliveries:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    return True
                continue
            idle_since = time.monotonic()
            if not batched:
                for delivery in deliveries:
                    self._deliver(client, delivery)
                continue
            parsed = self._parse_all(client, deliveries)
            if parsed:
                self._finish(client, self._handle_batch(client, parsed))
        return True

    def _collect(self, client: StompClient) -> list[Delivery]:
        """The first delivery (waited for up to 0.2 s) and those already waiting after it, at most
        ``batch_size``; raises :class:`UnavailableError` when the connection is gone."""
        limit = max(1, min(self.batch_size, self.prefetch))
        batch: list[Delivery] = []
        try:
            item = client.inbox.get(timeout=0.2)
            while True:
                if isinstance(item, Exception):  # unacked messages are redelivered after the reconnect
                    raise item if isinstance(item, UnavailableError) else UnavailableError(str(item))
                batch.append(item)
                if len(batch) >= limit:
                    break
                item = client.inbox.get_nowait()
        except queue.Empty:
            pass
        return batch

    def _parse_all(self, client: StompClient, deliveries: list[Delivery]) -> list[tuple[Delivery, Message]]:
        parsed: list[tuple[Delivery, Message]] = []
        for delivery in deliveries:
            self.stats.received += 1
            if delivery.redelivered:
                self.stats.redelivered += 1
            message = self._parse(client, delivery)
            if message is not None:
                parsed.append((delivery, message))
        return parsed

    def _handle_batch(
        self, client: StompClient, parsed: list[tuple[Delivery, Message]]
    ) -> list[tuple[Delivery, MxicatError | None]]:
        """Hand a batch to the sink: (delivery, refusal or None) per message, [] when handled one by one."""
        try:
            errors = self.sink.handle_batch([m for _, m in parsed])  # type: ignore[attr-defined]
        except UnavailableError:
            self.stats.requeued += len(parsed)
            for delivery, _ in parsed:
                client.nack(delivery)
            raise
        except Exception:  # a bug or an unforeseen input: isolate it message by message (idempotent)
            logger.exception("batch of %d messages failed; handling them one by one", len(parsed))
            for delivery, message in parsed:
                self._handle_one(client, delivery, message)
            return []
        return list(zip([d for d, _ in parsed], errors, strict=True))

    def _finish(self, client: StompClient, settled: list[tuple[Delivery, MxicatError | None]]) -> None:
        """Ack what the sink committed, dead-letter what it refused."""
        for delivery, error in settled:
            if error is None:
                client.ack(delivery)
                self.stats.processed += 1
            else:
                self._dead_letter(client, delivery, error)

    def _deliver(self, client: StompClient, delivery: Delivery) -> None:
        self.stats.received += 1
        if delivery.redelivered:
            self.stats.redelivered += 1
        message = self._parse(client, delivery)
        if message is not None:
            self._handle_one(client, delivery, message)

    def _parse(self, client: StompClient, delivery: Delivery) -> Message | None:
        """The message, or None once it went to the dead-letter queue."""
        try:
            return parse_message(delivery.body)
        except MxicatError as err:
            self._dead_letter(client, delivery, err)
        except Exception as err:  # a parser bug: keep the message, keep running
            logger.exception("unexpected failure parsing message %s", delivery.message_id)
            self._dead_letter(client, delivery, InternalError(f"{err.__class__.__name__}: {err}"))
        return None

    def _handle_one(self, client: StompClient, delivery: Delivery, message: Message) -> None:
        try:
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
