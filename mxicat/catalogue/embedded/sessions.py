"""ICAT sessions for the embedded catalogue: login, lifetime, refresh, logout, root users.

Sessions live in the catalogue file in ICAT's own table ``SESSION_`` (``ID``, ``EXPIREDATETIME``,
``USERNAME``), so a catalogue served over HTTP and the CLI on the same file share them. A session id is a
random UUID4 string, as ICAT's. Times are stored as naive UTC.

Public API (used by the store, the CLI and the REST layer's ``/icat/session``)::

    mgr = SessionManager(engine, build_authenticators(engine, auth_file=...), lifetime_minutes=120,
                         root_user_names=["simple/root"])
    sid = mgr.login("db", {"username": "jdoe", "password": "..."})   # or ICAT's list form
    mgr.user_name(sid)          # "db/jdoe"; SessionError if unknown or expired
    mgr.remaining_minutes(sid)  # float
    mgr.refresh(sid); mgr.logout(sid)
    mgr.is_logged_in("db/jdoe"); mgr.is_root("db/jdoe"); mgr.properties()
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, delete, select, update

from mxicat.errors import SessionError

from .auth import Authenticator, build_authenticators, credentials_dict

if TYPE_CHECKING:
    from mxicat.settings import Settings

_metadata = MetaData()
#: ICAT's session table (icat.md §1.4); created on first use when the catalogue schema lacks it
SESSION_TABLE = Table(
    "SESSION_",
    _metadata,
    Column("ID", String(255), primary_key=True),
    Column("EXPIREDATETIME", DateTime, nullable=False),
    Column("USERNAME", String(255), nullable=False),
)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class SessionManager:
    """Logins and sessions of one catalogue file."""

    def __init__(
        self,
        engine: Engine,
        authenticators: Mapping[str, Authenticator],
        *,
        lifetime_minutes: float = 120,
        root_user_names: Iterable[str] = ("simple/root",),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.authenticators = dict(authenticators)
        self.lifetime = timedelta(minutes=lifetime_minutes)
        self.root_user_names = frozenset(root_user_names)
        self._clock = clock
        _metadata.create_all(engine, tables=[SESSION_TABLE], checkfirst=True)

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> SessionManager:
        """Authenticators, lifetime and root users as configured in :class:`~mxicat.settings.Settings`."""
        enabled = getattr(settings, "authenticators", None)
        auths = build_authenticators(engine, auth_file=settings.auth_file, enabled=enabled)
        return cls(
            engine,
            auths,
            lifetime_minutes=settings.lifetime_minutes,
            root_user_names=settings.root_user_names,
        )

    # ------------------------------------------------------------------------------------- login
    def authenticate(
        self, plugin: str, credentials: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> str:
        """Check credentials with the plugin; return the full user name ``<mnemonic>/<login>``."""
        auth = self.authenticators.get(plugin)
        if auth is None:
            raise SessionError(
                f"Authenticator mnemonic {plugin!r} not recognised; available: {sorted(self.authenticators)}"
            )
        login = auth.authenticate(credentials_dict(credentials))
        return f"{auth.mnemonic}/{login}"

    def login(self, plugin: str, credentials: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
        """Authenticate and open a session; returns the session id."""
        return self.open_session(self.authenticate(plugin, credentials))

    def open_session(self, user_name: str) -> str:
        """Open a session for an already authenticated user name (trusted callers only)."""
        sid = str(uuid.uuid4())
        now = self._clock()
        with self.engine.begin() as conn:
            conn.execute(delete(SESSION_TABLE).where(SESSION_TABLE.c.EXPIREDATETIME < now))
            conn.execute(
                SESSION_TABLE.insert().values(ID=sid, USERNAME=user_name, EXPIREDATETIME=now + self.lifetime)
            )
        return sid

    # ------------------------------------------------------------------------------------ lookup
    def _row(self, session_id: str) -> tuple[str, datetime]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(SESSION_TABLE.c.USERNAME, SESSION_TABLE.c.EXPIREDATETIME).where(
                    SESSION_TABLE.c.ID == session_id
                )
            ).first()
        if row is None:
            raise SessionError(f"Unable to find user by sessionid: {session_id}")
        if row[1] <= self._clock():
            self.logout(session_id, missing_ok=True)
            raise SessionError(f"Session id: {session_id} has expired")
        return row[0], row[1]

    def user_name(self, session_id: str) -> str:
        """User name of a live session (``SessionError`` if unknown or expired)."""
        return self._row(session_id)[0]

    def remaining_minutes(self, session_id: str) -> float:
        """Minutes until the session expires."""
        expires = self._row(session_id)[1]
        return (expires - self._clock()).total_seconds() / 60.0

    def refresh(self, session_id: str) -> None:
        """Reset the session's lifetime to the full configured value."""
        self._row(session_id)
        with self.engine.begin() as conn:
            conn.execute(
                update(SESSION_TABLE)
                .where(SESSION_TABLE.c.ID == session_id)
                .values(EXPIREDATETIME=self._clock() + self.lifetime)
            )

    def logout(self, session_id: str, *, missing_ok: bool = False) -> None:
        """End the session (``SessionError`` if it does not exist, unless ``missing_ok``)."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(SESSION_TABLE).where(SESSION_TABLE.c.ID == session_id)).rowcount
        if not gone and not missing_ok:
            raise SessionError(f"Unable to find user by sessionid: {session_id}")

    def is_logged_in(self, user_name: str) -> bool:
        """Whether the user has at least one live session (ICAT ``GET /icat/user/{name}``)."""
        with self.engine.connect() as conn:
            hit = conn.execute(
                select(SESSION_TABLE.c.ID)
                .where(SESSION_TABLE.c.USERNAME == user_name)
                .where(SESSION_TABLE.c.EXPIREDATETIME > self._clock())
                .limit(1)
            ).first()
        return hit is not None

    def is_root(self, user_name: str) -> bool:
        """Whether the user is in ``rootUserNames`` (bypasses all authorization)."""
        return user_name in self.root_user_names

    def properties(self) -> dict[str, Any]:
        """The session part of ICAT's ``/icat/properties``: lifetime and authenticators."""
        return {
            "lifetimeMinutes": int(self.lifetime.total_seconds() // 60),
            "authenticators": [a.description() for a in self.authenticators.values()],
        }
