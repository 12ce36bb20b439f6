"""Parse the messages pyicat-plus sends to the ICAT ingester queues.

Four kinds arrive (``mx-metadata.md`` §3–§4):

* dataset XML (namespace ``http://www.esrf.fr/icat``, root ``dataset``): a raw dataset, or a processed one
  when it carries ``input_datasets`` (comma-joined raw directories);
* investigation XML (root ``investigation``): a session starting on a beamline;
* update-metadata JSON ``{"proposal", "beamline", "datasetPaths", "metadataName", "metadataValue"}``;
* add-files JSON ``{"datasetId"}`` (and the deprecated archive-status JSON, recognised and refused).

Every value in a pyicat-plus message is a string; parameters keep their order and their producer's names
(ESRF names and drift are mapped later, through the ontology). A message that can never be processed raises
:class:`MessageError`, whose text is the reason the ingester puts in the dead-letter header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from xml.etree import ElementTree

from mxicat.errors import BadParameterError

ICAT_NS = "http://www.esrf.fr/icat"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Larger bodies are refused before parsing (a pyicat-plus dataset message is a few kB)."""


class MessageError(BadParameterError):
    """A message that can never be processed (malformed, unknown kind, missing required field)."""


@dataclass(frozen=True)
class DatasetMessage:
    """A dataset registration, raw or processed (``store_dataset`` / ``store_processed_data``)."""

    proposal: str
    beamline: str
    name: str
    location: str
    sample_name: str
    parameters: dict[str, str]
    start_date: datetime | None = None
    end_date: datetime | None = None
    complete: bool = True

    @property
    def input_datasets(self) -> list[str]:
        """Raw dataset directories this processed dataset was made from (empty for raw data)."""
        raw = self.parameters.get("input_datasets", "")
        return [p for p in (part.strip() for part in raw.split(",")) if p]

    @property
    def is_processed(self) -> bool:
        return bool(self.input_datasets)


@dataclass(frozen=True)
class InvestigationMessage:
    """A session (investigation) starting on a beamline (``start_investigation``)."""

    proposal: str
    beamline: str
    start_date: datetime | None
    end_date: datetime | None = None
    investigation_id: str | None = None


@dataclass(frozen=True)
class UpdateMetadataMessage:
    """One metadata key set on datasets addressed by their directory (``update_metadata``)."""

    proposal: str
    beamline: str
    dataset_paths: list[str]
    name: str
    value: str


@dataclass(frozen=True)
class AddFilesMessage:
    """Recount the files of a dataset (``add_files``)."""

    dataset_id: int


Message: TypeAlias = DatasetMessage | InvestigationMessage | UpdateMetadataMessage | AddFilesMessage


def parse_datetime(text: str, *, what: str) -> datetime:
    """ISO 8601 as pyicat-plus writes it (``Z`` or an offset; naive values are kept naive)."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise MessageError(f"{what}: not an ISO 8601 date: {text!r}") from err


def parse_message(body: bytes | str) -> Message:
    """Classify and parse one message body; raise :class:`MessageError` when it can never be processed."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(raw)} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    text = raw.lstrip()
    if not text:
        raise MessageError("empty message body")
    if text.startswith(b"<"):
        return _parse_xml(raw)
    if text.startswith((b"{", b"[")):
        return _parse_json(raw)
    raise MessageError("message body is neither XML nor JSON")


def _parse_xml(raw: bytes) -> Message:
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise MessageError("XML with a DOCTYPE or entity declarations is refused")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as err:
        raise MessageError(f"malformed XML: {err}") from err
    ns, _, tag = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if ns != ICAT_NS:
        raise MessageError(f"unknown XML namespace {ns or '(none)'!r} (expected {ICAT_NS!r})")
    if tag == "dataset":
        return _dataset(root)
    if tag == "investigation":
        return _investigation(root)
    raise MessageError(f"unknown message root element {tag!r}")


