"""Store-and-forward registration: try the catalogue now, keep the registration in the outbox if it is down.

Used by ``mxicat push`` and available to any Python caller::

    from mxicat.ingest.forward import ForwardingCatalogue
    fwd = ForwardingCatalogue("icat+https://icat.example.org", outbox="~/.local/share/mxicat/outbox.db")
    fwd.register_nexus("/data/mx2532/run1_master.h5", "mx2532", beamline="id23eh2")   # registered or queued
    fwd.flush()                                                                           # later: retries

Only an unreachable catalogue (:class:`~mxicat.errors.UnavailableError`) queues a registration; any other
error (bad metadata, no permission) is raised at once, as without the outbox. Payloads are stored as JSON, one
transaction each; identical submissions are queued once (the key is a digest of kind and payload), and
replays go through the MX layer's idempotent registrations, so nothing is registered twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, UnavailableError
from mxicat.ingest.outbox import FlushReport, Outbox

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue
    from mxicat.settings import Settings

logger = logging.getLogger(__name__)

KINDS = ("nexus", "collection", "processed", "group")


@dataclass(frozen=True)
class Queued:
    """Returned instead of a registration when the catalogue was unreachable."""

    kind: str
    key: str
    reason: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def payload_key(kind: str, payload: Mapping[str, Any]) -> str:
    """Stable key of a registration: identical submissions share it."""
    text = json.dumps({"kind": kind, "payload": payload}, sort_keys=True, default=str)
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def apply(mx: MxCatalogue, kind: str, payload: Mapping[str, Any]) -> Any:
    """Perform one registration described by (kind, payload) on an open MX catalogue."""
    args = dict(payload)
    if kind == "nexus":
        return mx.register_nexus(args.pop("path"), args.pop("investigation"), **args)
    if kind == "collection":
        return mx.register_collection(args.pop("investigation"), args.pop("name"), args.pop("metadata"), **args)
    if kind == "processed":
        return mx.register_processed(args.pop("name"), **args)
    if kind == "group":
        return mx.group(args.pop("name"), args.pop("datasets"), **args)
    raise BadParameterError(f"unknown outbox registration kind {kind!r} (expected one of {', '.join(KINDS)})")


class ForwardingCatalogue:
    """Registrations that survive an unreachable catalogue (see the module docstring)."""

    def __init__(self, url: str | None = None, *, outbox: str | os.PathLike[str] | None = None,
                 settings: Settings | None = None, credentials: Mapping[str, Any] | None = None,
                 opener: Callable[[], MxCatalogue] | None = None) -> None:
        from mxicat.settings import Settings

        self.settings = settings or Settings()
        self.url = url or self.settings.catalogue
        self.credentials = credentials
        self.outbox = Outbox(Path(outbox) if outbox else self.settings.outbox)
        self._opener = opener

    def _open(self) -> MxCatalogue:
        if self._opener is not None:
            return self._opener()
        from mxicat.mx import open_catalogue

        return open_catalogue(self.url, credentials=self.credentials, settings=self.settings)

    def submit(self, kind: str, payload: Mapping[str, Any]) -> Any:
        """Register now, or queue when the catalogue is unreachable (returns :class:`Queued` then)."""
        if kind not in KINDS:
            raise BadParameterError(f"unknown registration kind {kind!r}")
        data = _jsonable(payload)
        try:
            with self._open() as mx:
                return apply(mx, kind, data)
        except UnavailableError as err:
            key = payload_key(kind, data)
            self.outbox.put(kind, data, key=key)
            logger.warning("catalogue unreachable (%s): %s kept in the outbox %s", err, kind, self.outbox.path)
            return Queued(kind=kind, key=key, reason=str(err))

    def register_nexus(self, path: str | os.PathLike[str], investigation: str | int, **kwargs: Any) -> Any:
        return self.submit("nexus", {"path": os.fspath(Path(path).resolve()), "investigation": investigation,
                                     **kwargs})

    def register_collection(self, investigation: str | int, name: str, metadata: Mapping[str, Any],
                            **kwargs: Any) -> Any:
        return self.submit("collection", {"investigation": investigation, "name": name,
                                          "metadata": dict(metadata), **kwargs})

    def register_processed(self, name: str, **kwargs: Any) -> Any:
        return self.submit("processed", {"name": name, **kwargs})

    def group(self, name: str, datasets: list[int | str], **kwargs: Any) -> Any:
        return self.submit("group", {"name": name, "datasets": list(datasets), **kwargs})

    def flush(self, *, include_not_due: bool = True) -> FlushReport:
        """Replay queued registrations now."""
        return replay(self.outbox, self.settings, opener=self._open, include_not_due=include_not_due)


def replay(box: Outbox, settings: Settings, *, opener: Callable[[], MxCatalogue] | None = None,
           include_not_due: bool = True) -> FlushReport:
    """Replay an outbox through one catalogue session (opened only if something is queued)."""
    if not box.items(state="pending"):
        return FlushReport(0, 0, 0)
    if opener is None:
        from mxicat.mx import open_catalogue

        def opener() -> MxCatalogue:
            return open_catalogue(settings.catalogue, settings=settings)

    try:
        mx = opener()
    except UnavailableError as err:
        pending = box.items(state="pending")
        logger.warning("catalogue still unreachable (%s): %d registrations stay queued", err, len(pending))
        return FlushReport(0, len(pending), 0)
    with mx:
        return box.flush(lambda kind, payload: apply(mx, kind, payload), include_not_due=include_not_due)
