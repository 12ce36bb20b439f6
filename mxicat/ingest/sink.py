"""Write pyicat-plus messages into a catalogue through the MX layer (the ingester's sink).

Investigation policy (as the ESRF ingester does it): a dataset goes to the proposal's investigation on that
beamline whose [startDate, endDate] lies within ``window_hours`` (default 48 h) of the dataset's start date,
the closest one when several do; a processed dataset goes to the investigation of its first registered raw
input, however long after the session it was processed. A dataset outside every scheduled session is, by
default, given an
investigation created on the fly — visit ``<beamline>-<YYYYMMDD>`` (UTC date of the dataset's start), flagged
with the Keyword ``unscheduled`` — so nothing is refused for lack of a schedule; with
``unscheduled="refuse"`` such a message is refused (dead-lettered with the reason) instead.
``investigationId`` in the metadata forces the investigation, as with pyicat-plus.

Every handler is idempotent: the MX layer's registrations are no-ops for content it already has, the
unscheduled visit name is deterministic, and datafiles are only added, so a redelivered message changes
nothing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, MxicatError, NoSuchObjectFoundError, UnavailableError
from mxicat.ingest.messages import (
    AddFilesMessage,
    DatasetMessage,
    InvestigationMessage,
    Message,
    UpdateMetadataMessage,
)

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

logger = logging.getLogger(__name__)

UNSCHEDULED_KEYWORD = "unscheduled"


@dataclass(frozen=True)
class SchedulePolicy:
    """How datasets find their investigation."""

    window_hours: float = 48.0
    unscheduled: str = "create"  # or "refuse"

    def __post_init__(self) -> None:
        if self.unscheduled not in {"create", "refuse"}:
            raise BadParameterError(f"unscheduled policy {self.unscheduled!r}: expected create or refuse")


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class CatalogueSink:
    """Applies messages to an :class:`~mxicat.mx.facade.MxCatalogue`."""

    def __init__(self, mx: MxCatalogue, *, policy: SchedulePolicy | None = None, schedule_ttl: float = 60.0) -> None:
        self.mx = mx
        self.policy = policy or SchedulePolicy()
        self.unscheduled_created = 0
        self.schedule_ttl = schedule_ttl
        self._schedules: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def _sessions_of(self, proposal: str) -> list[dict[str, Any]]:
        """The proposal's investigations, re-read at most every ``schedule_ttl`` seconds (a message burst of
        one collection must not query the schedule hundreds of times; a new session appears within a minute,
        and at once when this sink creates it)."""
        now = time.monotonic()
        cached = self._schedules.get(proposal)
        if cached is None or now - cached[0] > self.schedule_ttl:
            cached = (now, self.mx.registry.find_investigations(proposal))
            self._schedules[proposal] = cached
        return cached[1]

    def warm_up(self) -> None:
        """Load the ontology and its ParameterType definitions now rather than with the first message."""
        _ = self.mx.term_definitions

    def handle(self, message: Message) -> None:
        if isinstance(message, DatasetMessage):
            self._dataset(message)
        elif isinstance(message, InvestigationMessage):
            self._investigation(message)
        elif isinstance(message, UpdateMetadataMessage):
            self._update(message)
        elif isinstance(message, AddFilesMessage):
            self._add_files(message)
        else:  # pragma: no cover - parse_message returns only the kinds above
            raise BadParameterError(f"unsupported message {type(message).__name__}")

    # -- investigations ---------------------------------------------------------------------------
    def investigation_for(self, proposal: str, beamline: str, when: datetime | None) -> int:
        """Id of the investigation a dataset of (proposal, beamline, start date) belongs to."""
        found = self._sessions_of(proposal)
        wanted = beamline.strip().lower()
        on_beamline = [
            inv
            for inv in found
            if any(
                str(ii.get("instrument", {}).get("name", "")).lower() == wanted
                for ii in inv.get("investigationInstruments", [])
            )
        ]
        candidates = on_beamline or [inv for inv in found if not inv.get("investigationInstruments")]
        moment = _utc(when)
        if moment is None:
            if len(candidates) == 1:
                return int(candidates[0]["id"])
            if not candidates:
                return self._unscheduled(proposal, beamline, datetime.now(UTC))
            raise BadParameterError(
                f"proposal {proposal} has {len(candidates)} sessions on {beamline}: a start date is needed"
            )
        window = timedelta(hours=self.policy.window_hours)
        best: tuple[float, int] | None = None
        for inv in candidates:
            start = _utc(inv.get("startDate"))
            end = _utc(inv.get("endDate")) or start
            if start is None or end is None:
                distance = 0.0 if len(candidates) == 1 else float("inf")
            elif start <= moment <= end:
                distance = 0.0
            else:
                distance = min(abs(moment - start), abs(moment - end)) / timedelta(seconds=1)
            if distance <= window / timedelta(seconds=1) and (best is None or distance < best[0]):
                best = (distance, int(inv["id"]))
        if best is not None:
            return best[1]
        return self._unscheduled(proposal, beamline, moment)

    def _unscheduled(self, proposal: str, beamline: str, when: datetime) -> int:
        visit = f"{beamline.strip().lower()}-{when:%Y%m%d}"
        if self.policy.unscheduled == "refuse":
            raise NoSuchObjectFoundError(
                f"no session of proposal {proposal} on {beamline} within {self.policy.window_hours:g} h of "
                f"{when.isoformat()} (unscheduled datasets are refused by configuration)"
            )
        existing = self.mx.registry.find_investigations(f"{proposal}/{visit}")
        if existing:
            return int(existing[0]["id"])
        inv = self.mx.registry.create_investigation(
            proposal,
            visit_id=visit,
            title=f"{proposal} on {beamline} (unscheduled)",
            beamline=beamline,
            start=when,
            user_name=None,
        )
        self.mx.session.create({"Keyword": {"name": UNSCHEDULED_KEYWORD, "investigation": {"id": inv["id"]}}})
        self._schedules.pop(proposal, None)
        self.unscheduled_created += 1
        logger.warning("created unscheduled investigation %s/%s (id %s)", proposal, visit, inv["id"])
        return int(inv["id"])

    def _investigation(self, message: InvestigationMessage) -> None:
        if message.investigation_id:
            self.mx.investigation(int(message.investigation_id))
            return
        found = self.mx.registry.find_investigations(message.proposal)
        start = _utc(message.start_date)
        for inv in found:
            if _utc(inv.get("startDate")) == start:
                return  # already scheduled (a redelivery, or announced twice)
        visit = f"{message.beamline.strip().lower()}-{(start or datetime.now(UTC)):%Y%m%d}"
        if self.mx.registry.find_investigations(f"{message.proposal}/{visit}"):
            return
        self.mx.registry.create_investigation(
            message.proposal, visit_id=visit, beamline=message.beamline, start=start, end=_utc(message.end_date)
        )
        self._schedules.pop(message.proposal, None)

    def handle_batch(self, messages: Sequence[Message]) -> list[MxicatError | None]:
        """Apply messages in order; consecutive raw datasets share one catalogue transaction.

        Returns, per message, None once it is committed or the permanent error that refuses it (the others
        are applied regardless). :class:`~mxicat.errors.UnavailableError` is raised: nothing may be acked,
        and a retry of the whole batch is idempotent.
        """
        results: list[MxicatError | None] = [None] * len(messages)
        run: list[int] = []
        for index, message in enumerate(messages):
            if isinstance(message, DatasetMessage) and not message.is_processed:
                run.append(index)
                continue
            self._raw_datasets(messages, run, results)
            try:
                self.handle(message)
            except UnavailableError:
                raise
            except MxicatError as err:
                results[index] = err
        self._raw_datasets(messages, run, results)
        return results

    def _raw_datasets(self, messages: Sequence[Message], run: list[int], results: list[MxicatError | None]) -> None:
        """Register the raw dataset messages at ``run`` (then empty it) through the MX layer's batch write."""
        calls: list[tuple[int, dict[str, Any]]] = []
        for index in run:
            message = messages[index]
            assert isinstance(message, DatasetMessage)
            try:
                calls.append((index, self._raw_call(message)))
            except UnavailableError:
                raise
            except MxicatError as err:
                results[index] = err
        run.clear()
        if not calls:
            return
        outcomes = self.mx.store_datasets([call for _, call in calls])
        for (index, _), outcome in zip(calls, outcomes, strict=True):
            if isinstance(outcome, MxicatError):
                results[index] = outcome

    # -- datasets ---------------------------------------------------------------------------------
    def _metadata(self, message: DatasetMessage) -> dict[str, Any]:
        metadata: dict[str, Any] = dict(message.parameters)
        metadata.setdefault("Sample_name", message.sample_name)
        if message.start_date is not None:
            metadata["startDate"] = message.start_date
        if message.end_date is not None:
            metadata["endDate"] = message.end_date
        if not str(metadata.get("investigationId", "")).strip():
            found = self._inputs_investigation(message) if message.is_processed else None
            metadata["investigationId"] = found or self.investigation_for(
                message.proposal, message.beamline, message.start_date
            )
        return metadata

    def _raw_call(self, message: DatasetMessage) -> dict[str, Any]:
        """Keyword arguments of the ``store_dataset`` call a raw dataset message stands for."""
        return {
            "beamline": message.beamline,
            "proposal": message.proposal,
            "dataset": message.name,
            "path": message.location,
            "metadata": self._metadata(message),
            "complete": message.complete,
        }

    def _dataset(self, message: DatasetMessage) -> None:
        if message.is_processed:
            self.mx.store_processed_data(
                message.beamline,
                message.proposal,
                message.name,
                message.location,
                self._metadata(message),
                raw=message.input_datasets,
            )
        else:
            self.mx.store_dataset(**self._raw_call(message))

    def _inputs_investigation(self, message: DatasetMessage) -> int | None:
        """Investigation of a processed dataset's first registered raw input (processing may run days later)."""
        for path in message.input_datasets:
            try:
                investigation, _, _ = self._dataset_ref(self.mx.dataset_id(os.path.normpath(path)))
            except NoSuchObjectFoundError:
                continue
            return investigation
        return None

    def _dataset_ref(self, dataset_id: int) -> tuple[int, str, str | None]:
        obj = self.mx.session.get("Dataset ds INCLUDE ds.investigation", dataset_id)
        ds = next(iter(obj.values()))
        return int(ds["investigation"]["id"]), str(ds["name"]), ds.get("location")

    def _update(self, message: UpdateMetadataMessage) -> None:
        for path in message.dataset_paths:
            dataset_id = self.mx.dataset_id(os.path.normpath(path))
            investigation, name, _ = self._dataset_ref(dataset_id)
            self.mx.register_collection(investigation, name, {message.name: message.value})

    def _add_files(self, message: AddFilesMessage) -> None:
        investigation, name, location = self._dataset_ref(message.dataset_id)
        if not location:
            raise BadParameterError(f"dataset {message.dataset_id} has no location to count files in")
        root = Path(location)
        if not root.is_dir():
            raise NoSuchObjectFoundError(f"dataset {message.dataset_id}: location {location} is not a directory")
        files = sorted(p for p in root.rglob("*") if p.is_file())
        self.mx.register_collection(investigation, name, {}, datafiles=files)