def _text(element: ElementTree.Element, name: str) -> str | None:
    child = element.find(_TAGS.get(name) or f"{{{ICAT_NS}}}{name}")
    if child is None or child.text is None:
        return None
    return child.text.strip()


#: qualified tag names (``{namespace}name``) of the elements read, built once
_TAGS = {
    name: f"{{{ICAT_NS}}}{name}"
    for name in (
        "name",
        "value",
        "parameter",
        "sample",
        "investigation",
        "instrument",
        "location",
        "startDate",
        "endDate",
        "experiment",
        "investigationId",
    )
}
_PARAMETER, _NAME, _VALUE = _TAGS["parameter"], _TAGS["name"], _TAGS["value"]


def _required(element: ElementTree.Element, name: str, kind: str) -> str:
    value = _text(element, name)
    if not value:
        raise MessageError(f"{kind} message without {name!r}")
    return value


def _dataset(root: ElementTree.Element) -> DatasetMessage:
    parameters: dict[str, str] = {}
    for param in root.iterfind(_PARAMETER):
        name_element, value_element = param.find(_NAME), param.find(_VALUE)
        name = name_element.text.strip() if name_element is not None and name_element.text is not None else ""
        if not name:
            raise MessageError("dataset parameter without a name")
        value = value_element.text if value_element is not None else None
        parameters[name] = value.strip() if value is not None else ""
    sample = root.find(f"{{{ICAT_NS}}}sample")
    sample_name = (_text(sample, "name") if sample is not None else None) or parameters.get("Sample_name")
    if not sample_name:
        raise MessageError("dataset message without 'Sample_name' (required by pyicat-plus)")
    start = _text(root, "startDate") or parameters.get("startDate")
    end = _text(root, "endDate") or parameters.get("endDate")
    return DatasetMessage(
        proposal=_required(root, "investigation", "dataset"),
        beamline=_required(root, "instrument", "dataset"),
        name=_required(root, "name", "dataset"),
        location=_required(root, "location", "dataset"),
        sample_name=sample_name,
        parameters=parameters,
        start_date=parse_datetime(start, what="startDate") if start else None,
        end_date=parse_datetime(end, what="endDate") if end else None,
        complete=root.get("complete", "true").lower() != "false",
    )


def _investigation(root: ElementTree.Element) -> InvestigationMessage:
    start = _text(root, "startDate")
    end = _text(root, "endDate")
    return InvestigationMessage(
        proposal=_required(root, "experiment", "investigation"),
        beamline=_required(root, "instrument", "investigation"),
        start_date=parse_datetime(start, what="startDate") if start else None,
        end_date=parse_datetime(end, what="endDate") if end else None,
        investigation_id=_text(root, "investigationId"),
    )


def _parse_json(raw: bytes) -> Message:
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise MessageError(f"malformed JSON: {err}") from err
    if not isinstance(data, dict):
        raise MessageError("JSON message is not an object")
    keys = set(data)
    if keys == {"datasetId"}:
        try:
            return AddFilesMessage(dataset_id=int(data["datasetId"]))
        except (TypeError, ValueError) as err:
            raise MessageError(f"add-files message: datasetId {data['datasetId']!r} is not an id") from err
    if {"datasetId", "type", "level", "message"} <= keys:
        raise MessageError("archive/restore status messages are deprecated and not handled by mxicat")
    wanted = {"proposal", "beamline", "datasetPaths", "metadataName", "metadataValue"}
    if keys & wanted:
        missing = sorted(wanted - keys)
        if missing:
            raise MessageError(f"update-metadata message without {', '.join(missing)}")
        paths = data["datasetPaths"]
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise MessageError("update-metadata message: datasetPaths must be a list of paths")
        return UpdateMetadataMessage(
            proposal=str(data["proposal"]),
            beamline=str(data["beamline"]),
            dataset_paths=list(paths),
            name=str(data["metadataName"]),
            value="" if data["metadataValue"] is None else str(data["metadataValue"]),
        )
    raise MessageError(f"unknown JSON message with keys {sorted(keys)}")
