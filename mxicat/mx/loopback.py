"""LoopBack 3 filters (the PaNOSC search API's query form) → ICAT JPQL conditions, plus an evaluator.

A filter is ``{"where": {...}, "include": [{"relation": r, "scope": {"where": {...}, "include": [...]}}],
"limit": n, "skip": n, "query": "free text"}``. ``where`` objects combine ``and``/``or`` lists and
``{"field": value}`` / ``{"field": {"op": value}}`` with ``eq neq gt gte lt lte between inq nin like nlike
ilike nilike`` (``regexp`` is refused: ICAT JPQL has none). Values become quoted JPQL literals through
:mod:`mxicat.mx.jpql` only.

Parameter conditions (``{"name": "photon_energy"}, {"value": {"between": [880, 990]}}, {"unit": "eV"}``)
compare physical quantities: the name is resolved through the ontology (PaNOSC-style canonical keys,
ICAT/ESRF names and aliases), and for every ParameterType of that name the query values are converted with
pint from the query's unit to the type's stored unit -- which is comparing in SI, without relying on how
the catalogue stores them. :func:`matches` evaluates the same ``where`` on PaNOSC-shaped dicts in Python, to
trim included relations to their scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mxicat.errors import BadParameterError
from mxicat.mx import jpql

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "between", "inq", "nin", "like", "nlike",
                       "ilike", "nilike", "regexp"})
FILTER_KEYS = frozenset({"where", "include", "limit", "skip", "offset", "query", "order", "fields"})
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_DEPTH = 40  # JSON nesting of a filter: deeper ones are refused before compiling (recursion)


@dataclass(frozen=True)
class Include:
    """One ``include`` entry: relation name and its scope (where, nested includes)."""

    relation: str
    where: dict[str, Any] = field(default_factory=dict)
    include: tuple[Include, ...] = ()


@dataclass(frozen=True)
class Filter:
    """A parsed LoopBack filter."""

    where: dict[str, Any] = field(default_factory=dict)
    include: tuple[Include, ...] = ()
    limit: int = DEFAULT_LIMIT
    skip: int = 0
    query: str | None = None


def _error(message: str) -> BadParameterError:
    return BadParameterError(f"filter: {message}")


def _includes(raw: Any) -> tuple[Include, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Include(item))
        elif isinstance(item, Mapping) and isinstance(item.get("relation"), str):
            scope = item.get("scope") or {}
            if not isinstance(scope, Mapping):
                raise _error(f"include scope of {item['relation']!r} must be an object")
            where = {} if scope.get("where") is None else scope["where"]
            if not isinstance(where, Mapping):
                raise _error(f"scope where of {item['relation']!r} must be an object")
            out.append(Include(item["relation"], dict(where), _includes(scope.get("include"))))
        else:
            raise _error(f"include entries are relation names or {{relation, scope}} objects, got {item!r}")
    return tuple(out)


def _int(raw: Any, name: str, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().isdecimal():
        raise _error(f"{name} must be a non-negative integer, got {raw!r}")
    return min(int(raw), maximum)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of decoded JSON, counted iteratively (stops past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _json(text: str, what: str) -> Any:
    try:
        raw = json.loads(text)
    except RecursionError as err:
        raise _error(f"{what} is nested too deeply") from err
    except ValueError as err:
        raise _error(f"{what} is not valid JSON ({err})") from err
    if _depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise _error(f"{what} is nested deeper than {MAX_DEPTH} levels")
    return raw


def parse(text: str | Mapping[str, Any] | None) -> Filter:
    """Parse the ``filter`` query parameter (JSON text) or an already decoded mapping.

    Raises:
        BadParameterError: not JSON, not an object, unknown top-level key or a malformed part.
    """
    if text is None or text == "":
        return Filter()
    if isinstance(text, str):
        raw = _json(text, "filter")
    else:
        raw = text
    if not isinstance(raw, Mapping):
        raise _error("must be a JSON object")
    unknown = set(raw) - FILTER_KEYS
    if unknown:
        raise _error(f"unknown key(s) {sorted(unknown)}; known: {sorted(FILTER_KEYS)}")
    where = {} if raw.get("where") is None else raw["where"]
    if not isinstance(where, Mapping):
        raise _error("where must be an object")
    query = raw.get("query")
    if query is not None and not isinstance(query, str):
        raise _error("query must be a string")
    skip = raw.get("skip", raw.get("offset"))
    return Filter(dict(where), _includes(raw.get("include")), _int(raw.get("limit"), "limit", DEFAULT_LIMIT,
                                                                  MAX_LIMIT),
                  _int(skip, "skip", 0, 10_000_000), query.strip() if query else None)


def parse_where(text: str | None) -> dict[str, Any]:
    """The ``where`` query parameter of ``/count`` calls (JSON object)."""
    if not text:
        return {}
    raw = _json(text, "where")
    if not isinstance(raw, Mapping):
        raise _error("where must be a JSON object")
    return dict(raw)


# -- JPQL ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    """How a PaNOSC field maps onto JPQL: a path and a kind (str, number, datetime, bool), or a hook."""

    path: str | None
    kind: str = "str"
    special: Callable[[str, str, Any], str] | None = None  # (alias, op, value) -> condition
    constant: Any = None  # the value of a field without a path (isPublic: True for what a session reads)


def literal(kind: str, value: Any) -> str:
    """A JPQL literal of ``kind`` for a filter value (quoted through :mod:`mxicat.mx.jpql`)."""
    if kind == "number":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError as err:
                raise _error(f"{value!r} is not a number") from err
        return jpql.number(value)
    if kind == "datetime":
        if isinstance(value, datetime | date):
            return jpql.timestamp(value)
        try:
            return jpql.timestamp(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        except ValueError as err:
            raise _error(f"{value!r} is not an ISO 8601 date") from err
    if kind == "bool":
        if not isinstance(value, bool):
            raise _error(f"{value!r} is not true or false")
        return "TRUE" if value else "FALSE"
    if isinstance(value, bool | Mapping | list) or value is None:
        raise _error(f"{value!r} is not a text value")
    return jpql.string(str(value))


def condition(path: str, kind: str, op: str, value: Any) -> str:
    """JPQL condition for ``path op value`` with LoopBack operator names."""
    if op == "regexp":
        raise _error("regexp is not supported (ICAT JPQL has no regular expressions); use like")
    if op not in OPERATORS:
        raise _error(f"unknown operator {op!r}; known: {sorted(OPERATORS)}")
    if op in ("eq", "neq") and value is None:
        return f"{path} IS {'NOT ' if op == 'neq' else ''}NULL"
    if op in ("inq", "nin"):
        if not isinstance(value, list) or not value:
            raise _error(f"{op} needs a non-empty list, got {value!r}")
        inner = "(" + " OR ".join(f"{path} = {literal(kind, v)}" for v in value) + ")"
        return inner if op == "inq" else f"(NOT {inner} OR {path} IS NULL)"
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _error(f"between needs [low, high], got {value!r}")
        return f"({path} >= {literal(kind, value[0])} AND {path} <= {literal(kind, value[1])})"
    if op in ("like", "nlike", "ilike", "nilike"):
        if not isinstance(value, str):
            raise _error(f"{op} needs a text pattern, got {value!r}")
        negate = "NOT " if op.startswith("n") else ""
        if op.endswith("ilike"):
            return f"LOWER({path}) {negate}LIKE {jpql.string(value.lower())}"
        return f"{path} {negate}LIKE {jpql.string(value)}"
    sym = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"{path} {sym} {literal(kind, value)}"


def leaves(value: Any) -> list[tuple[str, Any]]:
    """``(op, operand)`` pairs of one field's condition (``"x"`` is ``eq``; several ops are ANDed)."""
    if isinstance(value, Mapping):
        if not value:
            raise _error("empty operator object")
        return [(str(op), operand) for op, operand in value.items()]
    return [("eq", value)]


