"""Small catalogue files for the authorization tests, written straight into the schema's tables.

Rows are inserted with SQLAlchemy Core (no store, no checks), so these tests exercise the authorizer and the
query compiler alone. :class:`Rows` hands out ids and fills the meta fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import ENTITIES, TABLES, metadata, to_db_datetime

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def new_engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


class Rows:
    """Inserts ICAT objects as rows: ``rows.add(conn, "Dataset", name=..., investigation=inv_id)``."""

    def __init__(self) -> None:
        self.next_id: dict[str, int] = {}

    def add(self, conn: sa.Connection, bean: str, *, creator: str = "simple/root", **values: Any) -> int:
        info = ENTITIES[bean]
        oid = self.next_id.get(bean, 1)
        self.next_id[bean] = oid + 1
        row: dict[str, Any] = {
            "ID": oid,
            "CREATE_ID": creator,
            "MOD_ID": creator,
            "CREATE_TIME": NOW,
            "MOD_TIME": NOW,
        }
        for f in info.attributes.values():
            if f.default is not None:
                row[f.column] = f.default
        for name, value in values.items():
            if name in info.fields:
                f = info.fields[name]
                row[f.column] = to_db_datetime(value) if isinstance(value, datetime) else value
            else:
                rel = info.relations[name]
                row[rel.column or ""] = value
        conn.execute(sa.insert(TABLES[bean]).values(**row))
        return oid
