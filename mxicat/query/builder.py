"""A python-icat-shaped query builder whose values are never spliced in unquoted.

``Query(entity, attributes=, aggregate=, order=, where=, includes=, limit=, join_specs=)`` renders ICAT JPQL
clause by clause (``select_clause`` … ``limit_clause``, empty clauses dropped) with python-icat's conventions:
main alias ``o``, related objects joined under python-icat's symbolic names (``i``, ``ds``, ``p``, ``pt`` …,
else ``s1``, ``s2`` …), the ``aggregate_fcts`` and ``jpql_join_specs`` whitelists. Unlike python-icat's raw
``conditions`` strings, ``where`` takes *values*::

    Query("Dataset", where={"investigation.name": "mx2532",              # = 'mx2532'
                            "parameters.numericValue": ("<", 0.05),
                            "fileSize": [(">", 100), ("<", 500)],          # several conditions
                            "id": ("IN", [1, 2, 3]),
                            "startDate": ("BETWEEN", (t0, t1)),
                            "description": None,                          # IS NULL
                            "UPPER(name)": ("LIKE", "DS%"),
                            "investigation.investigationUsers.user.name": Param("user")},
          order=["name", ("startDate", "DESC")], includes=["parameters.type"], limit=(0, 50))

Values are rendered as JPQL literals (strings quoted with ``''`` doubling, ``{ts …}`` timestamps in UTC,
``TRUE``/``FALSE``, enum constants via :class:`Enum`), so the text runs unchanged on a real ICAT, which has no
client-bound parameters; on the embedded catalogue the parser turns every literal back into a value that the
compiler binds as an SQL parameter (:meth:`Query.to_ast`). Operators and functions come from whitelists;
attribute paths must be names. Anything else raises ``ValueError``/``TypeError`` before any text is built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mxicat.query import ast
from mxicat.query.parser import parse_jpql

SUBSTNAMES: dict[str, str] = {
    "datafileFormat": "dff", "dataset": "ds", "dataset.investigation": "i", "facility": "f", "grouping": "g",
    "instrumentScientists": "isc", "investigation": "i", "investigationGroups": "ig",
    "investigationInstruments": "ii", "investigationUsers": "iu", "parameters": "p", "parameters.type": "pt",
    "type": "t", "user": "u", "userGroups": "ug",
}
"""python-icat's symbolic alias names for related objects (``icat.query.substnames``)."""

aggregate_fcts = frozenset(["DISTINCT", "COUNT", "COUNT:DISTINCT", "MIN", "MAX", "AVG", "AVG:DISTINCT", "SUM",
                            "SUM:DISTINCT"])
jpql_join_specs = frozenset(["JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN"])
OPERATORS = frozenset(["=", "<>", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "IN", "NOT IN", "BETWEEN",
                       "NOT BETWEEN", "IS NULL", "IS NOT NULL"])
FUNCTIONS = frozenset(["UPPER", "LOWER", "LENGTH", "TRIM", "ABS"])

_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_ATTR = re.compile(r"(?:([A-Za-z_]+)\()?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?(1)\))")


@dataclass(frozen=True)
class Enum:
    """An ICAT enum constant, e.g. ``Enum("ParameterValueType", "NUMERIC")``."""

    type: str
    value: str


@dataclass(frozen=True)
class Param:
    """A named query parameter, e.g. ``Param("user")`` for ``:user``."""

    name: str


