"""The embedded ICAT-compatible catalogue: one SQLite file, many sessions.

:class:`EmbeddedStore` owns the file (engine, schema check, authorizer, sessions) and performs every
operation for a given user name; :class:`EmbeddedCatalogue` is one session on it and implements the
:class:`mxicat.catalogue.base.Catalogue` protocol (the same API a real ICAT over REST offers)::

    store = EmbeddedStore("mx.db", create=True)          # or EmbeddedStore.from_settings(settings)
    with store.admin() as cat:                          # the owner: first root user name (simple/root)
        inv_id = cat.create({"Investigation": {...}})
        cat.search("SELECT COUNT(d) FROM Dataset d")    # [0]
    jdoe = store.as_user("db/jdoe")                     # owner impersonation (``--as``), no password
    sess = store.login("db", {"username": "jdoe", "password": "..."})   # a real session (sessions.py)

Plumbing every operation goes through (so the authorizer decides policy, never the callers):

* reads: :meth:`EmbeddedStore.search` parses with :mod:`mxicat.query`, compiles with
  :func:`mxicat.catalogue.embedded.sql.compile_query` passing ``restrict`` = the authorizer's
  ``read_restriction`` for every selected entity, and executes with ``can_read`` = its ``include_filter`` for
  INCLUDEd objects and ``max_entities`` (``settings.max_entities``).
* writes: one ``BEGIN IMMEDIATE`` transaction per call through :class:`~.writes.Writer`; C is checked after
  the inserts (rolled back if refused), U before (D before / C after a key change), D on the whole cascade.
* the authorizer is :class:`mxicat.catalogue.embedded.authz.Authorizer` (ICAT rules; root users bypass).

Opening a file directly gives its owner (administrator) session: whoever can open the file owns it anyway.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    MxicatError,
    NoSuchObjectFoundError,
    UnavailableError,
)

from .migrations import check_version, make_engine, upgrade
from .schema import ENTITIES, TABLES
from .values import unwrap
from .writes import ParameterTypeCache, Writer

if TYPE_CHECKING:
    from mxicat.settings import Settings

logger = logging.getLogger(__name__)

ACCESS_TYPES = ("CREATE", "READ", "UPDATE", "DELETE")
_GET_RE = re.compile(r"^\s*([A-Za-z]+)(?:\s+(?!INCLUDE\b)([A-Za-z_$][\w$]*))?\s*(.*)$", re.IGNORECASE | re.DOTALL)

#: rows inserted (by this process) after which the planner statistics are refreshed
ANALYZE_EVERY = 10_000
#: rows sampled per index by ANALYZE (PRAGMA analysis_limit)
ANALYZE_SAMPLE = 1000


class EmbeddedStore:
    """One embedded catalogue file shared by sessions (thread-safe: a connection per operation)."""

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = False,
        max_entities: int = 10000,
        root_user_names: Sequence[str] = ("simple/root",),
        lifetime_minutes: float = 120,
        authorizer: Any = None,
        auth_file: Path | None = None,
        authenticators: Sequence[str] | None = None,
    ) -> None:
        self.path = str(path)
        self.engine = make_engine(self.path)
        where = "in-memory catalogue" if self.path == ":memory:" else self.path
        if create or self.path == ":memory:":
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            upgrade(self.engine, where)
        else:
            if not Path(self.path).exists():
                raise BadParameterError(f"no catalogue file {self.path}; create it with `mxicat init`")
            check_version(self.engine, where)
        self.max_entities = max_entities
        self.root_user_names = tuple(root_user_names) or ("simple/root",)
        self.lifetime_minutes = lifetime_minutes
        if authorizer is None:
            from .authz import Authorizer

            authorizer = Authorizer(self.root_user_names)
        self.authorizer = authorizer
        self._ptype_cache = ParameterTypeCache()
        self._inserted_since_analyze = 0
        self._auth_file = auth_file
        self._authenticators = authenticators
        self._sessions: Any = None
        self._sessions_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, path: str | Path | None = None, *, create: bool = False
                      ) -> EmbeddedStore:
        """A store configured from :class:`~mxicat.settings.Settings` (path from ``settings.catalogue``)."""
        if path is None:
            from mxicat.catalogue.open import embedded_path

            path = embedded_path(settings.catalogue) or ":memory:"
        return cls(path, create=create, max_entities=settings.max_entities,
                   root_user_names=settings.root_user_names, lifetime_minutes=settings.lifetime_minutes,
                   auth_file=settings.auth_file, authenticators=getattr(settings, "authenticators", None))

    def analyze(self) -> None:
        """Refresh the query planner's statistics (sampled, so it stays fast on large files).

        Without statistics SQLite may start a portal query (datasets of one investigation with parameter
        conditions) with a full scan of DATASETPARAMETER; the store therefore re-analyzes after every
        ``ANALYZE_EVERY`` inserted rows (a dump import or a large createMany triggers it at once).
        """
        with self.engine.connect().execution_options(mxicat_write=True) as conn:
            with conn.begin():
                conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYZE_SAMPLE}")
                conn.exec_driver_sql("ANALYZE")
        self._inserted_since_analyze = 0

    # ------------------------------------------------------------------------------------ sessions
    @property
    def admin_user(self) -> str:
        """The owner's user name: the first root user name."""
        return self.root_user_names[0]

    def is_root(self, user: str) -> bool:
        return user in self.root_user_names

    def admin(self) -> EmbeddedCatalogue:
        """The owner's (administrator's) session."""
        return EmbeddedCatalogue(self, self.admin_user)

    def as_user(self, user: str) -> EmbeddedCatalogue:
        """Owner impersonation (``--as USER``): a session that sees exactly what ``user`` may see."""
        if not user or "/" not in user:
            raise BadParameterError(f"user name {user!r} must be <authenticator>/<name>, e.g. db/jdoe")
        return EmbeddedCatalogue(self, user)

    @property
    def sessions(self) -> Any:
        """The :class:`~.sessions.SessionManager` of this file (created on first use)."""
        with self._sessions_lock:
            if self._sessions is None:
                from .auth import build_authenticators
                from .sessions import SessionManager

                auths = build_authenticators(self.engine, auth_file=self._auth_file, enabled=self._authenticators)
                self._sessions = SessionManager(self.engine, auths, lifetime_minutes=self.lifetime_minutes,
                                                root_user_names=self.root_user_names)
            return self._sessions

    def login(self, plugin: str, credentials: Mapping[str, Any] | Sequence[Mapping[str, Any]]
              ) -> EmbeddedCatalogue:
        """A real login through the file's authenticators; the session expires as ICAT's do."""
        sid = self.sessions.login(plugin, credentials)
        return EmbeddedCatalogue(self, self.sessions.user_name(sid), session_id=sid)

    def session(self, session_id: str) -> EmbeddedCatalogue:
        """The catalogue of an existing session id (SESSION error if unknown or expired)."""
        return EmbeddedCatalogue(self, self.sessions.user_name(session_id), session_id=session_id)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------------------------ reads
    def search(self, user: str, query: str | Any) -> list[Any]:
        """ICAT search as ``user``: READ restriction on selected entities, INCLUDE filtering, maxEntities."""
        from . import sql

        with self.engine.connect() as conn:
            return self._search(conn, user, query, sql)

    def _search(self, conn: Connection, user: str, query: Any, sql: Any) -> list[Any]:
        authz = self.authorizer

        def restrict(bean: str, table: Any) -> Any:
            return authz.read_restriction(conn, user, bean, table.c.ID)

        def can_read(origin: str, field: str, target: str, ids: Sequence[int]) -> Any:
            return authz.include_filter(conn, user, origin, field, target, ids)

        root = self.is_root(user)
        compiled = sql.compile_query(query, restrict=None if root else restrict, params={"user": user})
        return list(sql.execute(conn, compiled, max_entities=self.max_entities,
                                can_read=None if root else can_read, params={"user": user}))

    def get(self, user: str, query: str, obj_id: int) -> dict[str, Any]:
        """ICAT get: ``query`` is ``Entity [alias] [INCLUDE ...]``; NO_SUCH_OBJECT_FOUND / INSUFFICIENT_PRIVILEGES."""
        if isinstance(obj_id, bool) or not isinstance(obj_id, int):
            raise BadParameterError(f"get needs an integer id, got {obj_id!r}")
        m = _GET_RE.match(query or "")
        if not m:
            raise BadParameterError(f"get query must be 'Entity [alias] [INCLUDE ...]', got {query!r}")
        name, alias, rest = m.group(1), m.group(2), m.group(3).strip()
        info = ENTITIES.get(name)
        if info is None:
            raise BadParameterError(f"Unknown entity type {name!r} in get query {query!r}")
        if rest and not rest.upper().startswith("INCLUDE"):
            raise BadParameterError(f"get query may only add an INCLUDE clause: {query!r}")
        if alias is None:
            alias = "o"
            if rest and rest[len("INCLUDE"):].strip() != "1":
                raise BadParameterError(f"INCLUDE paths in a get query need an alias: '{name} x INCLUDE x.rel'")
        text = f"SELECT {alias} FROM {name} {alias} WHERE {alias}.id = {int(obj_id)} {rest}"
        found = self.search(user, text)
        if found:
            return found[0]  # type: ignore[no-any-return]
        table = TABLES[name]
        with self.engine.connect() as conn:
            exists = conn.execute(sa.select(table.c.ID).where(table.c.ID == obj_id)).first() is not None
        if not exists:
            raise NoSuchObjectFoundError(f"{name}[id:{obj_id}] not found.")
        raise InsufficientPrivilegesError(f"READ access to this {name} (id {obj_id}) is not allowed for user {user}")

    # ------------------------------------------------------------------------------------ writes
    @contextmanager
    def writing(self, user: str, *, keep_meta: bool = False) -> Iterator[Writer]:
        """One write transaction (BEGIN IMMEDIATE) as ``user``; committed on success, rolled back on error."""
        if keep_meta and not self.is_root(user):
            raise InsufficientPrivilegesError("only root users may keep supplied meta fields (attributes=ALL)")
        try:
            with self.engine.connect().execution_options(mxicat_write=True) as conn:
                with conn.begin():
                    writer = Writer(conn, user, keep_meta=keep_meta, ptype_cache=self._ptype_cache)
                    yield writer
                    writer.finish()
            self._inserted_since_analyze += sum(len(ids) for ids in writer.created.values())
            if self._inserted_since_analyze >= ANALYZE_EVERY:
                self.analyze()
        except sa.exc.OperationalError as err:
            if "locked" in str(err.orig) or "busy" in str(err.orig):
                raise UnavailableError(f"catalogue {self.path} is locked by another writer; retry") from err
            raise

    def _check_created(self, writer: Writer, since: Mapping[str, int] | None = None) -> None:
        """Rule hidden columns for new Rules, then C on every object created since ``since``."""
        for bean, ids in writer.created.items():
            new = ids[(since or {}).get(bean, 0):]
            if bean == "Rule":
                self._fix_rules(writer.conn, new)
            self.authorizer.check(writer.conn, writer.user, "C", bean, new)

    @staticmethod
    def _fix_rules(conn: Connection, ids: Sequence[int]) -> None:
        """Validate Rules as icat.server does on store and write the hidden RULE_ columns."""
        from .authz import rule_hidden_columns

        rt = TABLES["Rule"]
        for rid, flags, what in conn.execute(sa.select(rt.c.ID, rt.c.CRUDFLAGS, rt.c.WHAT).where(rt.c.ID.in_(ids))):
            conn.execute(sa.update(rt).where(rt.c.ID == rid).values(**rule_hidden_columns(flags, what)))

    def create_many(self, user: str, objs: Sequence[Any], *, keep_meta: bool = False) -> list[int]:
        """ICAT createMany: all or nothing; a failure carries the failing index as ``offset``."""
        objs = list(objs)
        if not objs:
            return []
        try:
            with self.writing(user, keep_meta=keep_meta) as w:
                ids = w.create_many(objs)
                self._check_created(w)
                return ids
        except sa.exc.IntegrityError:
            pass  # a unique clash or missing reference somewhere in the batch: find which object
        with self.engine.connect().execution_options(mxicat_write=True) as conn:
            tx = conn.begin()
            try:
                error = Writer(conn, user, keep_meta=keep_meta, ptype_cache=self._ptype_cache).locate_failure(objs)
            finally:
                tx.rollback()
        raise error

    def write(self, user: str, objs: Sequence[Any]) -> list[int]:
        """ICAT REST write: objects with ``id`` are updated (given fields only), the others created."""
        ids: list[int] = []
        with self.writing(user) as w:
            for index, obj in enumerate(objs):
                try:
                    info, content = unwrap(obj, where=f"object {index}")
                    before = {k: len(v) for k, v in w.created.items()}
                    if content.get("id") is not None:
                        ids.append(w.update(obj, authorizer=self.authorizer))
                        if info.name == "Rule":
                            self._fix_rules(w.conn, [content["id"]])
                    else:
                        ids.extend(w.create_many([obj]))
                    self._check_created(w, before)
                except sa.exc.IntegrityError as err:
                    from .writes import classify_integrity_error

                    found = classify_integrity_error(err)
                    found.offset = index
                    raise found from err
                except MxicatError as err:
                    err.offset = index
                    raise
        return ids

    def update(self, user: str, obj: Any) -> None:
        """Update the given fields of the object with this id."""
        info, content = unwrap(obj)
        if content.get("id") is None:
            raise BadParameterError(f"an update of {info.name} needs its id")
        self.write(user, [obj])

    def delete(self, user: str, objs: Sequence[Any]) -> None:
        """Delete objects (only ``id`` matters) and everything reachable through their 1:N collections."""
        from .authz import cascade_ids

        with self.writing(user) as w:
            for index, obj in enumerate(objs):
                try:
                    info, content = unwrap(obj, where=f"object {index}")
                    oid = content.get("id")
                    if isinstance(oid, bool) or not isinstance(oid, int):
                        raise BadParameterError(f"delete of {info.name} needs its integer id")
                    table = TABLES[info.name]
                    if w.conn.execute(sa.select(table.c.ID).where(table.c.ID == oid)).first() is None:
                        raise NoSuchObjectFoundError(f"{info.name}[id:{oid}] not found.")
                    cascade = cascade_ids(w.conn, info.name, [oid])
                    self.authorizer.check_delete(w.conn, user, cascade)
                    w.delete(info.name, [oid], cascade)
                except MxicatError as err:
                    err.offset = index
                    raise

    def is_access_allowed(self, user: str, obj: Any, access: str) -> bool:
        """ICAT isAccessAllowed; CREATE is tried by inserting and rolling back."""
        access = access.upper()
        if access not in ACCESS_TYPES:
            raise BadParameterError(f"access must be one of {ACCESS_TYPES}, got {access!r}")
        info, content = unwrap(obj)
        if access == "CREATE":
            with self.engine.connect().execution_options(mxicat_write=True) as conn:
                tx = conn.begin()
                try:
                    w = Writer(conn, user, ptype_cache=self._ptype_cache)
                    try:
                        w.create_many([obj])
                    except sa.exc.IntegrityError as err:
                        from .writes import classify_integrity_error

                        raise classify_integrity_error(err) from err
                    try:
                        self._check_created(w)
                    except InsufficientPrivilegesError:
                        return False
                    return True
                finally:
                    tx.rollback()
        oid = content.get("id")
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise BadParameterError(f"isAccessAllowed({access}) needs the object's id")
        with self.engine.connect() as conn:
            return bool(self.authorizer.is_access_allowed(conn, user, access[0], info.name, oid))


