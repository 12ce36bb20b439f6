"""Batches: many raw datasets in one catalogue transaction, with the per-message guarantees intact.

The sink tests compare a batch against the same messages handled one by one on a second real catalogue; the
broker test checks, through the real RabbitMQ STOMP adapter, that every ack follows the commit of its batch.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mxicat.errors import BadParameterError, MxicatError, UnavailableError, ValidationError
from mxicat.ingest.broker import BrokerConfig, Delivery, StompClient
from mxicat.ingest.consumer import ERROR_HEADER, Ingester
from mxicat.ingest.messages import DatasetMessage, InvestigationMessage, Message, parse_message
from mxicat.ingest.sink import CatalogueSink
from mxicat.mx import MxCatalogue, open_catalogue

RAW = "/data/visitor/mx2532/id23eh2/20261120/RAW_DATA/lyso/lyso-A1"


def raw_message(name: str, sample: str = "lyso-A1", **params: str) -> DatasetMessage:
    parameters = {
        "Sample_name": sample,
        "MX_numberOfImages": "3600",
        "MX_exposureTime": "0.01",
        "InstrumentMonochromator_wavelength": "0.97625",
        **params,
    }
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    return DatasetMessage(
        proposal="mx2532",
        beamline="id23eh2",
        name=name,
        location=f"{RAW}/{name}",
        sample_name=sample,
        parameters=parameters,
        start_date=when,
        end_date=when,
    )


def processed_message(name: str, *inputs: str) -> DatasetMessage:
    parameters = {
        "Sample_name": "lyso-A1",
        "input_datasets": ",".join(inputs),
        "Process_program": "autoPROC",
        "MXAutoprocIntegrationScaling_rMerge": "0.05",
    }
    when = datetime(2026, 11, 20, 12, tzinfo=UTC)
    return DatasetMessage(
        proposal="mx2532",
        beamline="id23eh2",
        name=name,
        location=f"{RAW}/processed/{name}",
        sample_name="lyso-A1",
        parameters=parameters,
        start_date=when,
        end_date=when,
    )


def schedule(mx: MxCatalogue) -> int:
    inv = mx.registry.create_investigation(
        "mx2532",
        visit_id="1",
        beamline="id23eh2",
        start=datetime(2026, 11, 20, 8, tzinfo=UTC),
        end=datetime(2026, 11, 20, 20, tzinfo=UTC),
    )
    return int(inv["id"])


def _open(path: Path) -> MxCatalogue:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_catalogue(f"sqlite:///{path}")


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[MxCatalogue, MxCatalogue]]:
    """Two fresh catalogues with the same session scheduled."""
    a, b = _open(tmp_path / "batch.db"), _open(tmp_path / "single.db")
    for mx in (a, b):
        schedule(mx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield a, b
    a.close()
    b.close()


def _stored(mx: MxCatalogue) -> dict[str, Any]:
    """What a user sees of every dataset (without ids and times, which differ between catalogues)."""
    out: dict[str, Any] = {}
    for row in mx.session.search("SELECT ds.name FROM Dataset ds"):
        detail = mx.dataset(str(row))
        out[str(row)] = {k: v for k, v in detail.items() if k not in ("id", "history")}
    samples = sorted(mx.session.search("SELECT s.name FROM Sample s"))
    return {"datasets": out, "samples": samples}


def _one_by_one(sink: CatalogueSink, messages: Sequence[Message]) -> list[MxicatError | None]:
    errors: list[MxicatError | None] = []
    for message in messages:
        try:
            sink.handle(message)
            errors.append(None)
        except MxicatError as err:
            errors.append(err)
    return errors


def test_batch_stores_what_one_by_one_stores(two: tuple[MxCatalogue, MxCatalogue]) -> None:
    batch_mx, single_mx = two
    messages: list[Message] = [
        raw_message("run_01"),
        raw_message("run_02", MX_exposureTime="fast", experimentPlan="OSC"),  # unverified values
        InvestigationMessage(proposal="mx2532", beamline="id23eh2", start_date=datetime(2026, 11, 20, 8, tzinfo=UTC)),
        raw_message("run_01", MX_exposureTime="0.02"),  # the same dataset again, changed, in the batch
        processed_message("proc_01", f"{RAW}/run_01"),  # needs run_01 of this batch committed first
        raw_message("run_03", sample="lyso-B2"),
        raw_message("run_02", MX_exposureTime="fast", experimentPlan="OSC"),  # again, unchanged
    ]
    got = CatalogueSink(batch_mx).handle_batch(messages)
    want = _one_by_one(CatalogueSink(single_mx), messages)
    assert [repr(e) for e in got] == [repr(e) for e in want] == ["None"] * len(messages)
    assert _stored(batch_mx) == _stored(single_mx)
    assert batch_mx.dataset("run_01")["metadata"]["exposure_time"] == pytest.approx(0.02)
    assert batch_mx.count_datasets() == 4
    inputs = batch_mx.dataset("proc_01")["provenance"]["inputs"]
    assert [d["name"] for d in inputs] == ["run_01"]


def test_redelivered_and_partly_existing_batches_change_nothing(two: tuple[MxCatalogue, MxCatalogue]) -> None:
    mx, _ = two
    sink = CatalogueSink(mx)
    messages = [raw_message(f"run_{i:02d}") for i in range(6)]
    assert sink.handle_batch(messages[:3]) == [None] * 3
    before = {m.name: mx.dataset(m.name) for m in messages[:3]}
    assert sink.handle_batch(messages) == [None] * 6  # half of it exists already
    everything = {m.name: mx.dataset(m.name) for m in messages}
    assert {k: everything[k] for k in before} == before
    assert sink.handle_batch(list(reversed(messages))) == [None] * 6  # the whole batch redelivered
    assert {m.name: mx.dataset(m.name) for m in messages} == everything
    assert mx.count_datasets() == 6


def test_a_refused_message_does_not_poison_its_batch(two: tuple[MxCatalogue, MxCatalogue]) -> None:
    mx, single_mx = two
    for cat in (mx, single_mx):  # a catalogue rule: exposure times above 10 s are refused
        cat.sync_parameter_types()
        [type_id] = cat.session.search("SELECT pt.id FROM ParameterType pt WHERE pt.name = 'MX_exposureTime'")
        cat.session.update({"ParameterType": {"id": type_id, "enforced": True, "maximumNumericValue": 10.0}})
    messages: list[Message] = [raw_message(f"run_{i:02d}") for i in range(5)]
    messages[1] = raw_message("run_01", "only-in-run-01", MX_exposureTime="60")  # refused by the catalogue
    messages[3] = raw_message("run_03", experimentPlan="x" * 5000)  # refused by the MX layer (too long)
    errors = CatalogueSink(mx).handle_batch(messages)
    assert [type(e) for e in errors] == [type(None), ValidationError, type(None), BadParameterError, type(None)]
    assert "MX_exposureTime" in str(errors[1]) and "longer than 4000" in str(errors[3])
    assert sorted(str(n) for n in mx.session.search("SELECT ds.name FROM Dataset ds")) == ["run_00", "run_02", "run_04"]
    assert "only-in-run-01" not in mx.session.search("SELECT s.name FROM Sample s")  # nothing half-written
    want = _one_by_one(CatalogueSink(single_mx), messages)
    assert [repr(e) for e in errors] == [repr(e) for e in want]
    assert _stored(mx) == _stored(single_mx)


class _Waiting(StompClient):
    """A real STOMP client that waits until the whole queue arrived before consuming, so batches form."""

    expected = 0

    def subscribe(self, destination: str, *, prefetch: int = 100, sub_id: str = "mxicat") -> None:
        super().subscribe(destination, prefetch=prefetch, sub_id=sub_id)
        deadline = time.monotonic() + 10
        while self.inbox.qsize() < self.expected and time.monotonic() < deadline:
            time.sleep(0.01)


class _Recording(_Waiting):
    """Checks, at every ack, that the message's dataset is already committed (read through another
    connection)."""

    db: Path
    acked: list[str] = []
    uncommitted: list[str] = []

    def ack(self, delivery: Delivery) -> None:
        name = parse_message(delivery.body)
        assert isinstance(name, DatasetMessage)
        with _open(self.db) as reader:
            found = reader.session.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE ds.name = '{name.name}'")
        if found != [1]:
            self.uncommitted.append(name.name)
        self.acked.append(name.name)
        super().ack(delivery)


def test_acks_follow_the_commit_and_bad_messages_go_to_the_dlq(broker: str, queue_name: str, tmp_path: Path) -> None:
    main = pytest.importorskip("pyicat_plus.client.main", reason="pyicat-plus (test extra) missing")
    client = main.IcatClient(metadata_urls=[broker], metadata_queue=queue_name.rsplit("/", 1)[-1])
    for i in range(12):
        plan = "x" * 5000 if i == 5 else "OSC"  # run_05 can never be stored
        client.store_dataset(
            beamline="id23eh2",
            proposal="mx2532",
            dataset=f"run_{i:02d}",
            path=f"/data/visitor/mx2532/id23eh2/RAW_DATA/s/run_{i:02d}",
            metadata={
                "Sample_name": "lyso-A1",
                "MX_wavelength": 0.97,
                "experimentPlan": plan,
                "startDate": "2026-11-20T10:00:00+00:00",
            },
        )
    db = tmp_path / "acks.db"
    mx = _open(db)
    schedule(mx)
    sink = CatalogueSink(mx)
    sizes: list[int] = []

    class Sizes:
        def handle(self, message: Message) -> None:
            sink.handle(message)

        def handle_batch(self, messages: Sequence[Message]) -> list[MxicatError | None]:
            sizes.append(len(messages))
            return sink.handle_batch(messages)

    _Recording.expected, _Recording.db, _Recording.acked, _Recording.uncommitted = 12, db, [], []
    ingester = Ingester(
        BrokerConfig.from_url(broker),
        Sizes(),
        queue_name=queue_name,
        batch_size=8,  # type: ignore[arg-type]
        client_factory=_Recording,
    )
    stats = ingester.run(idle_exit=1.5)
    mx.close()
    assert max(sizes) == 8 and sum(sizes) == 12  # batches formed, capped at batch_size
    assert (stats.processed, stats.dead_lettered) == (11, 1)
    assert sorted(_Recording.acked) == sorted(f"run_{i:02d}" for i in range(12))  # DLQ'd one acked too
    assert _Recording.uncommitted == ["run_05"]  # acked after its dead letter, never stored
    dead: list[Delivery] = []
    reader = StompClient(BrokerConfig.from_url(broker))
    reader.connect()
    reader.subscribe(f"{queue_name}.DLQ")
    done = threading.Event()
    while not done.is_set():
        try:
            item = reader.inbox.get(timeout=2)
        except Exception:
            done.set()
            continue
        assert isinstance(item, Delivery)
        dead.append(item)
        reader.ack(item)
    reader.disconnect()
    assert len(dead) == 1 and b"run_05" in dead[0].body
    assert "longer than 4000" in dead[0].headers[ERROR_HEADER]


def test_a_failing_batch_is_retried_message_by_message_or_given_back(broker: str, queue_name: str) -> None:
    raw = StompClient(BrokerConfig.from_url(broker))
    raw.connect()
    for name in ("run_a", "run_b", "run_c"):
        raw.send(
            queue_name,
            (
                "<tns:dataset xmlns:tns='http://www.esrf.fr/icat'><tns:investigation>mx2532"
                "</tns:investigation><tns:instrument>id23eh2</tns:instrument><tns:name>"
                f"{name}</tns:name><tns:location>/d/{name}</tns:location><tns:sample><tns:name>s"
                "</tns:name></tns:sample></tns:dataset>"
            ).encode(),
        )
    raw.disconnect()

    class Flaky:
        """handle_batch fails (catalogue down the first time, then a bug); handle works."""

        def __init__(self) -> None:
            self.batches = 0
            self.names: list[str] = []

        def handle(self, message: Message) -> None:
            assert isinstance(message, DatasetMessage)
            self.names.append(message.name)

        def handle_batch(self, messages: Sequence[Message]) -> list[MxicatError | None]:
            self.batches += 1
            if self.batches == 1:
                raise UnavailableError("catalogue is down")
            raise RuntimeError("a bug in the batch path")

    sink = Flaky()
    _Waiting.expected = 3
    stats = Ingester(
        BrokerConfig.from_url(broker),
        sink,
        queue_name=queue_name,
        max_backoff=0.2,  # type: ignore[arg-type]
        client_factory=_Waiting,
    ).run(idle_exit=1.5)
    assert stats.requeued == 3 and stats.redelivered == 3  # the whole batch came back once
    assert sorted(sink.names) == ["run_a", "run_b", "run_c"] and stats.processed == 3
    assert stats.dead_lettered == 0
