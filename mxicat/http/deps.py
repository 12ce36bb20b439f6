"""FastAPI dependencies of the MX API: who is calling, and the catalogue session that acts for them.

Every request gets its own :class:`~mxicat.mx.MxCatalogue` bound to the caller's catalogue session, so the
catalogue's authorization (rules, public steps, root list) decides what it reads and writes -- never a root
session acting on a user's behalf:

* ``Authorization: Bearer <token>``: the token is a catalogue session id (from ``POST /api/v1/auth/login``).
  An unknown or expired token is a 401, also on endpoints that anonymous callers may use (a client that
  believes it is logged in must learn it is not, rather than silently see less).
* no ``Authorization`` header: the anonymous user (``anon/anon``, what ICAT's ``anon`` authenticator
  yields), which the rules give public (released) data only -- when the catalogue offers the ``anon``
  authenticator; otherwise 401. Endpoints that write require a token (401).

:class:`SessionSource` hides whether the catalogue is the served embedded file or a remote ICAT.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mxicat.catalogue.base import Catalogue
from mxicat.errors import AuthenticationError, SessionError
from mxicat.mx import MxCatalogue

if TYPE_CHECKING:
    from mxicat.settings import Settings

bearer = HTTPBearer(auto_error=False, description="catalogue session id from POST /api/v1/auth/login")


class SessionSource:
    """Logins and session-bound catalogues of the catalogue the service fronts (embedded or remote ICAT)."""

    def __init__(self, settings: Settings, icat_backend: Any = None) -> None:
        self.settings = settings
        self._store = getattr(icat_backend, "store", None)
        self._remote: Any = None
        self._anon_session: str | None = None
        self._lock = threading.Lock()
        if self._store is None:
            from mxicat.catalogue.remote import RemoteIcat, TransportOptions

            self._remote = RemoteIcat(settings.catalogue, TransportOptions(verify=settings.verify_tls,
                                                                           timeout=settings.timeout))

    def authenticators(self) -> list[dict[str, Any]]:
        """The catalogue's authenticators (mnemonic and credential keys), as ICAT's properties list them."""
        if self._store is not None:
            return list(self._store.sessions.properties()["authenticators"])
        return list(self._remote.properties().get("authenticators", []))

    def login(self, plugin: str, credentials: Mapping[str, str]) -> tuple[str, str]:
        """``(session id, user name)`` of a login with the catalogue's authenticator ``plugin``.

        Raises:
            AuthenticationError: refused (401; the message does not say whether user or password was wrong).
        """
        try:
            if self._store is not None:
                sid = self._store.sessions.login(plugin, dict(credentials))
                return sid, self._store.sessions.user_name(sid)
            cat = self._remote.login(plugin, dict(credentials))
            cat.owns_session = False
            return cat.session_id, cat.user_name
        except AuthenticationError:
            raise
        except SessionError as err:
            raise AuthenticationError(str(err)) from err

    def logout(self, token: str) -> None:
        """End a session (401 when it is unknown)."""
        try:
            if self._store is not None:
                self._store.sessions.logout(token)
            else:
                self._remote.session(token).logout()
        except SessionError as err:
            raise AuthenticationError(str(err)) from err

    def session(self, token: str) -> Catalogue:
        """The catalogue as the user of session ``token`` (401 when unknown or expired)."""
        try:
            if self._store is not None:
                return self._store.session(token)  # type: ignore[no-any-return]
            cat = self._remote.session(token)
            cat.user_name  # noqa: B018 - checks the session now, so a bad token is a 401 up front
            return cat  # type: ignore[no-any-return]
        except SessionError as err:
            raise AuthenticationError("invalid or expired session token") from err

    def anonymous(self) -> Catalogue:
        """The anonymous user's catalogue: what the rules give ``anon/anon`` (public data).

        Offered only when the catalogue offers the ``anon`` authenticator (``Settings.authenticators`` of
        an embedded catalogue, ``authn.anon`` of a real ICAT), as ICAT itself would; 401 otherwise.
        """
        refused = AuthenticationError("this catalogue offers no anonymous access (no 'anon' authenticator): "
                                      "log in at POST /api/v1/auth/login")
        if self._store is not None:
            auth = self._store.sessions.authenticators.get("anon")
            if auth is None:
                raise refused
            # the name the anon authenticator gives, without a session row per request
            return self._store.as_user(f"{auth.mnemonic}/{auth.authenticate({})}")  # type: ignore[no-any-return]
        with self._lock:
            if self._anon_session is not None:
                try:
                    cat = self._remote.session(self._anon_session)
                    cat.user_name  # noqa: B018 - still alive?
                    return cat  # type: ignore[no-any-return]
                except SessionError:
                    self._anon_session = None
            try:
                cat = self._remote.login("anon", {})
            except SessionError as err:
                raise refused from err
            cat.owns_session = False
            self._anon_session = cat.session_id
            return cat  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()


def session_source(request: Request) -> SessionSource:
    """The app's :class:`SessionSource` (made on first use from ``app.state``)."""
    state = request.app.state
    source = getattr(state, "session_source", None)
    if source is None:
        source = SessionSource(state.settings, getattr(state, "icat_backend", None))
        state.session_source = source
    return source


def _ontology(request: Request) -> Any:
    state = request.app.state
    onto = getattr(state, "ontology", None)
    if onto is None:
        from mxicat.ontology import load_ontology

        onto = state.ontology = load_ontology()
    return onto


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Source = Annotated[SessionSource, Depends(session_source)]


def _mx(request: Request, session: Catalogue) -> MxCatalogue:
    return MxCatalogue(session, ontology=_ontology(request),
                       facility=getattr(request.app.state.settings, "facility", None))


def caller_mx(request: Request, source: Source, auth: Bearer) -> Iterator[MxCatalogue]:
    """The caller's MX catalogue: their session with a token, else the anonymous user's."""
    session = source.session(auth.credentials) if auth is not None else source.anonymous()
    yield _mx(request, session)


def user_mx(request: Request, source: Source, auth: Bearer) -> Iterator[MxCatalogue]:
    """The caller's MX catalogue; a token is required (401 without one)."""
    if auth is None:
        raise AuthenticationError("this operation needs a session: log in at POST /api/v1/auth/login "
                                  "and send 'Authorization: Bearer <token>'")
    yield _mx(request, source.session(auth.credentials))


def anonymous_mx(request: Request, source: Source) -> Iterator[MxCatalogue]:
    """The anonymous user's MX catalogue (public data only), whatever the caller sends."""
    yield _mx(request, source.anonymous())


CallerMx = Annotated[MxCatalogue, Depends(caller_mx)]
UserMx = Annotated[MxCatalogue, Depends(user_mx)]
AnonymousMx = Annotated[MxCatalogue, Depends(anonymous_mx)]