class EmbeddedCatalogue:
    """A session on an :class:`EmbeddedStore` (implements :class:`mxicat.catalogue.base.Catalogue`)."""

    kind = "embedded"

    def __init__(self, store: EmbeddedStore, user_name: str, *, session_id: str | None = None,
                 owns_store: bool = False) -> None:
        self.store = store
        self._user = user_name
        self.session_id = session_id
        self.owns_store = owns_store
        #: log the session out on close (set by ``open_catalogue`` for the logins it makes, as remote)
        self.owns_session = False

    @property
    def user_name(self) -> str:
        return self._user

    def _live(self) -> str:
        if self.session_id is not None:
            self.store.sessions.user_name(self.session_id)  # SESSION error when expired or logged out
        return self._user

    def search(self, query: str) -> list[Any]:
        return self.store.search(self._live(), query)

    def search_chunked(self, query: str, *, chunk: int = 1000) -> Iterator[Any]:
        """All results of an entity/attribute query, page by page under maxEntities (a LIMIT in the query
        bounds the whole iteration); the same paging as a remote ICAT (:mod:`mxicat.catalogue.paging`)."""
        from mxicat.catalogue.paging import iter_pages

        yield from iter_pages(self.search, query, chunk=chunk, max_entities=self.store.max_entities)

    def get(self, query: str, id: int) -> dict[str, Any]:  # noqa: A002 - protocol name
        return self.store.get(self._live(), query, id)

    def create(self, obj: Any) -> int:
        return self.store.create_many(self._live(), [obj])[0]

    def create_many(self, objs: Sequence[Any]) -> list[int]:
        return self.store.create_many(self._live(), objs)

    def write(self, objs: Sequence[Any]) -> list[int]:
        return self.store.write(self._live(), objs)

    def update(self, obj: Any) -> None:
        self.store.update(self._live(), obj)

    def delete(self, objs: Sequence[Any]) -> None:
        if isinstance(objs, Mapping):
            objs = [objs]
        self.store.delete(self._live(), objs)

    def is_access_allowed(self, obj: Any, access: str) -> bool:
        return self.store.is_access_allowed(self._live(), obj, access)

    def refresh(self) -> None:
        if self.session_id is not None:
            self.store.sessions.refresh(self.session_id)

    def remaining_minutes(self) -> float:
        """Session minutes left; the owner's direct session never expires (reports the full lifetime)."""
        if self.session_id is not None:
            return float(self.store.sessions.remaining_minutes(self.session_id))
        return float(self.store.lifetime_minutes)

    def logout(self) -> None:
        if self.session_id is not None:
            self.store.sessions.logout(self.session_id)
            # keep session_id: later calls must fail with SESSION, as on ICAT (contract suite)

    def close(self) -> None:
        if self.owns_session and self.session_id is not None:
            self.store.sessions.logout(self.session_id, missing_ok=True)
            self.owns_session = False
        if self.owns_store:
            self.store.close()

    def __enter__(self) -> EmbeddedCatalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_embedded(path: str | Path, *, settings: Settings | None = None, user: str | None = None,
                  create: bool = False) -> EmbeddedCatalogue:
    """A session on the catalogue file ``path`` (the owner's, or ``user``'s by impersonation); closing it
    closes the file."""
    if settings is not None:
        store = EmbeddedStore.from_settings(settings, path, create=create)
    else:
        store = EmbeddedStore(path, create=create)
    cat = store.as_user(user) if user else store.admin()
    cat.owns_store = True
    return cat


