"""Beamline ingestion commands: ``mxicat ingest`` (pyicat-plus STOMP consumer) and ``mxicat outbox``."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from mxicat.cli.context import CliContext, pass_cli
from mxicat.cli.output import echo_json, echo_table


@click.command("ingest")
@click.option(
    "--broker",
    metavar="URL",
    help="STOMP broker, stomp://[user:password@]host[:port] (default MXICAT_BROKER, stomp://127.0.0.1:61613).",
)
@click.option("--queue", "queue_name", metavar="DEST", help="Queue to consume (default /queue/icatIngest).")
@click.option(
    "--vhost", metavar="NAME", help="Virtual host sent in the STOMP host header (default '', as pyicat-plus does)."
)
@click.option("--dead-letter-queue", metavar="DEST", help="Where unprocessable messages go (default <queue>.DLQ).")
@click.option(
    "--unscheduled",
    type=click.Choice(["create", "refuse"]),
    default="create",
    show_default=True,
    help="Datasets outside every scheduled session: create a flagged investigation, or refuse.",
)
@click.option(
    "--window-hours",
    type=float,
    default=48.0,
    show_default=True,
    help="How far from a session's dates a dataset still belongs to it.",
)
@click.option("--prefetch", type=int, default=100, show_default=True, help="Unacked messages in flight.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Most messages registered in one catalogue transaction (only those already received are "
    "batched, never waited for; each is acked after its batch commits; at most --prefetch).",
)
@click.option(
    "--idle-exit",
    type=float,
    metavar="SECONDS",
    help="Stop once the queue stayed empty this long (batch runs; default: run until SIGTERM).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Report broker connectivity, consumers and queue depth; exit 1 "
    "when the broker is unreachable or nobody consumes the queue.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="table",
    show_default=True,
    help="Format of the summary (with --check: of the broker report).",
)
@pass_cli
def ingest(
    cli: CliContext,
    broker: str | None,
    queue_name: str | None,
    vhost: str | None,
    dead_letter_queue: str | None,
    unscheduled: str,
    window_hours: float,
    prefetch: int,
    batch_size: int,
    idle_exit: float | None,
    check: bool,
    fmt: str,
) -> None:
    """Consume pyicat-plus messages (MXCuBE, BLISS, pipelines) into the catalogue.

    Each message is acked only after its catalogue transaction commits (messages already received are
    registered together, up to --batch-size per transaction); messages that can never be processed go to the
    dead-letter queue with the reason in the x-mxicat-error header; while the catalogue is unreachable
    messages stay queued. SIGTERM stops after the batch in hand.

    Example:

        mxicat --catalogue sqlite:///mx.db ingest --broker stomp://127.0.0.1:61613
    """
    from mxicat.ingest.broker import BrokerConfig
    from mxicat.ingest.check import check_broker
    from mxicat.ingest.consumer import Ingester
    from mxicat.ingest.sink import CatalogueSink, SchedulePolicy
    from mxicat.mx import open_catalogue

    settings = cli.settings
    config = BrokerConfig.from_url(broker or settings.broker, vhost=settings.broker_vhost if vhost is None else vhost)
    destination = queue_name or settings.queue
    if check:
        result = check_broker(config, destination)
        if fmt == "json":
            echo_json(result.__dict__ | {"ok": result.ok})
        else:
            echo_table(
                ["broker", "queue", "connected", "consumers", "depth", "error"],
                [
                    [
                        result.broker,
                        result.queue,
                        result.connected,
                        "unknown" if result.consumers is None else result.consumers,
                        "unknown" if result.depth is None else result.depth,
                        result.error or "",
                    ]
                ],
            )
        if not result.ok:
            sys.exit(1)
        return
    policy = SchedulePolicy(window_hours=window_hours, unscheduled=unscheduled)
    with open_catalogue(settings.catalogue, settings=settings) as mx:
        ingester = Ingester(
            config,
            CatalogueSink(mx, policy=policy),
            queue_name=destination,
            dead_letter_queue=dead_letter_queue,
            prefetch=prefetch,
            batch_size=batch_size,
        )
        signal.signal(signal.SIGTERM, ingester.stop)
        signal.signal(signal.SIGINT, ingester.stop)
        stats = ingester.run(idle_exit=idle_exit)
    summary = {
        "received": stats.received,
        "processed": stats.processed,
        "dead_lettered": stats.dead_lettered,
        "requeued": stats.requeued,
        "redelivered": stats.redelivered,
        "dead_letter_reasons": stats.reasons,
    }
    if fmt == "json":
        echo_json(summary)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in summary.items() if k != "dead_letter_reasons"), err=True)


@click.group("outbox")
def outbox() -> None:
    """Registrations kept locally while the catalogue was unreachable (store-and-forward).

    Example:

        mxicat outbox list
    """


@outbox.command("list")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="table",
    show_default=True,
    help="json: one array of objects; table: one row per registration.",
)
@pass_cli
def outbox_list(cli: CliContext, fmt: str) -> None:
    """List queued and parked registrations.

    Example:

        mxicat outbox list --format json
    """
    from mxicat.ingest.outbox import Outbox

    items = Outbox(cli.settings.outbox).items()
    rows: list[dict[str, Any]] = [
        {"id": i.id, "key": i.key, "kind": i.kind, "state": i.state, "attempts": i.attempts, "last_error": i.last_error}
        for i in items
    ]
    if fmt == "json":
        echo_json(rows)
    else:
        echo_table(
            ["id", "key", "kind", "state", "attempts", "last_error"],
            [list(r.values()) for r in rows],
            title=str(cli.settings.outbox),
        )


@outbox.command("flush")
@click.option("--retry-failed", is_flag=True, help="Also retry registrations parked after an error.")
@pass_cli
def outbox_flush(cli: CliContext, retry_failed: bool) -> None:
    """Register everything queued now (ignoring the backoff schedule); exit 1 if anything is left.

    Example:

        mxicat outbox flush
    """
    from mxicat.ingest.forward import replay
    from mxicat.ingest.outbox import Outbox

    box = Outbox(cli.settings.outbox)
    if retry_failed:
        box.retry_failed()
    report = replay(box, cli.settings)
    click.echo(f"delivered: {report.delivered}, still queued: {report.retrying}, failed: {report.failed}", err=True)
    if report.retrying or report.failed:
        sys.exit(1)


COMMANDS: list[click.Command] = [ingest, outbox]
