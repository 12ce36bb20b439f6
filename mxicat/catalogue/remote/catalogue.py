"""``RemoteCatalogue``: the :class:`~mxicat.catalogue.base.Catalogue` protocol over a real ICAT's REST API.

:class:`RemoteIcat` is the server (version, properties, login); :class:`RemoteCatalogue` is one session on
it, the peer of the embedded catalogue's session-bound object. Both share one pooled transport.

Remote specifics, each following ICAT's own behaviour (icat.md section 7):

* ``create_many`` posts the objects in batches of ``batch_size`` top-level objects; each batch is one
  ICAT transaction. If a later batch fails, the objects created by earlier batches are deleted again
  (compensation) so the call stays all-or-nothing; the error's ``offset`` is the index in the whole list.
* ``search_chunked`` pages with ``LIMIT skip, count`` where ``count`` stays under the server's
  ``maxEntities`` (read once from ``/icat/properties``), through :func:`mxicat.catalogue.paging.iter_pages`.
* ``is_access_allowed`` has no REST call in ICAT (SOAP only). READ is answered with a permission-filtered
  count query; CREATE/UPDATE/DELETE raise :class:`~mxicat.errors.NotImplementedYetError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mxicat.catalogue import jsonfmt
from mxicat.catalogue.base import EntityObj, SearchResult
from mxicat.catalogue.paging import iter_pages
from mxicat.catalogue.remote.transport import Transport, TransportOptions, icat_base_url
from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    InternalError,
    MxicatError,
    NoSuchObjectFoundError,
    NotImplementedYetError,
)

_ACCESS = ("CREATE", "READ", "UPDATE", "DELETE")


def credentials_list(credentials: Mapping[str, str]) -> list[dict[str, str]]:
    """ICAT's REST form of credentials: ``[{"username": ...}, {"password": ...}]``."""
    return [{str(key): str(value)} for key, value in credentials.items()]


class RemoteIcat:
    """A real ICAT server reached over REST: version, properties and login.

    Args:
        url: ``icat+https://host[:port][/prefix]`` (``icat+http://`` for plain HTTP); the REST API is
            expected at ``{prefix}/icat/...``.
        options: TLS, timeouts, retries and pool size (:class:`TransportOptions`).
        batch_size: top-level objects per ``createMany`` request.
    """

    def __init__(
        self, url: str, options: TransportOptions | None = None, *, batch_size: int = 5000
    ) -> None:
        self.url = url
        self.transport = Transport(icat_base_url(url), options)
        self.batch_size = batch_size
        self._properties: dict[str, Any] | None = None

    def version(self) -> str:
        """The server's version string (``GET /icat/version``)."""
        answer = self.transport.call("GET", "version")
        return str(answer["version"])

    def properties(self, *, refresh: bool = False) -> dict[str, Any]:
        """``GET /icat/properties`` (maxEntities, lifetimeMinutes, authenticators), cached."""
        if self._properties is None or refresh:
            self._properties = dict(self.transport.call("GET", "properties"))
        return self._properties

    @property
    def max_entities(self) -> int:
        """The server's maxEntities; 10000 (ICAT's default) when an old server does not say."""
        value = self.properties().get("maxEntities")
        return int(value) if isinstance(value, int) and value > 0 else 10000

    def login(self, plugin: str, credentials: Mapping[str, str]) -> RemoteCatalogue:
        """Log in with an authenticator plug-in; the returned session owns (and logs out) its session.

        Raises:
            SessionError: unknown plug-in or wrong credentials.
        """
        payload = jsonfmt.dumps({"plugin": plugin, "credentials": credentials_list(credentials)})
        answer = self.transport.call("POST", "session", form={"json": payload})
        return RemoteCatalogue(self, str(answer["sessionId"]), owns_session=True)

    def session(self, session_id: str) -> RemoteCatalogue:
        """Use an existing session (not logged out on close)."""
        return RemoteCatalogue(self, session_id, owns_session=False)

    def is_logged_in(self, user_name: str) -> bool:
        """Whether ``user_name`` (``db/jdoe``) has an unexpired session (``GET /icat/user/...``)."""
        answer = self.transport.call("GET", f"user/{user_name}")
        return bool(answer.get("loggedIn", answer.get("isLoggedIn", False)))

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()


