"""The catalogue that ``mxicat serve`` exposes as ICAT: an embedded catalogue file with its sessions.

:class:`EmbeddedIcatBackend` implements :class:`mxicat.http.icat_rest.IcatBackend` from the embedded store
(session-bound catalogues) and its :class:`~mxicat.catalogue.embedded.sessions.SessionManager` (logins,
lifetimes, authenticators). It is built per app by :func:`mxicat.http.app.create_app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mxicat.catalogue.base import Catalogue
from mxicat.catalogue.embedded.schema import ICAT_VERSION

if TYPE_CHECKING:
    from mxicat.settings import Settings


class EmbeddedIcatBackend:
    """An embedded catalogue file served through ICAT's REST API."""

    def __init__(self, store: Any, sessions: Any, *, max_entities: int) -> None:
        self.store = store
        self._sessions = sessions
        self._max_entities = max_entities

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedIcatBackend:
        """Open ``settings.catalogue`` (an embedded catalogue URL or path) with its sessions."""
        from mxicat.catalogue.open import open_embedded_store

        store = open_embedded_store(settings.catalogue, settings=settings)
        return cls(store, store.sessions, max_entities=settings.max_entities)

    @property
    def sessions(self) -> Any:
        return self._sessions

    @property
    def icat_version(self) -> str:
        return ICAT_VERSION

    @property
    def max_entities(self) -> int:
        return self._max_entities

    def catalogue(self, session_id: str) -> Catalogue:
        """The catalogue as the user of this live session (``SessionError`` otherwise).

        The session is checked once, here, for the whole request; the returned catalogue acts as its user
        without checking the session again on every call (one SESSION_ lookup per request, not two).
        """
        return self.store.as_user(self._sessions.user_name(session_id))  # type: ignore[no-any-return]

    def close(self) -> None:
        """Release the catalogue file."""
        close = getattr(self.store, "close", None)
        if callable(close):
            close()
