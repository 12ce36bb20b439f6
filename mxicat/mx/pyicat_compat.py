"""pyicat-plus call shapes: ``store_dataset`` and ``store_processed_data`` with ESRF key conventions.

What pyicat-plus (``pyicat_plus.client.main.IcatClient``) and its ingesters do, applied directly to the
catalogue instead of a message queue:

* ``Sample_name`` is required (the same message as pyicat-plus when it is missing);
* ``startDate``/``endDate`` default to now (timezone-aware), ``machine`` to this host's FQDN and
  ``software`` to ``mxicat_v<version>`` when absent; ``None`` values are dropped;
* ``path`` and every ``input_datasets`` entry are normalised with ``os.path.normpath``;
* values may be strings (every value on the wire is one); comma-joined lists are split for
  ``input_datasets``; ISO dates keep their offset;
* the investigation is the proposal's (``mx2532``, ``MX-2532``...) on that beamline nearest in time, or
  ``investigationId`` when given; ESRF names and aliases (``MX_exposureTime``, ``scanType``...) are
  mapped by the ontology, the rest kept as unverified parameters;
* ``definition`` (space-separated technique names, e.g. ``MX SAD``) sets the dataset techniques;
* ``complete`` (pyicat-plus 3.x sends it as a parameter) sets ``Dataset.complete``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError, MxicatError, UnavailableError
from mxicat.mx.collections import DatasetSpec, Registration, write_dataset

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

PROGRAM_KEYS = ("Process_program", "program", "processing_program")


def _now() -> datetime:
    return datetime.now().astimezone()


def _prepare(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with pyicat-plus defaults filled and ``None`` values dropped (input never mutated)."""
    from mxicat import __version__

    values = {str(k): v for k, v in metadata.items() if v is not None}
    if "Sample_name" not in values:
        raise BadParameterError("ICAT metadata field 'Sample_name' is missing")
    now = _now()
    values.setdefault("startDate", now)
    values.setdefault("endDate", now)
    if "machine" not in values:
        values["machine"] = socket.getfqdn()
    values.setdefault("software", f"mxicat_v{__version__}")
    return values


def _datetime(value: Any, key: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise BadParameterError(f"{key}: not an ISO 8601 date: {value!r}") from err


def _investigation(
    mx: MxCatalogue, beamline: str, proposal: str, values: Mapping[str, Any], when: datetime
) -> dict[str, Any]:
    forced = values.get("investigationId")
    if forced not in (None, ""):
        return mx.investigation(int(str(forced).strip()))
    return mx.ensure_investigation(proposal, beamline=beamline, when=when)


def _techniques(values: Mapping[str, Any]) -> str | None:
    definition = values.get("definition")
    if isinstance(definition, str) and definition.strip():
        return definition.strip()
    return None


def _split_paths(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [os.path.normpath(str(p).strip()) for p in items if str(p).strip()]


def _require(**args: Any) -> None:
    for name, value in args.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            raise BadParameterError(f"{name} is required")


def _complete(values: dict[str, Any], default: bool | None) -> bool | None:
    """pyicat-plus 3.x sends ``complete`` as a parameter: it is the Dataset's flag, not a parameter."""
    flag = values.pop("complete", None)
    if flag is None:
        return default
    if isinstance(flag, bool):
        return flag
    text = str(flag).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise BadParameterError(f"complete: expected true or false, got {flag!r}")
    return text in ("true", "1")


def store_dataset(
    mx: MxCatalogue,
    beamline: str,
    proposal: str,
    dataset: str,
    path: str,
    metadata: Mapping[str, Any],
    *,
    complete: bool | None = None,
) -> Registration:
    """Register a raw dataset as pyicat-plus ``IcatClient.store_dataset`` would have it ingested."""
    return write_dataset(mx, dataset_spec(mx, beamline, proposal, dataset, path, metadata, complete=complete))


def dataset_spec(
    mx: MxCatalogue,
    beamline: str,
    proposal: str,
    dataset: str,
    path: str,
    metadata: Mapping[str, Any],
    *,
    complete: bool | None = None,
) -> DatasetSpec:
    """What :func:`store_dataset` registers, validated and mapped but not written (batches share it)."""
    _require(beamline=beamline, proposal=proposal, dataset=dataset, path=path)
    values = _prepare(metadata)
    complete = _complete(values, complete)
    start = _datetime(values["startDate"], "startDate")
    end = _datetime(values["endDate"], "endDate")
    investigation = _investigation(mx, beamline, proposal, values, start)
    return mx.collection_spec(
        investigation,
        dataset,
        values,
        beamline=beamline,
        sample=str(values["Sample_name"]),
        location=os.path.normpath(path),
        start=start,
        end=end,
        technique=_techniques(values),
        complete=complete,
    )


def store_datasets(mx: MxCatalogue, calls: Sequence[Mapping[str, Any]]) -> list[Registration | MxicatError]:
    """Many :func:`store_dataset` calls (keyword arguments each), new datasets in one transaction.

    The result has one entry per call: its registration, or the permanent error that refused it (the
    others are registered regardless). :class:`~mxicat.errors.UnavailableError` is raised.
    """
    from mxicat.mx.batch import write_datasets

    specs: list[DatasetSpec | MxicatError] = []
    for call in calls:
        try:
            specs.append(dataset_spec(mx, **call))
        except UnavailableError:
            raise
        except MxicatError as err:
            specs.append(err)
    return write_datasets(mx, specs)


def store_processed_data(
    mx: MxCatalogue,
    beamline: str,
    proposal: str,
    dataset: str,
    path: str,
    metadata: Mapping[str, Any],
    raw: Sequence[str] = (),
) -> Registration:
    """Register a processed dataset as pyicat-plus ``IcatClient.store_processed_data`` would.

    ``raw`` (raw dataset directories) is shorthand for ``metadata["input_datasets"]``; the producing
    program is ``Process_program`` (or ``program``) when given, else ``unknown``.

    Raises:
        BadParameterError: no raw dataset directories (pyicat-plus' own error).
    """
    _require(beamline=beamline, proposal=proposal, dataset=dataset, path=path)
    values = _prepare(metadata)
    _complete(values, True)  # processed results are registered complete
    inputs = _split_paths(raw) or _split_paths(values.get("input_datasets"))
    if not inputs:
        raise BadParameterError("Provide 'raw' dataset directories")
    values["input_datasets"] = ",".join(inputs)
    start = _datetime(values["startDate"], "startDate")
    end = _datetime(values["endDate"], "endDate")
    investigation = _investigation(mx, beamline, proposal, values, start)
    program = next((str(values[k]) for k in PROGRAM_KEYS if values.get(k)), "unknown")
    version = str(values["Process_version"]) if values.get("Process_version") else None
    passed = {k: v for k, v in values.items() if k != "input_datasets"}
    return mx.register_processed(
        dataset,
        inputs=inputs,
        investigation=investigation,
        values=passed,
        program=program,
        version=version,
        location=path,
        sample=str(values["Sample_name"]),
        start=start,
        end=end,
        technique=_techniques(values),
    )