#: what ``mxicat init`` (without ``--bare``) installs, as ``module:function`` names taking an owner
#: :class:`EmbeddedCatalogue`; each must be idempotent (init may run again on an existing file)
SEEDERS: list[str] = [
    "mxicat.catalogue.embedded.rules_default:install_policy",
]


def init_catalogue(path: str | Path, *, settings: Settings | None = None, bare: bool = False) -> dict[str, Any]:
    """Create (or upgrade) the catalogue file; unless ``bare``, run the :data:`SEEDERS`.

    Returns ``{"path", "created", "migrations": [names applied], "seeded": {seeder: result}}``.
    """
    import importlib

    existed = Path(path).exists() and Path(path).stat().st_size > 0
    engine = make_engine(path) if str(path) != ":memory:" else None
    if engine is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        applied = upgrade(engine, str(path))
        engine.dispose()
    else:
        applied = []
    result: dict[str, Any] = {"path": str(path), "created": not existed, "migrations": applied, "seeded": {}}
    if bare:
        return result
    cat = open_embedded(path, settings=settings)
    with cat:
        for name in SEEDERS:
            module_name, _, func_name = name.partition(":")
            func = getattr(importlib.import_module(module_name), func_name)
            result["seeded"][name] = func(cat)
    return result


def entity_counts(catalogue: Any) -> dict[str, int]:
    """``SELECT COUNT(e) FROM <Entity> e`` for every entity type, as the catalogue's user sees it.

    Entity types a (remote, older) ICAT does not know are left out, as python-icat's icatsummary lists only
    the server's ``getEntityNames``.
    """
    out: dict[str, int] = {}
    for name in sorted(ENTITIES):
        try:
            found = catalogue.search(f"SELECT COUNT(e) FROM {name} e")
        except BadParameterError:
            if catalogue.kind == "embedded":
                raise
            continue
        out[name] = int(found[0]) if found else 0
    return out


def summary_text(user_name: str, counts: Mapping[str, int]) -> str:
    """python-icat ``icatsummary`` layout: ``User: <name>``, header, dashes, ``Name : n`` lines."""
    width = max(len(n) for n in counts)
    lines = [f"User: {user_name}", "", f"{'Entity':<{width}}   count", "-" * (width + 8)]
    lines += [f"{name:<{width}} : {n}" for name, n in counts.items()]
    return "\n".join(lines) + "\n\n"