class RemoteCatalogue:
    """One session on a real ICAT (or on ``mxicat serve``) through its REST API.

    Args:
        server: the :class:`RemoteIcat` the session lives on (its transport is shared).
        session_id: ICAT session id.
        owns_session: log the session out on :meth:`close` (true when this object logged in).
        owns_server: close the server's connection pool on :meth:`close` (true when nothing else uses the
            server, as for :func:`mxicat.catalogue.open.open_catalogue`); sessions sharing one
            :class:`RemoteIcat` (an HTTP service serving many users) leave it open.
        auto_refresh_minutes: refresh the session before a call when this long has passed since the last
            refresh, so a long-running client (an ingester) keeps its session, as python-icat's
            ``autoRefresh`` does; ``None`` disables it.
    """

    kind = "icat"

    def __init__(
        self,
        server: RemoteIcat,
        session_id: str,
        *,
        owns_session: bool = False,
        owns_server: bool = False,
        auto_refresh_minutes: float | None = 30.0,
    ) -> None:
        self.server = server
        self.session_id = session_id
        self.owns_session = owns_session
        self.owns_server = owns_server
        self.auto_refresh_minutes = auto_refresh_minutes
        self._user_name: str | None = None
        self._closed = False
        self._clock = time.monotonic
        self._refreshed = self._clock()

    def __repr__(self) -> str:
        user = f", user={self._user_name!r}" if self._user_name else ""
        return f"RemoteCatalogue({self.server.url!r}, session={self.session_id[:8]}...{user})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A session call, refreshing the session first when ``auto_refresh_minutes`` have passed."""
        if self.auto_refresh_minutes is not None:
            if self._clock() - self._refreshed >= self.auto_refresh_minutes * 60:
                self.refresh()
        return self.server.transport.call(method, path, **kwargs)

    # -- session ---------------------------------------------------------------------------------

    def _session_info(self) -> dict[str, Any]:
        return dict(self.server.transport.call("GET", f"session/{self.session_id}"))

    @property
    def user_name(self) -> str:
        """ICAT user name of the session (asked once from ``GET /icat/session/{id}``)."""
        if self._user_name is None:
            self._user_name = str(self._session_info()["userName"])
        return self._user_name

    def remaining_minutes(self) -> float:
        """Minutes until the session expires."""
        return float(self._session_info()["remainingMinutes"])

    def refresh(self) -> None:
        """Reset the session lifetime (``PUT /icat/session/{id}``)."""
        self.server.transport.call("PUT", f"session/{self.session_id}")
        self._refreshed = self._clock()

    def logout(self) -> None:
        """End the session (``DELETE /icat/session/{id}``)."""
        self.server.transport.call("DELETE", f"session/{self.session_id}")
        self.owns_session = False

    def close(self) -> None:
        """End this use: log out a session it logged in itself, close the pool of a server it owns."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.owns_session:
                self.logout()
        except MxicatError:
            pass  # an expired or unreachable session needs no logout
        finally:
            if self.owns_server:
                self.server.close()

    def __enter__(self) -> RemoteCatalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def version(self) -> str:
        """The server's version string."""
        return self.server.version()

    def properties(self) -> dict[str, Any]:
        """The server's properties (maxEntities, lifetimeMinutes, authenticators)."""
        return self.server.properties()

    # -- reads -----------------------------------------------------------------------------------

    def search(self, query: str) -> SearchResult:
        """Run an ICAT query (``GET /icat/entityManager``), permission-filtered by the server."""
        answer = self._call(
            "GET", "entityManager", params={"sessionId": self.session_id, "query": query}
        )
        if not isinstance(answer, list):
            raise InternalError(f"ICAT search answered {type(answer).__name__}, expected a JSON array")
        columns = date_columns(query) if jsonfmt.has_date_like_values(answer) else None
        return jsonfmt.decode_results(answer, columns)

    def get(self, query: str, id: int) -> EntityObj:
        """One object by id; ``query`` names the entity and optional INCLUDEs."""
        answer = self._call(
            "GET",
            "entityManager",
            params={"sessionId": self.session_id, "query": query, "id": int(id)},
        )
        if not isinstance(answer, dict) or len(answer) != 1:
            raise InternalError(f"ICAT get answered {answer!r:.200}, expected one wrapped object")
        return jsonfmt.decode_entity(answer)

    def search_chunked(self, query: str, *, chunk: int = 1000) -> Iterator[Any]:
        """Yield every result of ``query``, one ``LIMIT`` page at a time (under maxEntities).

        A ``LIMIT skip, count`` already in the query bounds the whole iteration. Pages are only stable
        when the query has an ``ORDER BY`` (as with ICAT itself).

        Raises:
            InternalError: the server ignored LIMIT (it returned more rows than asked for).
        """
        return iter_pages(self.search, query, chunk=chunk, max_entities=self.server.max_entities)

    # -- writes ----------------------------------------------------------------------------------

    def _post(self, objs: Sequence[EntityObj]) -> list[int]:
        answer = self._call(
            "POST",
            "entityManager",
            form={"sessionId": self.session_id, "entities": jsonfmt.dumps(list(objs))},
        )
        if not isinstance(answer, list):
            raise InternalError(f"ICAT write answered {answer!r:.200}, expected a list of ids")
        return [int(i) for i in answer]

    def write(self, objs: Sequence[EntityObj]) -> list[int]:
        """ICAT REST write in one request: objects with ``id`` are updated (given fields), others created."""
        return self._post(objs) if objs else []

    def create(self, obj: EntityObj) -> int:
        """Create one object with its nested 1:N children; return its id."""
        _check_no_id(obj, 0)
        return self._post([obj])[0]

    def update(self, obj: EntityObj) -> None:
        """Change the given fields of the object with this ``id`` (explicit ``None`` clears a field)."""
        name, fields = _single(obj, 0)
        if "id" not in fields:
            raise BadParameterError(f"update of {name} needs its id")
        self._post([obj])

    def create_many(self, objs: Sequence[EntityObj]) -> list[int]:
        """Create all objects or none, in batches of ``server.batch_size`` per request.

        Raises:
            MxicatError: the first failure, with ``offset`` = index of the failing object in ``objs``.
        """
        for index, obj in enumerate(objs):
            _check_no_id(obj, index)
        ids: list[int] = []
        size = max(1, self.server.batch_size)
        for start in range(0, len(objs), size):
            batch = objs[start : start + size]
            try:
                ids.extend(self._post(batch))
            except MxicatError as err:
                self._undo(objs[: len(ids)], ids, err)
                if err.offset >= 0:
                    err.offset += start
                raise
        return ids

    def _undo(self, objs: Sequence[EntityObj], ids: list[int], err: MxicatError) -> None:
        """Delete what earlier batches of a failed create_many created (newest first)."""
        if not ids:
            return
        refs = [{_single(obj, i)[0]: {"id": oid}} for i, (obj, oid) in enumerate(zip(objs, ids, strict=True))]
        try:
            self.delete(list(reversed(refs)))
        except MxicatError as undo_err:
            err.message += (
                f" (and {len(ids)} objects created by earlier batches could not be removed again: "
                f"{undo_err.code}: {undo_err})"
            )
            err.args = (err.message,)

    def delete(self, objs: Sequence[EntityObj]) -> None:
        """Delete objects by id (cascading through their 1:N collections), in one request."""
        if not objs:
            return
        refs = []
        for index, obj in enumerate(objs):
            name, fields = _single(obj, index)
            if "id" not in fields:
                raise BadParameterError(f"delete of {name} needs its id", offset=index)
            refs.append({name: {"id": int(fields["id"])}})
        self._call(
            "DELETE",
            "entityManager",
            params={"sessionId": self.session_id, "entities": jsonfmt.dumps(refs)},
        )

    def is_access_allowed(self, obj: EntityObj, access: str) -> bool:
        """READ: whether a permission-filtered count finds the object. Others: not offered over REST.

        Raises:
            NotImplementedYetError: CREATE/UPDATE/DELETE (ICAT answers these over SOAP only).
        """
        access = access.upper()
        if access not in _ACCESS:
            raise BadParameterError(f"access must be one of {', '.join(_ACCESS)}, not {access!r}")
        name, fields = _single(obj, 0)
        if access != "READ" or "id" not in fields:
            raise NotImplementedYetError(
                f"isAccessAllowed({name}, {access}) is not part of ICAT's REST API (SOAP only)"
            )
        try:
            count = self.search(f"SELECT COUNT(x) FROM {name} x WHERE x.id = {int(fields['id'])}")
        except (InsufficientPrivilegesError, NoSuchObjectFoundError):
            return False
        return bool(count and count[0])