def compile_where(where: Mapping[str, Any], fields: Mapping[str, FieldSpec], alias: str,
                  text: Callable[[str], str] | None = None) -> str:
    """JPQL condition for a ``where`` object on an entity aliased ``alias`` (``1 = 1`` when empty)."""
    parts: list[str] = []
    for key, value in where.items():
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise _error(f"{key} needs a non-empty list of conditions")
            subs = []
            for item in value:
                if not isinstance(item, Mapping):
                    raise _error(f"{key} items must be objects, got {item!r}")
                subs.append(compile_where(item, fields, alias, text))
            parts.append("(" + f" {key.upper()} ".join(subs) + ")")
        elif key == "text":
            if text is None or not isinstance(value, str):
                raise _error("text needs a string (and is not available here)")
            parts.append(text(value))
        elif key in fields:
            spec = fields[key]
            for op, operand in leaves(value):
                if spec.special is not None:
                    parts.append(spec.special(alias, op, operand))
                elif spec.path is None:
                    parts.append("1 = 1" if condition_matches(spec.constant, op, operand) else "1 = 0")
                else:
                    parts.append(condition(spec.path.format(a=alias), spec.kind, op, operand))
        else:
            raise _error(f"unknown field {key!r}; known: {sorted(fields)}")
    return "(" + " AND ".join(parts) + ")" if parts else "1 = 1"


