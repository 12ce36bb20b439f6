"""Pydantic request/response models of the MX API (``/api/v1``): the HTTP contract, not the domain model.

Field descriptions are what the OpenAPI document at ``/docs`` shows. Routes convert between these and the
plain data the MX layer (:mod:`mxicat.mx`) takes and returns; nothing here talks to a catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

DatasetRef = int | str
#: an entity id in a path (bounded so it fits a 64-bit column)
IdPath = Annotated[int, Path(ge=0, le=2**62, description="entity id")]
GroupKind = Literal["merge", "multi_sweep", "multi_crystal", "ssx_chunks"]


class ErrorOut(BaseModel):
    """The one error shape of the service (ICAT's ``{"code", "message", "offset"}`` plus ``errors``)."""

    code: str = Field(description="ICAT error code: BAD_PARAMETER, SESSION, INSUFFICIENT_PRIVILEGES, "
                                  "NO_SUCH_OBJECT_FOUND, OBJECT_ALREADY_EXISTS, VALIDATION, INTERNAL, "
                                  "NOT_IMPLEMENTED")
    message: str = Field(description="what went wrong, naming the field or value")
    offset: int | None = Field(None, description="position in a filter or query, or index in a list")
    errors: list[dict[str, Any]] | None = Field(
        None, description="422 only: every invalid field, each {'loc': [...], 'msg': ..., 'type': ...}")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "bad parameter (filter syntax, unknown field, bad unit)"),
        (401, "no, an unknown or an expired session token where one is needed"),
        (403, "the catalogue's rules do not allow this to the caller"),
        (404, "no such object, or not visible to the caller"),
        (422, "request validation failed; 'errors' lists every bad field"),
    )
}


# -- auth ----------------------------------------------------------------------------------------------

class LoginIn(BaseModel):
    """Credentials for one of the catalogue's authenticators."""

    model_config = ConfigDict(extra="forbid")
    plugin: str = Field(min_length=1, description="authenticator mnemonic (see GET /api/v1/auth), e.g. db")
    username: str | None = Field(None, description="user name, for authenticators that take one")
    password: str | None = Field(None, description="password, for authenticators that take one")
    credentials: dict[str, str] = Field(default_factory=dict,
                                        description="further credential keys the authenticator expects")


class LoginOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>' (a catalogue session id)")
    token_type: Literal["bearer"] = "bearer"
    user_name: str = Field(description="catalogue user name, '<authenticator>/<login>'")


class SessionOut(BaseModel):
    user_name: str = Field(description="catalogue user name of the caller; 'anon/anon' when anonymous")
    anonymous: bool = Field(description="true without a token: public data only")
    remaining_minutes: float | None = Field(None, description="minutes before the session expires")


class AuthenticatorOut(BaseModel):
    mnemonic: str = Field(description="value of 'plugin' at login")
    keys: list[dict[str, Any]] = Field(default_factory=list, description="credential keys it expects")


# -- ingest --------------------------------------------------------------------------------------------

class DatafileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="file path (location)")
    size: int | None = Field(None, ge=0, description="size in bytes")


class CollectionIn(BaseModel):
    """One raw data collection, as MxCatalogue.register_collection takes it."""

    model_config = ConfigDict(extra="forbid")
    investigation: str | int = Field(description="investigation id, proposal name (mx2532) or name/visit")
    name: str = Field(min_length=1, max_length=255, description="dataset name, unique in the investigation")
    metadata: dict[str, Any] = Field(description="values by canonical key, ICAT/ESRF name or alias "
                                                 "(e.g. wavelength, MX_wavelength, InstrumentMonochromator_energy)")
    beamline: str | None = Field(None, description="beamline (Instrument name); default the metadata's")
    sample: str | None = Field(None, description="sample name; default the metadata's Sample_name")
    location: str | None = Field(None, description="directory of the data")
    datafiles: list[DatafileIn | str] = Field(default_factory=list, description="data files")
    start: datetime | None = Field(None, description="start of the collection (ISO 8601)")
    end: datetime | None = Field(None, description="end of the collection (ISO 8601)")
    technique: str | None = Field(None, description="MX or SSX; default from the metadata")
    complete: bool = Field(True, description="freeze the dataset (no further member writes)")
    description: str | None = Field(None, max_length=255)
    units: dict[str, str] | None = Field(None, description="units of values given in non-canonical units")


