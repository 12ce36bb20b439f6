"""The MX filter language (:mod:`mxicat.mx.filters`) → a LoopBack filter for PaNOSC peers.

What a PaNOSC search API can express: conditions on a dataset's ``title`` and ``creationDate``, and
``include`` scopes on ``instrument``, ``techniques``, ``samples`` and ``parameters`` (name, value, unit),
all ANDed. ``or`` works between plain dataset fields only; ``not`` and ``in_group`` are not expressible.
Anything else raises :class:`~mxicat.errors.BadParameterError`, which the fan-out reports as that site's
error (never silently widening the query).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mxicat.errors import BadParameterError
from mxicat.mx.filters import And, Call, Compare, Node, Not, Or, parse_filter

_WHERE = {"name": "title", "dataset": "title", "start_time": "creationDate", "start_date": "creationDate"}
_RELATIONS = {"beamline": "instrument", "instrument": "instrument", "technique": "techniques",
              "sample": "samples", "sample_name": "samples"}
_OPS = {"=": "eq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "like": "like",
        "notlike": "nlike", "in": "inq", "notin": "nin"}


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _condition(node: Compare) -> dict[str, Any]:
    if node.op in ("isnull", "notnull"):
        return {"neq" if node.op == "notnull" else "eq": None}
    op = _OPS[node.op]
    return {op: _value(node.value)} if op != "eq" else _value(node.value)


def _unsupported(what: str) -> BadParameterError:
    return BadParameterError(f"{what} cannot be expressed as a PaNOSC filter")


def _leaf(node: Compare, out: dict[str, Any]) -> None:
    key = node.field
    if key in _WHERE:
        out["where"].append({_WHERE[key]: _condition(node)})
        return
    if key in _RELATIONS:
        out["include"].append({"relation": _RELATIONS[key], "scope": {"where": {"name": _condition(node)}}})
        return
    from mxicat.ontology import load_ontology

    resolved = load_ontology().resolve(key)
    name = resolved.key if resolved is not None else key
    unit = node.unit or (resolved.term.unit if resolved is not None and resolved.term.unit else None)
    parts: list[dict[str, Any]] = [{"name": name}]
    if node.op not in ("isnull", "notnull"):
        parts.append({"value": _condition(node)})
        if unit and isinstance(node.value, int | float):
            parts.append({"unit": unit})
    elif node.op == "isnull":
        raise _unsupported(f"'{key} is null'")
    out["include"].append({"relation": "parameters", "scope": {"where": {"and": parts}}})


def _walk(node: Node, out: dict[str, Any]) -> None:
    if isinstance(node, And):
        for item in node.items:
            _walk(item, out)
    elif isinstance(node, Or):
        alternatives = []
        for item in node.items:
            if not (isinstance(item, Compare) and item.field in _WHERE):
                raise _unsupported("'or' across parameters or relations")
            alternatives.append({_WHERE[item.field]: _condition(item)})
        out["where"].append({"or": alternatives})
    elif isinstance(node, Not):
        raise _unsupported("'not'")
    elif isinstance(node, Call):
        raise _unsupported(f"{node.name}()")
    else:
        _leaf(node, out)


def to_loopback(text: str | None) -> dict[str, Any]:
    """A LoopBack filter ``{"where": ..., "include": [...]}`` equivalent to an MX filter."""
    if not text or not text.strip():
        return {}
    parts: dict[str, Any] = {"where": [], "include": []}
    _walk(parse_filter(text), parts)
    result: dict[str, Any] = {}
    if parts["where"]:
        result["where"] = parts["where"][0] if len(parts["where"]) == 1 else {"and": parts["where"]}
    if parts["include"]:
        result["include"] = parts["include"]
    return result