# -- parameters ----------------------------------------------------------------------------------------

@dataclass
class ParameterCompiler:
    """Compiles ``where`` of Parameter scopes on a parameter alias (``p``) with unit conversion."""

    mx: MxCatalogue
    types_cache: dict[str, list[tuple[int, str | None, str]]] = field(default_factory=dict)

    def names(self, name: str) -> list[str]:
        resolved = self.mx.ontology.resolve(name)
        return list(dict.fromkeys([resolved.icat_name, name] if resolved else [name]))

    def types(self, name: str) -> list[tuple[int, str | None, str]]:
        """``(id, units, valueType)`` of the ParameterTypes a parameter name stands for."""
        if name not in self.types_cache:
            rows = self.mx.session.search(
                "SELECT pt.id, pt.units, pt.valueType FROM ParameterType pt "
                f"WHERE pt.name IN {jpql.strings(self.names(name))} ORDER BY pt.id")
            self.types_cache[name] = [(int(r[0]), r[1], str(r[2])) for r in rows]
        return self.types_cache[name]

    def compile(self, where: Mapping[str, Any], alias: str, name: str | None = None,
                unit: str | None = None) -> str:
        items = [{k: v} for k, v in where.items()]
        if len(items) == 1 and "and" in items[0]:
            items = list(items[0]["and"])
        # name/unit equalities at this level give the context of value conditions beside them
        for item in items:
            if isinstance(item, Mapping) and set(item) == {"name"} and not isinstance(item["name"], Mapping):
                name = str(item["name"])
            if isinstance(item, Mapping) and set(item) == {"unit"} and not isinstance(item["unit"], Mapping):
                unit = None if item["unit"] in (None, "") else str(item["unit"])
        parts = []
        for item in items:
            if not isinstance(item, Mapping):
                raise _error(f"parameter conditions must be objects, got {item!r}")
            for key, value in item.items():
                parts.append(self.leaf(key, value, alias, name, unit))
        return "(" + " AND ".join(parts) + ")" if parts else "1 = 1"

    def leaf(self, key: str, value: Any, alias: str, name: str | None, unit: str | None) -> str:
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise _error(f"{key} needs a non-empty list of conditions")
            if key == "and":
                return self.compile({"and": value}, alias, name, unit)
            return "(" + " OR ".join(self.compile(v, alias, name, unit) for v in value) + ")"
        if key == "name":
            out = []
            for op, operand in leaves(value):
                if op in ("eq", "inq", "neq", "nin"):
                    names = operand if isinstance(operand, list) else [operand]
                    if not all(isinstance(n, str) for n in names) or not names:
                        raise _error(f"parameter name must be text, got {operand!r}")
                    expanded = [x for n in names for x in self.names(n)]
                    cond = f"{alias}.type.name IN {jpql.strings(expanded)}"
                    out.append(cond if op in ("eq", "inq") else f"NOT ({cond})")
                else:
                    out.append(condition(f"{alias}.type.name", "str", op, operand))
            return " AND ".join(out)
        if key == "unit":
            return "1 = 1"  # a unit only says in which unit the values are written
        if key == "value":
            return self.value(value, alias, name, unit)
        raise _error(f"unknown parameter field {key!r}; known: name, value, unit")

    def value(self, value: Any, alias: str, name: str | None, unit: str | None) -> str:
        conditions = leaves(value)
        sample = conditions[0][1]
        sample = sample[0] if isinstance(sample, list) and sample else sample
        if isinstance(sample, str):
            return " AND ".join(condition(f"{alias}.stringValue", "str", op, v) for op, v in conditions)
        if name is None:
            return " AND ".join(condition(f"{alias}.numericValue", "number", op, v) for op, v in conditions)
        alternatives = []
        for type_id, stored_unit, _ in self.types(name):
            converted = [(op, self.convert(v, unit, stored_unit)) for op, v in conditions]
            body = " AND ".join(self.numeric(f"{alias}.numericValue", op, v) for op, v in converted)
            alternatives.append(f"({alias}.type.id = {type_id} AND {body})")
        return "(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0"

    @staticmethod
    def numeric(path: str, op: str, value: Any) -> str:
        """A numeric condition; equality within a relative 1e-9 (values went through unit conversion)."""
        if op in ("eq", "neq") and isinstance(value, int | float) and not isinstance(value, bool):
            slack = max(abs(value) * 1e-9, 1e-300)
            inside = condition(path, "number", "between", [value - slack, value + slack])
            return inside if op == "eq" else f"(NOT {inside})"
        return condition(path, "number", op, value)

    @staticmethod
    def convert(value: Any, from_unit: str | None, to_unit: str | None) -> Any:
        if isinstance(value, list):
            return [ParameterCompiler.convert(v, from_unit, to_unit) for v in value]
        if not from_unit or not to_unit or to_unit == "N/A" or from_unit == to_unit:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _error(f"parameter value {value!r} must be a number when a unit is given")
        from mxicat.ontology.units import convert_magnitude

        try:
            return float(convert_magnitude(float(value), from_unit, to_unit))
        except ValueError as err:
            raise _error(f"cannot compare {from_unit!r} with stored {to_unit!r}: {err}") from err