class ProcessedIn(BaseModel):
    """A processed result (as MxCatalogue.register_processed takes it), JSON variant."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, description="processed dataset name")
    inputs: list[DatasetRef] = Field(default_factory=list,
                                     description="input datasets (ids, names or paths); may be empty with "
                                                 "'ispyb' naming its dataCollectionIds")
    investigation: str | int | None = Field(None, description="default: the first input's investigation")
    values: dict[str, Any] | None = Field(None, description="statistics by canonical key or ESRF name")
    ispyb: dict[str, Any] | None = Field(None, description="ISPyB AutoProc/Scaling JSON shape")
    program: str | None = Field(None, description="producing program (xia2, autoPROC, ...)")
    version: str | None = Field(None, description="program version")
    arguments: str | None = None
    location: str | None = Field(None, description="directory of the results")
    datafiles: list[DatafileIn | str] = Field(default_factory=list)
    sample: str | None = None
    technique: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    description: str | None = Field(None, max_length=255)
    units: dict[str, str] | None = None


class RegistrationOut(BaseModel):
    id: int = Field(description="dataset id")
    name: str
    investigation_id: int
    status: str = Field(description="created, updated or unchanged")
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="key -> [old, new]")
    unverified: list[str] = Field(default_factory=list, description="keys stored unverified")
    problems: list[str] = Field(default_factory=list, description="values the ontology refused")
    warnings: list[str] = Field(default_factory=list)


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, description="group name")
    datasets: list[DatasetRef] = Field(min_length=1, description="member datasets (ids, names or paths)")
    kind: GroupKind = Field("merge", description="what the grouping means")
    parameters: dict[str, Any] | None = Field(None, description="group-level values (e.g. merged statistics)")


class GroupOut(BaseModel):
    id: int
    name: str | None
    kind: str | None
    size: int | None = Field(None, description="number of member datasets")
    parameters: dict[str, Any] = Field(default_factory=dict)


# -- portal --------------------------------------------------------------------------------------------

class DatasetSummaryOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    pid: str = Field(description="DOI, else mxicat:<facility>:dataset:<id> (stable)")
    doi: str | None = None
    name: str
    investigation: str | None
    visit: str | None = None
    investigation_id: int | None = None
    type: str | None = Field(None, description="raw or processed")
    sample: str | None = None
    beamline: str | list[str] | None = None
    location: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    complete: bool | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, description="canonical key -> value")
    unverified: dict[str, Any] = Field(default_factory=dict, description="keys unknown to the ontology")


class DatasetPageOut(BaseModel):
    items: list[DatasetSummaryOut]
    cursor: str | None = Field(None, description="opaque: pass as 'cursor' for the next page; null at the end")
    count: int | None = Field(None, description="total matches (only with count=true)")


class CountOut(BaseModel):
    count: int


class FacetValueOut(BaseModel):
    value: Any = Field(description="facet value (beamline name, technique, space group, year, proposal)")
    count: int = Field(description="visible datasets matching the filter with this value")


class FacetsOut(BaseModel):
    facets: dict[str, list[FacetValueOut]]
    count: int = Field(description="visible datasets matching the filter")


class DatasetDetailOut(DatasetSummaryOut):
    units: dict[str, str] = Field(default_factory=dict, description="canonical key -> unit of 'metadata'")
    datafiles: list[dict[str, Any]] = Field(default_factory=list)
    techniques: list[str] = Field(default_factory=list)
    provenance: dict[str, Any] = Field(default_factory=dict,
                                       description="inputs, outputs, upstream, downstream, jobs")
    groups: list[dict[str, Any]] = Field(default_factory=list)
    parameters: list[dict[str, Any]] = Field(default_factory=list,
                                             description="[{name, value, unit}] in canonical names and units")


class InvestigationOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    pid: str
    name: str
    visit: str | None = None
    title: str | None = None
    summary: str | None = None
    doi: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    release_time: datetime | None = None
    beamlines: list[str] = Field(default_factory=list)


class SampleOut(BaseModel):
    id: int
    pid: str
    name: str
    investigation: str | None = None
    investigation_id: int | None = None
    datasets: int = Field(description="visible datasets of the sample")


class InvestigationDetailOut(InvestigationOut):
    datasets: int = Field(description="visible datasets of the investigation")
    samples: list[SampleOut] = Field(default_factory=list)


# -- federation ----------------------------------------------------------------------------------------

class SiteStatusOut(BaseModel):
    name: str
    status: Literal["ok", "timeout", "error"]
    latency_ms: float = Field(description="time until the site answered, or until it was given up")
    count: int = Field(description="results the site returned")
    error: str | None = Field(None, description="reason, for timeout and error")


class FederatedOut(BaseModel):
    results: list[dict[str, Any]] = Field(description="merged results, each tagged with 'site' (and 'sites')")
    sites: list[SiteStatusOut]
