"""``/api/v1/collections``, ``/api/v1/processed``, ``POST /api/v1/groups``: registrations over HTTP.

The same operations as :class:`~mxicat.mx.MxCatalogue` (``register_collection``, ``register_processed``,
``group``), run as the caller's session, so the catalogue's rules decide (403 / 404 as for reads). Request
bodies are validated by pydantic (422 listing every bad field); with ``strict=true`` a metadata value the
ontology refuses is a 422 too (by default it is stored unverified and reported in ``problems``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import ValidationError as PydanticValidationError

from mxicat.errors import InvalidRequestError
from mxicat.http.deps import UserMx
from mxicat.http.schemas import ERROR_RESPONSES, CollectionIn, GroupIn, GroupOut, ProcessedIn, RegistrationOut
from mxicat.mx.validation import require_valid

router = APIRouter(prefix="/api/v1", tags=["ingest"], responses=ERROR_RESPONSES)

Strict = Annotated[bool, Query(description="refuse (422) metadata values the ontology does not accept, "
                                           "instead of storing them unverified")]


def _files(items: list[Any]) -> list[Any]:
    return [i if isinstance(i, str) else {"path": i.path, "size": i.size} for i in items]


@router.post("/collections", response_model=RegistrationOut, status_code=201,
             summary="Register a raw data collection")
def register_collection(body: CollectionIn, mx: UserMx, strict: Strict = False) -> dict[str, Any]:
    """Register (or re-register, idempotently) one raw collection; metadata keys may be canonical keys,
    ICAT/ESRF names or aliases, values are converted to canonical units."""
    if strict:
        require_valid(mx, body.metadata, record="raw", units=body.units)
    reg = mx.register_collection(
        body.investigation, body.name, body.metadata, beamline=body.beamline, sample=body.sample,
        location=body.location, datafiles=_files(body.datafiles), start=body.start, end=body.end,
        technique=body.technique, complete=body.complete, description=body.description, units=body.units)
    return reg.to_json()


def _register_processed(mx: Any, body: ProcessedIn, strict: bool, mmcif: str | None = None,
                        block: str | None = None) -> dict[str, Any]:
    if strict and body.values:
        require_valid(mx, body.values, record="processed", units=body.units, location=("values",))
    fields = body.model_dump(exclude={"name", "inputs", "datafiles"})
    reg = mx.register_processed(body.name, inputs=list(body.inputs), datafiles=_files(body.datafiles),
                                mmcif=mmcif, block=block, **fields)
    return reg.to_json()  # type: ignore[no-any-return]


@router.post("/processed", response_model=RegistrationOut, status_code=201,
             summary="Register a processed result (JSON)")
def register_processed(body: ProcessedIn, mx: UserMx, strict: Strict = False) -> dict[str, Any]:
    """Register a processed dataset with its provenance (Job from the inputs), from ``values`` and/or an
    ISPyB-shaped ``ispyb`` object."""
    return _register_processed(mx, body, strict)


@router.post("/processed/mmcif", response_model=RegistrationOut, status_code=201,
             summary="Register a processed result from an uploaded mmCIF file")
def register_processed_mmcif(
    mx: UserMx,
    file: Annotated[UploadFile, File(description="mmCIF/PDBx file (merging statistics, cell, symmetry)")],
    metadata: Annotated[str, Form(description="JSON object with the ProcessedIn fields (name, inputs, ...)")],
    block: Annotated[str | None, Form(description="data block to read (default: the one with statistics)")]
    = None,
    strict: Strict = False,
) -> dict[str, Any]:
    """Multipart upload: part ``file`` (the mmCIF) and part ``metadata`` (JSON, as the JSON endpoint)."""
    try:
        raw = json.loads(metadata)
    except ValueError as err:
        raise InvalidRequestError("metadata is not JSON", [{"loc": ["body", "metadata"], "msg": str(err),
                                                            "type": "json_invalid"}]) from err
    try:
        body = ProcessedIn.model_validate(raw)
    except PydanticValidationError as err:
        errors = [{"loc": ["body", "metadata", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                  for e in err.errors(include_url=False, include_input=False)]
        raise InvalidRequestError(f"{len(errors)} invalid field(s) in metadata", errors) from err
    with tempfile.TemporaryDirectory(prefix="mxicat-upload-") as tmp:
        path = Path(tmp) / (Path(file.filename or "upload.cif").name or "upload.cif")
        path.write_bytes(file.file.read())
        return _register_processed(mx, body, strict, str(path), block)


@router.post("/groups", response_model=GroupOut, status_code=201, tags=["groups"], summary="Group datasets")
def create_group(body: GroupIn, mx: UserMx) -> dict[str, Any]:
    """Group datasets into a named DataCollection (idempotent on the name; members are added)."""
    return mx.group(body.name, list(body.datasets), kind=body.kind, parameters=body.parameters)