def date_columns(query: str) -> list[bool] | None:
    """For a query selecting fields: which selected columns are ICAT dates; ``None`` when it cannot tell.

    ``SELECT ds.name, ds.startDate`` gives ``[False, True]``; ``MIN``/``MAX`` of a date field is a date.
    The query parser is imported only here, when an answer holds date-like strings.
    """
    from mxicat.query import ast
    from mxicat.query.parser import parse_jpql

    try:
        parsed = parse_jpql(query)
    except MxicatError:
        return None
    columns = []
    for item in parsed.select.items:
        if isinstance(item, ast.Aggregate) and item.name.upper() in ("MIN", "MAX"):
            item = item.arg
        columns.append(isinstance(item, ast.Path) and len(item.parts) > 1 and item.parts[-1] in jsonfmt.DATE_FIELDS)
    return columns


def _single(obj: Mapping[str, Any], index: int) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(obj, Mapping) or len(obj) != 1:
        raise BadParameterError(
            f"entity must have one keyword followed by its values, got {obj!r:.120}", offset=index
        )
    name, fields = next(iter(obj.items()))
    if not isinstance(fields, Mapping):
        raise BadParameterError(f"the value of {name} must be an object of fields", offset=index)
    return str(name), fields


def _check_no_id(obj: Mapping[str, Any], index: int) -> None:
    name, fields = _single(obj, index)
    if "id" in fields:
        raise BadParameterError(f"{name} to create must not carry an id", offset=index)

