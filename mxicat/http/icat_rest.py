"""ICAT's REST API (``/icat/...``) over the embedded catalogue, as a real ICAT 6.2 answers it.

Calls, inputs and answers follow icat.server's ``ICATRest`` (icat.md section 7): form-encoded ``json`` for
login and ``entities`` for writes, query parameters for search/get/delete, ``{"code","message","offset"}``
error bodies with ICAT's HTTP statuses, dates as ``yyyy-MM-dd'T'HH:mm:ss.SSSXXX``, 204 for session
refresh/logout and delete, ``NOT_IMPLEMENTED``/501 for every other path under ``/icat``. Sessions and
authorization are the embedded catalogue's own (:class:`IcatBackend`); this module only translates HTTP.

Any ICAT REST client works against ``mxicat serve``, including :class:`mxicat.catalogue.remote.RemoteCatalogue`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from fastapi import APIRouter, Form, Query, Request, Response

from mxicat import __version__
from mxicat.catalogue import jsonfmt
from mxicat.catalogue.base import Catalogue
from mxicat.errors import BadParameterError, NotImplementedYetError, SessionError

ICAT_PREFIX = "/icat"


class SessionStore(Protocol):
    """What the REST layer needs from the embedded sessions (``embedded.sessions.SessionManager``)."""

    def login(self, plugin: str, credentials: Any) -> str: ...

    def user_name(self, session_id: str) -> str: ...

    def remaining_minutes(self, session_id: str) -> float: ...

    def refresh(self, session_id: str) -> None: ...

    def logout(self, session_id: str) -> None: ...

    def is_logged_in(self, user_name: str) -> bool: ...

    def properties(self) -> dict[str, Any]: ...


class IcatBackend(Protocol):
    """A catalogue served as ICAT: its sessions, limits and a catalogue bound to one session."""

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def icat_version(self) -> str: ...

    @property
    def max_entities(self) -> int: ...

    def catalogue(self, session_id: str) -> Catalogue:
        """The catalogue as the user of this live session (raises ``SessionError`` if it is not live)."""
        ...


router = APIRouter(prefix=ICAT_PREFIX, tags=["ICAT REST API"])


def _backend(request: Request) -> IcatBackend:
    return request.app.state.icat_backend  # type: ignore[no-any-return]


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(jsonfmt.dumps(data), status_code=status_code, media_type="application/json")


def _session_catalogue(request: Request, session_id: str | None) -> Catalogue:
    if not session_id:
        raise SessionError("sessionId is not set")
    return _backend(request).catalogue(session_id)


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BadParameterError(f"{what} is not valid JSON: {err.msg} at position {err.pos}") from err
    except RecursionError as err:
        raise BadParameterError(f"{what} is nested too deeply") from err


def _one_entity(obj: Any, offset: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(obj, Mapping) or len(obj) != 1:
        raise BadParameterError(
            f"entity must have one keyword followed by its values in json {json.dumps(obj)[:200]}",
            offset=offset,
        )
    name, fields = next(iter(obj.items()))
    if not isinstance(fields, Mapping):
        raise BadParameterError(f"the value of {name} must be a JSON object", offset=offset)
    return str(name), dict(fields)


def _entity_list(text: str | None) -> list[Any]:
    if text is None:
        raise BadParameterError("entities is not set")
    top = _parse_json(text, "entities")
    return top if isinstance(top, list) else [top]


# ----------------------------------------------------------------------------------------- server


@router.get("/version", summary="ICAT version")
def version(request: Request) -> Response:
    """``{"version": "6.2.0"}``: the ICAT API this server reproduces (and mxicat's own version)."""
    return _json({"version": _backend(request).icat_version, "mxicat": __version__})


@router.get("/properties", summary="Server properties (no session needed)")
def properties(request: Request) -> Response:
    """maxEntities, lifetimeMinutes, authenticators (mnemonic + credential keys), containerType."""
    backend = _backend(request)
    props: dict[str, Any] = {"maxEntities": backend.max_entities}
    props.update(backend.sessions.properties())
    props.setdefault("containerType", "UNKNOWN")
    return _json(props)


# ---------------------------------------------------------------------------------------- session


@router.post("/session", summary="Login")
def login(request: Request, json_text: str | None = Form(None, alias="json")) -> Response:
    """Form field ``json={"plugin": "db", "credentials": [{"username": ..}, {"password": ..}]}``."""
    if json_text is None:
        raise BadParameterError("json must not be null")
    data = _parse_json(json_text, "json")
    if not isinstance(data, Mapping):
        raise BadParameterError("json must be an object with plugin and credentials")
    plugin = data.get("plugin")
    credentials = data.get("credentials", [])
    if not isinstance(credentials, list | Mapping):
        raise BadParameterError("credentials must be a list of one-key objects")
    if isinstance(credentials, list):
        credentials = [
            {k: v for k, v in item.items() if isinstance(v, str)}
            for item in credentials
            if isinstance(item, Mapping)
        ]
    session_id = _backend(request).sessions.login(str(plugin), credentials)
    return _json({"sessionId": session_id})


@router.get("/session/{session_id}", summary="Session user and remaining minutes")
def session_info(request: Request, session_id: str) -> Response:
    sessions = _backend(request).sessions
    user = sessions.user_name(session_id)
    return _json({"userName": user, "remainingMinutes": sessions.remaining_minutes(session_id)})


@router.put("/session/{session_id}", status_code=204, summary="Refresh")
def refresh(request: Request, session_id: str) -> Response:
    _backend(request).sessions.refresh(session_id)
    return Response(status_code=204)


@router.delete("/session/{session_id}", status_code=204, summary="Logout")
def logout(request: Request, session_id: str) -> Response:
    _backend(request).sessions.logout(session_id)
    return Response(status_code=204)


@router.get("/user/{user_name}", summary="Whether a user has a live session")
def logged_in(request: Request, user_name: str) -> Response:
    return _json({"loggedIn": _backend(request).sessions.is_logged_in(user_name)})


@router.get("/user/{mnemonic}/{user_name}", summary="Whether mnemonic/user has a live session")
def logged_in_with_mnemonic(request: Request, mnemonic: str, user_name: str) -> Response:
    return _json({"loggedIn": _backend(request).sessions.is_logged_in(f"{mnemonic}/{user_name}")})


# ---------------------------------------------------------------------------------- entityManager


@router.get("/entityManager", summary="Search, or get one object with id")
def search(
    request: Request,
    session_id: str | None = Query(None, alias="sessionId"),
    query: str | None = Query(None),
    id: str | None = Query(None),
) -> Response:
    """Search: a JSON array (entities wrapped by type, bare values, or rows). With ``id``: one object."""
    if query is None:
        raise BadParameterError("query is not set")
    cat = _session_catalogue(request, session_id)
    if id is None:
        return _json(cat.search(query))
    try:
        ident = int(id)
    except ValueError as err:
        raise BadParameterError(f"id must be an integer, not {id!r}") from err
    if not -(2**63) <= ident < 2**63:
        raise BadParameterError(f"id {id} is out of range (a 64-bit integer)")
    return _json(cat.get(query, ident))


@router.post("/entityManager", summary="Write: create (with cascade) or update")
def write(
    request: Request,
    session_id: str | None = Form(None, alias="sessionId"),
    entities: str | None = Form(None),
) -> Response:
    """Form ``entities``: one object or a list; objects with ``id`` are updated, others created."""
    items = _entity_list(entities)
    objs = []
    for offset, item in enumerate(items):
        name, fields = _one_entity(item, offset)
        try:
            objs.append(jsonfmt.decode_entity({name: fields}, strict=True))
        except BadParameterError as err:
            err.offset = offset
            raise
    cat = _session_catalogue(request, session_id)
    return _json(cat.write(objs))


@router.delete("/entityManager", status_code=204, summary="Delete by id (cascades)")
def delete(
    request: Request,
    session_id: str | None = Query(None, alias="sessionId"),
    entities: str | None = Query(None),
) -> Response:
    """Query ``entities``: ``{"Dataset": {"id": 42}}`` or a list of such; only ``id`` is allowed."""
    refs = []
    for offset, item in enumerate(_entity_list(entities)):
        name, fields = _one_entity(item, offset)
        if set(fields) != {"id"}:
            what = "only the id value" if "id" in fields else "the id value"
            raise BadParameterError(
                f"entity must have {what} specified in json {json.dumps(item)[:200]}", offset=offset
            )
        if not isinstance(fields["id"], int) or isinstance(fields["id"], bool):
            raise BadParameterError(f"id of {name} must be an integer", offset=offset)
        refs.append({name: {"id": fields["id"]}})
    _session_catalogue(request, session_id).delete(refs)
    return Response(status_code=204)


# ------------------------------------------------------------------------------- everything else

_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@router.api_route("/{path:path}", methods=_ALL_METHODS, include_in_schema=False)
def not_implemented(path: str) -> Response:
    """ICAT's answer to any other path (``NotFoundExceptionMapper``)."""
    raise NotImplementedYetError("Operation not implemented by this ICAT server.")
