"""Benchmark: pyicat-plus messages through ``mxicat ingest`` vs a raw STOMP consumer that only acks.

Both sides consume the same N pyicat-plus-shaped dataset messages (~30-41 parameters each, the body pyicat-plus
3.1 writes for an MXCuBE rotation collection; made with pyicat-plus itself when it is installed) from their own
queue on the same broker, in the same run, with the same client library, prefetch and ack mode
(client-individual). The baseline parses nothing and writes nothing: it receives and acks. The mxicat side
parses each message, maps it through the ontology and registers the dataset in a fresh embedded catalogue,
acking each message after the commit of its batch (``mxicat ingest --batch-size``). Queues are filled
before each timer starts.

Usage:
    .venv/bin/python bench/ingest_stomp.py [--messages 10000] [--broker 127.0.0.1:61613] [--batch-size 100]

Needs the RabbitMQ STOMP adapter (``bash deploy/ci-services.sh``). Target (issue 8): mxicat >= 0.3 x raw.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
import warnings
from pathlib import Path

from mxicat.ingest.broker import BrokerConfig, StompClient
from mxicat.ingest.consumer import Ingester
from mxicat.ingest.sink import CatalogueSink

PROPOSAL, BEAMLINE = "mx2532", "id23eh2"
ROOT = f"/data/visitor/{PROPOSAL}/{BEAMLINE}/20261120/RAW_DATA/lyso/lyso-A1"

#: ~30 keys as MXCuBE's ICATLIMS sends them for a rotation collection
METADATA: dict[str, object] = {
    "Sample_name": "lyso-A1",
    "SampleProtein_acronym": "lyso",
    "startDate": "2026-11-20T10:00:00+01:00",
    "endDate": "2026-11-20T10:03:00+01:00",
    "definition": "MX",
    "MX_scanType": "datacollection",
    "MX_numberOfImages": 3600,
    "MX_startImageNumber": 1,
    "MX_exposureTime": 0.01,
    "MX_oscillationRange": 0.1,
    "MX_axis_start": 0.0,
    "MX_oscillationOverlap": 0.0,
    "MX_axis_end": 360.0,
    "MX_rotation_axis": "Omega",
    "MX_detectorDistance": 180.5,
    "MX_resolution": 1.6,
    "MX_resolution_at_corner": 1.3,
    "MX_transmission": 12.5,
    "MX_flux": 2.1e12,
    "MX_fluxEnd": 2.0e12,
    "MX_beamShape": "ELLIPTICAL",
    "MX_beamSizeAtSampleX": 0.05,
    "MX_beamSizeAtSampleY": 0.03,
    "MX_xBeam": 155.2,
    "MX_yBeam": 160.1,
    "MX_aperture": 50,
    "InstrumentMonochromator_wavelength": 0.97625,
    "InstrumentMonochromator_energy": 12.7,
    "InstrumentSource_current": 199.8,
    "InstrumentDetector01_model": "Eiger2 X 16M",
    "MX_directory": ROOT,
    "MX_template": "run_%04d_master.h5",
}


def _template() -> str:
    """One message body as pyicat-plus writes it (``{name}`` left to fill in)."""
    try:
        from pyicat_plus.client.main import IcatClient
    except ImportError:
        IcatClient = None  # noqa: N806
    if IcatClient is not None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "msg.xml"
            IcatClient(metadata_urls=["127.0.0.1:1"]).store_dataset(
                beamline=BEAMLINE,
                proposal=PROPOSAL,
                dataset="NAME_PLACEHOLDER",
                path=f"{ROOT}/NAME_PLACEHOLDER",
                metadata=METADATA,
                store_filename=str(out),
            )
            return out.read_text().replace("NAME_PLACEHOLDER", "{name}")
    params = "".join(
        f"<tns:parameter><tns:name>{k}</tns:name><tns:value>{v}</tns:value></tns:parameter>"
        for k, v in METADATA.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><tns:dataset xmlns:tns="http://www.esrf.fr/icat" '
        f'complete="true"><tns:investigation>{PROPOSAL}</tns:investigation><tns:instrument>{BEAMLINE}'
        f"</tns:instrument><tns:name>{{name}}</tns:name><tns:location>{ROOT}/{{name}}</tns:location>"
        f"<tns:sample><tns:name>lyso-A1</tns:name></tns:sample>{params}</tns:dataset>"
    )


def broker_cpu_seconds() -> float | None:
    """CPU time used so far by the local RabbitMQ (its Erlang VM, ``beam.smp``), None when not visible."""
    total, found = 0, False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if not comm.read().startswith("beam"):
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


class CpuMeter:
    """CPU seconds of this process (all threads) and of the broker over a ``with`` block."""

    def __enter__(self) -> CpuMeter:
        self._ours, self._broker = time.process_time(), broker_cpu_seconds()
        return self

    def __exit__(self, *_: object) -> None:
        self.ours = time.process_time() - self._ours
        after = broker_cpu_seconds()
        self.broker = None if after is None or self._broker is None else after - self._broker

    def per_message(self, count: int) -> str:
        broker = "n/a" if self.broker is None else f"{1e6 * self.broker / count:.0f}"
        return f"CPU/message: consumer {1e6 * self.ours / count:.0f} us, broker {broker} us"


def _fill(config: BrokerConfig, destination: str, template: str, count: int) -> None:
    client = StompClient(config)
    client.connect()
    try:
        for i in range(count):
            body = template.replace("{name}", f"run_{i:05d}").encode()
            client._conn.send(destination, body, headers={"persistent": "true"})
        client.send(destination + ".fence", b"{}")  # a receipt: everything before it was accepted
    finally:
        client.disconnect()


def raw_consume(config: BrokerConfig, destination: str, count: int, prefetch: int) -> float:
    """Seconds a consumer needs to receive and ack ``count`` messages (nothing else)."""
    client = StompClient(config)
    client.connect()
    try:
        client.subscribe(destination, prefetch=prefetch)
        start = time.perf_counter()
        for _ in range(count):
            item = client.inbox.get(timeout=60)
            if isinstance(item, Exception):
                raise item
            client.ack(item)
        return time.perf_counter() - start
    finally:
        client.disconnect()


def mxicat_consume(
    config: BrokerConfig, destination: str, count: int, prefetch: int, db: Path, batch_size: int, cpu: CpuMeter
) -> float:
    """Seconds ``mxicat ingest`` (in process) needs to register ``count`` messages (``cpu`` measures the
    same span: opening the catalogue and loading the ontology are not counted)."""
    from mxicat.catalogue.embedded.store import init_catalogue
    from mxicat.mx import open_catalogue

    init_catalogue(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_catalogue(f"sqlite:///{db}") as mx:
            mx.sync_parameter_types()
            ingester = Ingester(
                config, CatalogueSink(mx), queue_name=destination, prefetch=prefetch, batch_size=batch_size
            )

            class Counting:
                def __init__(self, inner: CatalogueSink) -> None:
                    self.inner, self.n = inner, 0

                def handle(self, message: object) -> None:
                    self.inner.handle(message)  # type: ignore[arg-type]
                    self._count(1)

                def handle_batch(self, messages: list[object]) -> list[object]:
                    errors = self.inner.handle_batch(messages)  # type: ignore[arg-type]
                    self._count(sum(e is None for e in errors))
                    return errors  # type: ignore[return-value]

                def _count(self, n: int) -> None:
                    self.n += n
                    if self.n >= count:
                        ingester.stop()

            ingester.sink = Counting(ingester.sink)  # type: ignore[assignment]
            with cpu:
                start = time.perf_counter()
                ingester.run()
                elapsed = time.perf_counter() - start
            if ingester.stats.processed != count:
                raise SystemExit(
                    f"mxicat processed {ingester.stats.processed} of {count} (dead letters: {ingester.stats.reasons})"
                )
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--broker", default="127.0.0.1:61613")
    parser.add_argument("--prefetch", type=int, default=200)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=Ingester.batch_size,
        help="mxicat ingest --batch-size (messages per catalogue transaction)",
    )
    args = parser.parse_args()
    config = BrokerConfig.from_url(args.broker)
    template = _template()
    tag = uuid.uuid4().hex[:8]
    raw_q, mx_q = f"/queue/bench-raw-{tag}", f"/queue/bench-mxicat-{tag}"
    print(f"{args.messages} messages of {len(template)} bytes (~{template.count('<tns:parameter>')} parameters)")
    _fill(config, raw_q, template, args.messages)
    with CpuMeter() as raw_cpu:
        raw = raw_consume(config, raw_q, args.messages, args.prefetch)
    _fill(config, mx_q, template, args.messages)
    our_cpu = CpuMeter()
    with tempfile.TemporaryDirectory() as tmp:
        ours = mxicat_consume(
            config, mx_q, args.messages, args.prefetch, Path(tmp) / "bench.db", args.batch_size, our_cpu
        )
    raw_rate, our_rate = args.messages / raw, args.messages / ours
    print(f"raw STOMP consumer (receive + ack) : {raw:8.2f} s  {raw_rate:9.1f} msg/s  "
          f"{raw_cpu.per_message(args.messages)}")
    print(f"mxicat ingest -> embedded catalogue: {ours:8.2f} s  {our_rate:9.1f} msg/s  "
          f"{our_cpu.per_message(args.messages)}")
    print(f"ratio mxicat / raw: {our_rate / raw_rate:.3f}  (target >= 0.3)")
    print(f"CPUs on this machine: {os.cpu_count()}")


if __name__ == "__main__":
    main()
