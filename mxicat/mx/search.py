"""Compile the dataset filter language (:mod:`mxicat.mx.filters`) to ICAT JPQL, and page through results.

Names in a filter are resolved in this order:

1. dataset fields: ``id``, ``name``, ``investigation`` (proposal name), ``visit``, ``type``,
   ``sample_name`` / ``sample``, ``start_time``, ``end_time``, ``location``, ``complete``,
   ``beamline`` / ``instrument`` (through DatasetInstrument), ``technique`` (through DatasetTechnique);
2. ontology terms under any of their names (canonical key, ICAT/ESRF name, alias), per-shell keys
   included (``r_merge_outer``): compared on the DatasetParameter of the term's ParameterType, numbers
   converted from the unit written after them to the term's canonical unit with pint
   (``wavelength < 1 angstrom``, ``photon_energy > 12 keV``, ``r_merge < 5 %``);
3. keys stored unverified (ParameterType named like the key): compared as text, or as number when the
   value is a number.

Functions: ``in_group("name")`` (member of a group), ``has(key)`` (the parameter is present).
Every parameter test is an ``ds.id IN (SELECT ...)`` sub-select, so ``and``/``or``/``not`` keep their
meaning (``not wavelength < 1`` includes datasets without a wavelength). Numeric ``=`` matches within a
relative 1e-9; a date without time (``start_time = 2024-01-01``) matches the whole day. Values become
quoted JPQL literals (:mod:`mxicat.mx.jpql`); the catalogue applies the user's read permissions.

Pagination is keyset-based: ``order`` is ``id``, ``name``, ``start_time`` or ``end_time`` (``-`` prefix
for descending); the opaque ``cursor`` of a page continues after its last row, stable under inserts.
Datasets without the ordering date come after all others.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.mx import jpql
from mxicat.mx.filters import And, Call, Compare, Node, Not, Or, Value, parse_filter
from mxicat.mx.groups import NAME_TYPE

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

#: filter name -> (JPQL path, value type)
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "id": ("ds.id", "int"),
    "name": ("ds.name", "str"),
    "dataset": ("ds.name", "str"),
    "investigation": ("ds.investigation.name", "str"),
    "proposal": ("ds.investigation.name", "str"),
    "visit": ("ds.investigation.visitId", "str"),
    "type": ("ds.type.name", "str"),
    "dataset_type": ("ds.type.name", "str"),
    "start_time": ("ds.startDate", "datetime"),
    "start_date": ("ds.startDate", "datetime"),
    "end_time": ("ds.endDate", "datetime"),
    "end_date": ("ds.endDate", "datetime"),
    "location": ("ds.location", "str"),
    "complete": ("ds.complete", "bool"),
}
#: filter name -> (sub-select returning dataset ids, ``{cond}`` the condition on ``x{n}``, value type)
LINKED: dict[str, tuple[str, str]] = {
    "sample_name": ("SELECT ds{n}.id FROM Dataset ds{n} JOIN ds{n}.sample x{n} WHERE {cond}", "str"),
    "sample": ("SELECT ds{n}.id FROM Dataset ds{n} JOIN ds{n}.sample x{n} WHERE {cond}", "str"),
    "beamline": ("SELECT di{n}.dataset.id FROM DatasetInstrument di{n} JOIN di{n}.instrument x{n} "
                 "WHERE {cond}", "lower"),
    "instrument": ("SELECT di{n}.dataset.id FROM DatasetInstrument di{n} JOIN di{n}.instrument x{n} "
                   "WHERE {cond}", "lower"),
    "technique": ("SELECT dt{n}.dataset.id FROM DatasetTechnique dt{n} JOIN dt{n}.technique x{n} "
                  "WHERE {cond}", "str"),
}
ORDERS: dict[str, tuple[str, bool]] = {  # name -> (path, nullable)
    "id": ("ds.id", False),
    "name": ("ds.name", False),
    "start_time": ("ds.startDate", True),
    "end_time": ("ds.endDate", True),
}
PAGE_QUERY_SIZE = 50  # datasets per query: keeps INCLUDEd parameters under maxEntities
_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class _Compiler:
    mx: MxCatalogue
    text: str
    counter: int = 0
    unverified_cache: dict[str, bool] = field(default_factory=dict)

    def fresh(self) -> int:
        self.counter += 1
        return self.counter

    def compile(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.compile(i) for i in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.compile(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.compile(node.item)})"
        if isinstance(node, Call):
            return self.call(node)
        return self.compare(node)

    def error(self, message: str, pos: int) -> BadParameterError:
        return BadParameterError(f"{message} at position {pos} of filter:\n{self.text}\n{' ' * pos}^",
                                 offset=pos)

    # -- functions ---------------------------------------------------------------------------------
    def call(self, node: Call) -> str:
        n = self.fresh()
        if node.name == "in_group":
            if len(node.args) != 1 or not isinstance(node.args[0], str):
                raise self.error('in_group takes one group name: in_group("name")', node.pos)
            return (f"ds.id IN (SELECT dcd{n}.dataset.id FROM DataCollectionDataset dcd{n} "
                    f"JOIN dcd{n}.dataCollection dc{n} JOIN dc{n}.parameters gp{n} JOIN gp{n}.type gpt{n} "
                    f"WHERE gpt{n}.name = {jpql.string(NAME_TYPE)} "
                    f"AND gp{n}.stringValue = {jpql.string(node.args[0])})")
        if node.name == "has":
            if len(node.args) != 1 or not isinstance(node.args[0], str):
                raise self.error("has takes one key: has(wavelength)", node.pos)
            names = self.parameter_names(node.args[0], node.pos)
            return (f"ds.id IN (SELECT p{n}.dataset.id FROM DatasetParameter p{n} JOIN p{n}.type pt{n} "
                    f"WHERE pt{n}.name = {jpql.string(names)})")
        raise self.error(f"unknown function {node.name!r} (known: in_group, has)", node.pos)

    def parameter_names(self, key: str, pos: int) -> str:
        resolved = self.mx.ontology.resolve(key)
        if resolved is not None:
            return resolved.icat_name
        if self.is_unverified(key):
            return key
        raise self.unknown(key, pos)

    def is_unverified(self, key: str) -> bool:
        if key not in self.unverified_cache:
            rows = self.mx.session.search(
                f"SELECT pt.id FROM ParameterType pt WHERE pt.name = {jpql.string(key)}")
            self.unverified_cache[key] = bool(rows)
        return self.unverified_cache[key]

    def unknown(self, name: str, pos: int) -> BadParameterError:
        known = list(ATTRIBUTES) + list(LINKED)
        for term in self.mx.ontology:
            known.extend(term.keys())
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return self.error(f"unknown field {name!r}{hint}", pos)

    # -- comparisons -------------------------------------------------------------------------------
    def compare(self, node: Compare) -> str:
        key = node.field
        if key in ATTRIBUTES:
            path, kind = ATTRIBUTES[key]
            return self.condition(path, kind, node)
        if key in LINKED:
            template, kind = LINKED[key]
            n = self.fresh()
            if node.op in ("isnull", "notnull"):
                inner = f"ds.id IN ({template.format(n=n, cond=f'x{n}.id IS NOT NULL')})"
                return inner if node.op == "notnull" else f"(NOT {inner})"
            cond = self.condition(f"x{n}.name", kind, node)
            return f"ds.id IN ({template.format(n=n, cond=cond)})"
        resolved = self.mx.ontology.resolve(key)
        if resolved is not None:
            term = resolved.term
            kind = {"float": "float", "int": "float", "bool": "bool", "datetime": "datetime"}.get(
                term.type, "str")
            column = {"float": "numericValue", "bool": "numericValue",
                      "datetime": "dateTimeValue"}.get(kind, "stringValue")
            return self.parameter(resolved.icat_name, column, kind, node, unit=term.unit)
        if self.is_unverified(key):
            numeric = isinstance(node.value, int | float) and not isinstance(node.value, bool)
            if node.op in ("in", "notin"):
                numeric = all(isinstance(v, int | float) for v in node.value)  # type: ignore[union-attr]
            column, kind = ("numericValue", "float") if numeric else ("stringValue", "str")
            if node.unit:
                raise self.error(f"{key!r} is an unverified key without a unit", node.unit_pos)
            return self.parameter(key, column, kind, node, unit=None)
        raise self.unknown(key, node.pos)

    def parameter(self, type_name: str, column: str, kind: str, node: Compare, *,
                  unit: str | None) -> str:
        n = self.fresh()
        head = (f"ds.id IN (SELECT p{n}.dataset.id FROM DatasetParameter p{n} JOIN p{n}.type pt{n} "
                f"WHERE pt{n}.name = {jpql.string(type_name)}")
        if node.op in ("isnull", "notnull"):
            inner = head + ")"
            return inner if node.op == "notnull" else f"(NOT {inner})"
        cond = self.condition(f"p{n}.{column}", kind, node, unit=unit)
        return f"{head} AND {cond})"

    def condition(self, path: str, kind: str, node: Compare, *, unit: str | None = None) -> str:
        """JPQL condition on one value path."""
        op = node.op
        if op == "isnull":
            return f"{path} IS NULL"
        if op == "notnull":
            return f"{path} IS NOT NULL"
        if node.unit and kind != "float":
            raise self.error(f"{node.field!r} takes no unit", node.unit_pos)
        if op in ("like", "notlike"):
            if kind not in ("str", "lower"):
                raise self.error(f"'like' needs a text field; {node.field!r} is not text", node.pos)
            pattern = str(node.value).lower() if kind == "lower" else str(node.value)
            target = f"LOWER({path})" if kind == "lower" else path
            return f"{target} {'NOT LIKE' if op == 'notlike' else 'LIKE'} {jpql.string(pattern)}"
        if op in ("in", "notin"):
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            parts = [self.condition(path, kind, Compare(node.field, "=", v, None, node.pos,
                                                        node.value_pos), unit=unit) for v in values]
            joined = "(" + " OR ".join(parts) + ")"
            return f"(NOT {joined})" if op == "notin" else joined
        value = self.literal_value(kind, node, unit)
        if kind == "float":
            if op in ("=", "!="):
                tolerance = max(abs(value) * 1e-9, 1e-12)
                lo, hi = jpql.number(value - tolerance), jpql.number(value + tolerance)
                inside = f"({path} >= {lo} AND {path} <= {hi})"
                return inside if op == "=" else f"({path} < {lo} OR {path} > {hi})"
            return f"{path} {_OPS[op]} {jpql.number(value)}"
        if kind == "datetime":
            start, width = value
            if op in ("=", "!="):
                lo, hi = jpql.timestamp(start), jpql.timestamp(start + width)
                inside = f"({path} >= {lo} AND {path} < {hi})"
                return inside if op == "=" else f"({path} < {lo} OR {path} >= {hi})"
            bound = start + width if op in (">", "<=") else start
            jop = {">": ">=", "<=": "<"}.get(op, _OPS[op])
            return f"{path} {jop} {jpql.timestamp(bound)}"
        if kind == "int":
            return f"{path} {_OPS[op]} {jpql.number(value)}"
        if kind == "bool":
            return f"{path} {_OPS[op]} {value}"
        if kind == "lower":
            return f"LOWER({path}) {_OPS[op]} {jpql.string(str(value).lower())}"
        return f"{path} {_OPS[op]} {jpql.string(str(value))}"

    def literal_value(self, kind: str, node: Compare, unit: str | None) -> Any:
        value: Value | tuple[Value, ...] = node.value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.error(f"{node.field!r} needs a number, got {value!r}", node.value_pos)
            if node.unit:
                from mxicat.ontology.units import convert_magnitude

                try:
                    return float(convert_magnitude(float(value), node.unit, unit or ""))
                except ValueError as err:
                    raise self.error(f"unit {node.unit!r}: {err}", node.unit_pos) from err
            return float(value)
        if kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.error(f"{node.field!r} needs an integer, got {value!r}", node.value_pos)
            return value
        if kind == "datetime":
            if isinstance(value, str):
                try:
                    value = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError as err:
                    raise self.error(f"{node.field!r} needs a date, got {value!r}",
                                     node.value_pos) from err
            if isinstance(value, datetime):
                return value, timedelta(seconds=1)
            if isinstance(value, date):
                return datetime(value.year, value.month, value.day), timedelta(days=1)
            raise self.error(f"{node.field!r} needs a date (YYYY-MM-DD[THH:MM:SS]), got {value!r}",
                             node.value_pos)
        if kind == "bool":
            text = str(value).strip().lower()
            if text in ("true", "yes", "1", "y"):
                return "1" if node.field not in ATTRIBUTES else "TRUE"
            if text in ("false", "no", "0", "n"):
                return "0" if node.field not in ATTRIBUTES else "FALSE"
            raise self.error(f"{node.field!r} needs true or false, got {value!r}", node.value_pos)
        if isinstance(value, datetime | date):
            return node.value if isinstance(node.value, str) else value.isoformat()
        return value


def compile_filter(mx: MxCatalogue, text: str | None) -> str:
    """The JPQL WHERE condition (on alias ``ds``) of a filter; ``""`` for no filter."""
    if text is None or not text.strip():
        return ""
    return _Compiler(mx, text).compile(parse_filter(text))


# -- paging ------------------------------------------------------------------------------------------

@dataclass
class DatasetPage:
    """One page of datasets: ``items`` (summaries) and the ``cursor`` continuing after them (or None)."""

    items: list[dict[str, Any]]
    cursor: str | None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, order: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as err:
        raise BadParameterError(f"invalid cursor {cursor!r}") from err
    if not isinstance(state, dict) or state.get("o") != order:
        raise BadParameterError(f"cursor was made for another order than {order!r}")
    return state


def _parse_order(order: str) -> tuple[str, str, bool, bool]:
    descending = order.startswith("-")
    name = order.lstrip("-+")
    if name not in ORDERS:
        raise BadParameterError(f"order must be one of {', '.join(ORDERS)} (prefix - for descending), "
                                f"got {order!r}")
    path, nullable = ORDERS[name]
    return name, path, descending, nullable


def _literal(path: str, value: Any) -> str:
    if path.endswith("Date"):
        return jpql.timestamp(datetime.fromisoformat(value))
    return jpql.string(value) if isinstance(value, str) else jpql.number(value)


def _keyset(path: str, descending: bool, state: dict[str, Any], *, by_id: bool) -> str | None:
    """Condition selecting the rows after the cursor position."""
    if "id" not in state:
        return None
    cmp = "<" if descending else ">"
    if by_id:
        return f"ds.id {cmp} {int(state['id'])}"
    if path.endswith("Date"):
        # ICAT timestamps literals have whole seconds: rows of the last second not yet returned are
        # those of that second whose id was not seen (they follow the seen ones in ORDER BY path, id)
        floor = datetime.fromisoformat(state["v"])
        lo, hi = jpql.timestamp(floor), jpql.timestamp(floor + timedelta(seconds=1))
        beyond = f"{path} < {lo}" if descending else f"{path} >= {hi}"
        seen = f" AND ds.id NOT IN {jpql.ids(state['seen'])}" if state.get("seen") else ""
        return f"({beyond} OR ({path} >= {lo} AND {path} < {hi}{seen}))"
    literal = _literal(path, state["v"])
    return f"({path} {cmp} {literal} OR ({path} = {literal} AND ds.id {cmp} {int(state['id'])}))"


def _advance(state: dict[str, Any], order: str, phase: str, path: str, summary: dict[str, Any]
             ) -> dict[str, Any]:
    value = summary["_order"].get(path)
    new: dict[str, Any] = {"o": order, "phase": phase, "id": summary["id"]}
    if isinstance(value, datetime):
        floor = jpql.to_utc_naive(value).replace(microsecond=0)
        same = state.get("v") == floor.isoformat() and state.get("phase") == phase
        new["v"] = floor.isoformat()
        new["seen"] = [*state.get("seen", []), summary["id"]] if same else [summary["id"]]
    else:
        new["v"] = value
    return new


INCLUDE = ("INCLUDE ds.parameters p, p.type, ds.investigation, ds.type, ds.sample, "
           "ds.datasetInstruments di, di.instrument")


def search_datasets(mx: MxCatalogue, text: str | None, *, order: str = "id", limit: int = 100,
                    cursor: str | None = None) -> DatasetPage:
    """One page of dataset summaries matching a filter (see the module docstring)."""
    from mxicat.mx.detail import search_adaptive, summarize

    if limit < 1:
        raise BadParameterError(f"limit must be at least 1, got {limit}")
    name, path, descending, nullable = _parse_order(order)
    where = compile_filter(mx, text)
    state = _decode_cursor(cursor, order) if cursor else {"o": order, "phase": "values"}
    direction = "DESC" if descending else "ASC"
    items: list[dict[str, Any]] = []

    def query(phase: str, size: int) -> tuple[list[Any], int]:
        by_id = name == "id" or phase == "nulls"
        conditions = [where] if where else []
        if nullable:
            conditions.append(f"{path} IS NOT NULL" if phase == "values" else f"{path} IS NULL")
        keyset = _keyset(path, descending, state, by_id=by_id)
        if keyset:
            conditions.append(keyset)
        order_by = (f"ORDER BY ds.id {direction}" if by_id
                    else f"ORDER BY {path} {direction}, ds.id {direction}")
        clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        return search_adaptive(mx, lambda n: (
            f"SELECT ds FROM Dataset ds {clause}{order_by} LIMIT 0, {n} {INCLUDE}"), size)

    batch = PAGE_QUERY_SIZE
    while True:
        phase = state.get("phase", "values")
        want = min(batch, limit - len(items))
        rows, used = query(phase, want + 1)  # one more row than taken: is there a next page?
        if used <= want:  # the catalogue refused that many INCLUDEd objects: smaller batches
            want = max(1, used - 1)
            batch = want
        for row in rows[:want]:
            summary = summarize(mx, row)
            items.append(summary)
            state = _advance(state, order, phase, path, summary)
        more = len(rows) > want or (used == 1 and len(rows) == 1)
        if not more and nullable and phase == "values":
            state = {"o": order, "phase": "nulls"}
            if len(items) >= limit:
                more = bool(query("nulls", 1)[0])
            else:
                continue
        if len(items) >= limit or not more:
            page = [_public(i) for i in items]
            return DatasetPage(page, _encode_cursor(state) if more else None)


def _public(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def count_datasets(mx: MxCatalogue, text: str | None) -> int:
    """Number of visible datasets matching a filter."""
    where = compile_filter(mx, text)
    rows = mx.session.search("SELECT COUNT(ds) FROM Dataset ds" + (f" WHERE {where}" if where else ""))
    return int(rows[0]) if rows else 0
