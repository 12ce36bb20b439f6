"""Opening the embedded catalogue file: engine setup, schema version, named transactional migrations.

The file is one SQLite database in WAL mode with ``PRAGMA foreign_keys=ON`` and ``synchronous=FULL`` (durable
commits) on every connection. Its schema version lives in ``MXICAT_MIGRATIONS`` (one row per applied migration:
version, name, time). Each migration in :data:`MIGRATIONS` runs in its own transaction (SQLite DDL is
transactional), so a failed upgrade leaves the file at the previous version.

* :func:`make_engine` -- an engine with the pragmas and ``BEGIN``/``BEGIN IMMEDIATE`` control (execution
  option ``mxicat_write=True`` takes the write lock at the start of the transaction, avoiding lock upgrades).
* :func:`check_version` -- clear errors for a file that is not a catalogue, is older (run ``mxicat init`` to
  upgrade) or newer (upgrade mxicat) than this code.
* :func:`upgrade` -- create the schema in an empty file or apply pending migrations; what ``mxicat init`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from mxicat.errors import ConfigurationError

from .schema import ICAT_VERSION, metadata
from .writes import SEQUENCE

_meta = sa.MetaData()
MIGRATIONS_TABLE = sa.Table(
    "MXICAT_MIGRATIONS",
    _meta,
    sa.Column("VERSION", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("NAME", sa.String(255), nullable=False),
    sa.Column("APPLIED", sa.DateTime, nullable=False),
)


@dataclass(frozen=True)
class Migration:
    """One named schema step; ``apply`` runs inside the migration's transaction."""

    version: int
    name: str
    apply: Callable[[Connection], None]


def _initial_schema(conn: Connection) -> None:
    metadata.create_all(conn)
    SEQUENCE.create(conn, checkfirst=True)


def _partial_value_indexes(conn: Connection) -> None:
    """Rebuild the (type, string) and (type, datetime) parameter indexes as partial indexes (rows with a
    value only): each parameter row then enters one value index instead of three, which makes parameter
    inserts about a quarter cheaper and the file smaller; queries comparing the value still use them."""
    for table in metadata.sorted_tables:
        for ix in sorted(table.indexes, key=lambda i: str(i.name)):
            if ix.dialect_options["sqlite"]["where"] is not None:
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{ix.name}"')
                ix.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, f"icat-{ICAT_VERSION}-schema", _initial_schema),
    Migration(2, "partial-parameter-value-indexes", _partial_value_indexes),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def make_engine(path: str | Path, *, busy_timeout: float = 30.0) -> Engine:
    """Engine for the catalogue file ``path`` (``":memory:"`` for a private in-memory catalogue)."""
    memory = str(path) == ":memory:"
    if memory:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool,
                                  connect_args={"check_same_thread": False})
    else:
        engine = sa.create_engine(f"sqlite:///{Path(path)}",
                                  connect_args={"timeout": busy_timeout, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            # every commit reaches the disk before it returns: a client told "created", and the ingester acking
            # a message after its commit, must not lose it to a power cut (NORMAL only survives a process crash)
            cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("mxicat_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def current_version(conn: Connection) -> int | None:
    """Applied schema version, ``None`` when the file has no migrations table."""
    if not sa.inspect(conn).has_table(MIGRATIONS_TABLE.name):
        return None
    return conn.execute(sa.select(sa.func.max(MIGRATIONS_TABLE.c.VERSION))).scalar() or 0


def _is_empty(conn: Connection) -> bool:
    return not sa.inspect(conn).get_table_names()


def check_version(engine: Engine, where: str) -> None:
    """Raise :class:`ConfigurationError` unless the file holds exactly this code's schema version."""
    try:
        with engine.connect() as conn:
            version = current_version(conn)
            empty = version is None and _is_empty(conn)
    except sa.exc.DatabaseError as err:
        raise ConfigurationError(f"{where} cannot be opened as an SQLite catalogue: {err.orig}") from err
    if version == SCHEMA_VERSION:
        return
    if empty:
        raise ConfigurationError(f"{where} is not an mxicat catalogue yet; create it with `mxicat init`")
    if version is None:
        raise ConfigurationError(f"{where} is an SQLite file but not an mxicat catalogue (no MXICAT_MIGRATIONS)")
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"{where} has catalogue schema version {version}, newer than this mxicat supports "
            f"({SCHEMA_VERSION}); upgrade mxicat")
    raise ConfigurationError(
        f"{where} has catalogue schema version {version}, older than this mxicat ({SCHEMA_VERSION}); "
        "run `mxicat init` on it to upgrade")


def upgrade(engine: Engine, where: str = "catalogue") -> list[str]:
    """Create the schema in an empty file or apply the pending migrations; names of those applied."""
    applied: list[str] = []
    with engine.connect().execution_options(mxicat_write=True) as conn:
        with conn.begin():
            version = current_version(conn)
            if version is None and not _is_empty(conn):
                raise ConfigurationError(f"{where} is an SQLite file but not an mxicat catalogue")
            _meta.create_all(conn)
        version = version or 0
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"{where} has catalogue schema version {version}, newer than this mxicat ({SCHEMA_VERSION})")
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            with conn.begin():
                migration.apply(conn)
                conn.execute(sa.insert(MIGRATIONS_TABLE).values(
                    VERSION=migration.version, NAME=migration.name,
                    APPLIED=datetime.now(UTC).replace(tzinfo=None)))
            applied.append(migration.name)
    return applied
