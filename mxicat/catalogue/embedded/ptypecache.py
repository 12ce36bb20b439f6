"""ParameterType enforcement facts cached across the write transactions of one embedded store.

The facts of a type -- (enforced, name, minimum, maximum, permissible string values) -- are what
``Parameter.check()`` needs; :class:`~mxicat.catalogue.embedded.writes.Writer` reads them through
:class:`ParameterTypeCache` unless its own transaction writes one of :data:`PTYPE_TABLES`.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Connection

#: (enforced, name, minimum numeric value, maximum numeric value, permissible string values)
PTypeFacts = tuple[bool, str, float | None, float | None, frozenset[str]]
#: entities whose writes change the facts
PTYPE_TABLES = frozenset({"ParameterType", "PermissibleStringValue"})
_PTYPE_TOKEN_SQL = (
    "SELECT (SELECT COUNT(*) || ':' || IFNULL(MAX(\"MOD_TIME\"), '') FROM \"PARAMETERTYPE\"), "
    "(SELECT COUNT(*) || ':' || IFNULL(MAX(\"MOD_TIME\"), '') FROM \"PERMISSIBLESTRINGVALUE\")"
)


class ParameterTypeCache:
    """Enforcement facts of ParameterTypes, shared by the write transactions of one store.

    Every parameter written is checked against its type (``Parameter.check()``); reading the type in every
    transaction dominated small writes such as one dataset with thirty parameters. The facts are kept across
    transactions and re-validated once per transaction against a token -- row count and latest modTime of
    PARAMETERTYPE and PERMISSIBLESTRINGVALUE -- so a change committed by any process empties the cache. A
    transaction that itself writes either table reads the database directly.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: tuple[Any, ...] | None = None
        self._facts: dict[int, PTypeFacts | None] = {}

    def validate(self, conn: Connection) -> None:
        token = tuple(conn.exec_driver_sql(_PTYPE_TOKEN_SQL).first() or ())
        with self._lock:
            if token != self._token:
                self._facts.clear()
                self._token = token

    def get(self, type_id: int) -> PTypeFacts | None | bool:
        """The facts, or False when not cached."""
        return self._facts.get(type_id, False)

    def put(self, type_id: int, facts: PTypeFacts | None) -> None:
        with self._lock:
            self._facts[type_id] = facts