def literal(value: Any) -> str:
    """A value as a JPQL literal (the only way values enter query text)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in a query")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return "{ts " + value.strftime("%Y-%m-%d %H:%M:%S") + "}"
    if isinstance(value, Enum):
        if not (_NAME.fullmatch(value.type) and _NAME.fullmatch(value.value)):
            raise ValueError(f"invalid enum constant {value!r}")
        return f"org.icatproject.{value.type}.{value.value}"
    if isinstance(value, Param):
        if not _NAME.fullmatch(value.name):
            raise ValueError(f"invalid parameter name {value.name!r}")
        return ":" + value.name
    raise TypeError(f"cannot write a {type(value).__name__} value in a query")


Condition = Any  # value | (op, value) | (op,) | list of those


class Query:
    """Build an ICAT JPQL query (python-icat's ``Query`` shape, values quoted, never spliced)."""

    def __init__(self, entity: str, *, attributes: str | Sequence[str] | None = None, aggregate: str | None = None,
                 order: Iterable[str | tuple[str, str]] | None = None, where: Mapping[str, Condition] | None = None,
                 includes: Iterable[str] | str | None = None, limit: tuple[int, int] | None = None,
                 join_specs: Mapping[str, str] | None = None) -> None:
        if not _NAME.fullmatch(entity):
            raise ValueError(f"invalid entity name {entity!r}")
        self.entity = entity
        self.attributes: list[str] = []
        for a in [attributes] if isinstance(attributes, str) else list(attributes or []):
            self.attributes.append(self._path(a))
        if aggregate is not None and aggregate not in aggregate_fcts:
            raise ValueError(f"Invalid aggregate function {aggregate!r}")
        self.aggregate = aggregate
        self.order: list[tuple[str, str | None, str | None]] = []  # (path, function, direction)
        if isinstance(order, bool):
            raise TypeError("order=True (python-icat's natural order) needs entity information; list the attributes")
        for item in order or []:
            path, direction = item if isinstance(item, tuple) else (item, None)
            if direction not in (None, "ASC", "DESC"):
                raise ValueError(f"Invalid ordering direction {direction!r}")
            func, p = self._split(path)
            self.order.append((p, func, direction))
        self.conditions: list[tuple[str, str | None, str]] = []  # (path, function, rendered right-hand side)
        for key, cond in (where or {}).items():
            func, p = self._split(key)
            for c in cond if isinstance(cond, list) else [cond]:
                self.conditions.append((p, func, self._rhs(c)))
        self.includes: set[str] = set()
        if includes == "1":
            self.include_one = True
        else:
            self.include_one = False
            for inc in [includes] if isinstance(includes, str) else list(includes or []):
                self.includes.add(self._path(inc))
        if limit is not None:
            if not (isinstance(limit, tuple) and len(limit) == 2 and all(isinstance(n, int) and n >= 0
                                                                          for n in limit)):
                raise TypeError("limit must be a tuple of two non-negative integers (skip, count)")
        self.limit = limit
        self.join_specs = dict(join_specs or {})
        for obj, spec in self.join_specs.items():
            self._path(obj)
            if spec not in jpql_join_specs:
                raise ValueError(f"invalid join specification {spec!r}")

    # ---------------------------------------------------------------- validation

    @staticmethod
    def _path(path: str) -> str:
        if not all(_NAME.fullmatch(p) for p in path.split(".")):
            raise ValueError(f"invalid attribute path {path!r}")
        return path

    def _split(self, attr: str) -> tuple[str | None, str]:
        m = _ATTR.fullmatch(attr)
        if not m:
            raise ValueError(f"invalid attribute {attr!r}")
        func, path = m.group(1), m.group(2)
        if func is not None and func.upper() not in FUNCTIONS:
            raise ValueError(f"function {func!r} is not allowed (one of {', '.join(sorted(FUNCTIONS))})")
        return (func.upper() if func else None), self._path(path)

    @staticmethod
    def _rhs(cond: Condition) -> str:
        if cond is None:
            return "IS NULL"
        if not isinstance(cond, tuple):
            return "= " + literal(cond)
        op = str(cond[0]).upper()
        if op not in OPERATORS:
            raise ValueError(f"operator {cond[0]!r} is not allowed")
        if op in ("IS NULL", "IS NOT NULL"):
            if len(cond) != 1:
                raise ValueError(f"{op} takes no value")
            return op
        if len(cond) != 2:
            raise ValueError(f"{op} takes exactly one value: {cond!r}")
        value = cond[1]
        if op in ("IN", "NOT IN"):
            values = list(value)
            if not values:
                raise ValueError(f"{op} needs at least one value")
            return f"{op} (" + ", ".join(literal(v) for v in values) + ")"
        if op in ("BETWEEN", "NOT BETWEEN"):
            low, high = value
            return f"{op} {literal(low)} AND {literal(high)}"
        return f"{op} {literal(value)}"

    # ---------------------------------------------------------------- rendering (python-icat's scheme)

    def _subst(self) -> dict[str, str]:
        objs = {p for p, _f, _d in self.order} | {p for p, _f, _r in self.conditions} | set(self.attributes)
        return _make_subst(objs)

    @staticmethod
    def _dosubst(obj: str, subst: dict[str, str], addas: bool = True) -> str:
        i = obj.rfind(".")
        n = f"o.{obj}" if i < 0 else f"{subst[obj[:i]]}.{obj[i + 1:]}"
        if addas and obj in subst:
            n += f" AS {subst[obj]}"
        return n

    @property
    def select_clause(self) -> str:
        subst = self._subst()
        res = ", ".join(self._dosubst(a, subst, False) for a in self.attributes) if self.attributes else "o"
        if self.aggregate:
            if len(self.attributes) > 1 and self.aggregate == "DISTINCT":
                res = f"DISTINCT {res}"
            else:
                for fct in reversed(self.aggregate.split(":")):
                    res = f"{fct}({res})"
        return f"SELECT {res} FROM {self.entity} o"

    @property
    def join_clause(self) -> str | None:
        subst = self._subst()
        joins = [f"{self.join_specs.get(obj, 'JOIN')} {self._dosubst(obj, subst)}" for obj in sorted(subst)]
        return " ".join(joins) or None

    @property
    def where_clause(self) -> str | None:
        if not self.conditions:
            return None
        subst = self._subst()
        conds = []
        for path, func, rhs in sorted(self.conditions, key=lambda c: c[0]):
            attr = self._dosubst(path, subst, False)
            conds.append(f"{func}({attr}) {rhs}" if func else f"{attr} {rhs}")
        return "WHERE " + " AND ".join(conds)

    @property
    def order_clause(self) -> str | None:
        if not self.order:
            return None
        subst = self._subst()
        items = []
        for path, func, direction in self.order:
            attr = self._dosubst(path, subst, False)
            item = f"{func}({attr})" if func else attr
            items.append(f"{item} {direction}" if direction else item)
        return "ORDER BY " + ", ".join(items)

    @property
    def include_clause(self) -> str | None:
        if self.include_one:
            return "INCLUDE 1"
        if not self.includes:
            return None
        subst = _make_subst(self.includes)
        incl = sorted(self.includes | set(subst))
        return "INCLUDE " + ", ".join(self._dosubst(obj, subst) for obj in incl)

    @property
    def limit_clause(self) -> str | None:
        return f"LIMIT {self.limit[0]}, {self.limit[1]}" if self.limit else None

    def __str__(self) -> str:
        return " ".join(c for c in (self.select_clause, self.join_clause, self.where_clause, self.order_clause,
                                    self.include_clause, self.limit_clause) if c)

    def to_ast(self) -> ast.Query:
        """The parsed query (for the embedded catalogue: its literals become bound SQL parameters)."""
        return parse_jpql(str(self))


def _make_subst(objs: Iterable[str]) -> dict[str, str]:
    """Aliases for every related-object prefix of the given attribute paths (python-icat ``_makesubst``)."""
    subst: dict[str, str] = {}
    count = 0
    for obj in sorted(objs):
        i = obj.rfind(".")
        if i < 0:
            continue
        parts = obj[:i].split(".")
        for k in range(1, len(parts) + 1):
            o = ".".join(parts[:k])
            if o not in subst:
                if o in SUBSTNAMES and SUBSTNAMES[o] not in subst.values():
                    subst[o] = SUBSTNAMES[o]
                else:
                    count += 1
                    subst[o] = f"s{count}"
    return subst