# -- evaluation on PaNOSC dicts ------------------------------------------------------------------------

def _like(pattern: str, text: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, datetime) and isinstance(b, str):
        try:
            parsed = datetime.fromisoformat(b.replace("Z", "+00:00"))
        except ValueError:
            return str(a), b
        if (a.tzinfo is None) != (parsed.tzinfo is None):
            a, parsed = jpql.to_utc_naive(a), jpql.to_utc_naive(parsed)
        return a, parsed
    return a, b


def condition_matches(actual: Any, op: str, operand: Any) -> bool:
    """Whether ``actual`` satisfies one LoopBack operator (SQL-like: comparisons with null are false)."""
    if op == "eq":
        return bool(actual == operand) if operand is None or actual is None else \
            _comparable(actual, operand)[0] == _comparable(actual, operand)[1]
    if op == "neq":
        return not condition_matches(actual, "eq", operand)
    if op == "inq":
        return any(condition_matches(actual, "eq", v) for v in (operand or []))
    if op == "nin":
        return not condition_matches(actual, "inq", operand)
    if actual is None:
        return False
    if op in ("like", "nlike", "ilike", "nilike"):
        hit = _like(str(operand), str(actual), ignore_case=op.endswith("ilike"))
        return not hit if op.startswith("n") else hit
    try:
        if op == "between":
            lo, hi = operand
            return bool(_comparable(actual, lo)[1] <= _comparable(actual, lo)[0]
                        and _comparable(actual, hi)[0] <= _comparable(actual, hi)[1])
        a, b = _comparable(actual, operand)
        return bool({"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op])
    except (TypeError, KeyError, ValueError):
        return False


def matches(obj: Mapping[str, Any], where: Mapping[str, Any],
            text_fields: Sequence[str] = ()) -> bool:
    """Whether a PaNOSC-shaped object satisfies ``where`` (used to trim included relations)."""
    for key, value in where.items():
        if key == "and":
            if not all(matches(obj, w, text_fields) for w in value):
                return False
        elif key == "or":
            if not any(matches(obj, w, text_fields) for w in value):
                return False
        elif key == "text":
            needle = str(value).lower()
            if not any(needle in str(obj.get(f) or "").lower() for f in text_fields):
                return False
        else:
            if not all(condition_matches(obj.get(key), op, operand) for op, operand in leaves(value)):
                return False
    return True


def parameter_matches(param: Mapping[str, Any], where: Mapping[str, Any], ontology: Any) -> dict[str, Any] | None:
    """The parameter, expressed in the query's name and unit, when it satisfies ``where``; else None.

    ``param`` is ``{"name", "value", "unit"}`` in canonical names and units.
    """
    items = [{k: v} for k, v in where.items()]
    if len(items) == 1 and "and" in items[0]:
        items = list(items[0]["and"])
    name = next((i["name"] for i in items if set(i) == {"name"} and isinstance(i["name"], str)), None)
    unit = next((i["unit"] for i in items if set(i) == {"unit"} and isinstance(i["unit"], str)), None)
    view = dict(param)
    if name is not None:
        mine = ontology.resolve(str(param["name"]))
        theirs = ontology.resolve(name)
        if mine is not None and theirs is not None and mine.key == theirs.key:
            view["name"] = name
    if unit and param.get("unit") and isinstance(param.get("value"), int | float) and unit != param["unit"]:
        try:
            view["value"] = ParameterCompiler.convert(param["value"], str(param["unit"]), unit)
            view["unit"] = unit
        except BadParameterError:
            return None
    return view if matches(view, where) else None
