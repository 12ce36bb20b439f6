"""Running compiled queries and shaping rows as ICAT REST results (icat.md §7.2); INCLUDE fetches.

Public entry points are re-exported by :mod:`mxicat.catalogue.embedded.sql` (``execute``,
``fetch_includes``); see its docstring for the contract. Entity rows become dicts through
:func:`schema.row_to_entity` (meta fields, non-null attributes, every 1:N collection as ``[]``); INCLUDEd
relations are then fetched level by level with ``WHERE … IN (…)`` batches of :data:`sql.CHUNK` ids and
attached: 1:N as lists ordered by id, N:1 as a nested object (omitted when null or unreadable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import ENTITIES, TABLES, row_to_entity, value_from_db
from mxicat.errors import BadParameterError, ValidationError

if TYPE_CHECKING:
    from mxicat.catalogue.embedded.sql import CanRead, CompiledQuery, IncludeTree, Item

CHUNK = 500
#: SQLite errors that mean the query is wrong (JPQL the parser accepts but SQL semantics reject)
_QUERY_MISTAKES = ("misuse of aggregate", "ESCAPE expression", "HAVING clause", "aggregate functions are not allowed",
                   "wrong number of arguments", "LIKE or GLOB pattern too complex", "too many SQL variables",
                   "Expression tree is too large", "parser stack overflow", "too many terms")


def execute(conn: sa.Connection, compiled: CompiledQuery, *, max_entities: int | None = None,
            can_read: CanRead | None = None, params: dict[str, Any] | None = None) -> list[Any]:
    """Run a compiled query; ICAT-shaped results (see :mod:`sql`).

    Raises:
        ValidationError: more than ``max_entities`` results (INCLUDEd objects counted; COUNT exempt).
        BadParameterError: a named parameter has no value.
    """
    missing = compiled.unbound - set(params or {})
    if missing:
        raise BadParameterError(f"No value for query parameter(s) {', '.join(':' + m for m in sorted(missing))}")
    stmt = compiled.select
    probe = (max_entities is not None and not compiled.count_only
             and (compiled.limited is None or compiled.limited > max_entities))
    if probe:
        assert max_entities is not None
        stmt = stmt.limit(max_entities + 1)
    try:
        rows = conn.execute(stmt, params or {}).all()
    except sa.exc.OperationalError as err:
        message = str(err.orig)
        if any(m in message for m in _QUERY_MISTAKES):  # SQLite rejects the query itself, not the database
            raise BadParameterError(f"Invalid query: {message}") from err
        raise
    if probe and max_entities is not None and len(rows) > max_entities:
        raise ValidationError(f"attempt to return more than {max_entities} entities")
    items = compiled.items
    if len(items) == 1:
        item = items[0]
        if item.kind == "entity":
            assert item.entity is not None
            info = ENTITIES[item.entity]
            raws: list[Mapping[str, Any]] = [dict(zip(item.columns, row, strict=True)) for row in rows]
            objs = [row_to_entity(info, raw) for raw in raws]
            if compiled.include:
                n = _attach(conn, item.entity, objs, raws, compiled.include, can_read)
                if max_entities is not None and len(objs) + n > max_entities:
                    raise ValidationError(f"attempt to return more than {max_entities} entities")
            return [{item.entity: obj} for obj in objs]
        return [_value(item, row[0]) for row in rows]
    return [_row(items, row) for row in rows]


def _row(items: list[Item], row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    i = 0
    for item in items:
        if item.kind == "entity":
            assert item.entity is not None
            raw = dict(zip(item.columns, row[i : i + item.width], strict=True))
            out.append({item.entity: row_to_entity(ENTITIES[item.entity], raw)})
        else:
            out.append(_value(item, row[i]))
        i += item.width
    return out


def _value(item: Item, value: Any) -> Any:
    if item.field is not None:
        return value_from_db(item.field, value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, float) and value != value:  # NaN -> null, as ICAT
        return None
    return value


def fetch_includes(conn: sa.Connection, entity_name: str, objs: Sequence[dict[str, Any]],
                   include_tree: IncludeTree, *, can_read: CanRead | None = None) -> int:
    """Attach INCLUDEd relations to entity dicts (inner dicts with ``id``); the number of objects attached.

    Raises:
        BadParameterError: a relation in the tree does not exist.
    """
    return _attach(conn, entity_name, list(objs), None, include_tree, can_read)


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    uniq = sorted(set(ids))
    return [uniq[i : i + CHUNK] for i in range(0, len(uniq), CHUNK)]


def _attach(conn: sa.Connection, entity_name: str, objs: list[dict[str, Any]],
            raws: list[Mapping[str, Any]] | None, tree: IncludeTree, can_read: CanRead | None) -> int:
    if not objs or not tree:
        return 0
    info = ENTITIES[entity_name]
    table = TABLES[entity_name]
    attached = 0
    fk_of: dict[int, Mapping[Any, Any]] = {}
    ones = [info.relations[n] for n in tree if n in info.relations and not info.relations[n].many]
    if ones:
        if raws is not None:
            fk_of = {int(r["ID"]): r for r in raws}
        else:
            cols = [table.c.ID, *(table.c[r.column or ""] for r in ones)]
            for chunk in _chunks([o["id"] for o in objs]):
                for row in conn.execute(sa.select(*cols).where(table.c.ID.in_(chunk))):
                    fk_of[int(row[0])] = row._mapping
    for rel_name, subtree in tree.items():
        rel = info.relations.get(rel_name)
        if rel is None:
            raise BadParameterError(f"Problem with INCLUDE clause: {rel_name} is not a relationship of "
                                    f"{entity_name}")
        target = ENTITIES[rel.target]
        ttable = TABLES[rel.target]
        if rel.many:
            back = target.relations[rel.mapped_by or ""]
            fk = ttable.c[back.column or ""]
            rows: list[Any] = []
            for chunk in _chunks([o["id"] for o in objs]):
                rows.extend(conn.execute(sa.select(ttable).where(fk.in_(chunk)).order_by(ttable.c.ID)).all())
            rows = _readable(rows, can_read, entity_name, rel_name, rel.target)
            children: dict[int, list[dict[str, Any]]] = {}
            child_objs: list[dict[str, Any]] = []
            child_raws: list[Mapping[str, Any]] = []
            for row in rows:
                m = row._mapping
                child = row_to_entity(target, m)
                children.setdefault(int(m[back.column or ""]), []).append(child)
                child_objs.append(child)
                child_raws.append(m)
            for o in objs:
                o[rel_name] = children.get(o["id"], [])
            attached += len(child_objs)
            attached += _attach(conn, rel.target, child_objs, child_raws, subtree, can_read)
        else:
            col = rel.column or ""
            wanted = [int(fk_of[o["id"]][col]) for o in objs
                      if o["id"] in fk_of and fk_of[o["id"]][col] is not None]
            rows = []
            for chunk in _chunks(wanted):
                rows.extend(conn.execute(sa.select(ttable).where(ttable.c.ID.in_(chunk))).all())
            rows = _readable(rows, can_read, entity_name, rel_name, rel.target)
            by_id = {int(r._mapping["ID"]): (row_to_entity(target, r._mapping), r._mapping) for r in rows}
            for o in objs:
                ref = fk_of.get(o["id"], {}).get(col)
                if ref is not None and int(ref) in by_id:
                    o[rel_name] = by_id[int(ref)][0]
                    attached += 1
            attached += _attach(conn, rel.target, [v[0] for v in by_id.values()],
                                [v[1] for v in by_id.values()], subtree, can_read)
    return attached


def _readable(rows: list[Any], can_read: CanRead | None, origin: str, rel: str, target: str) -> list[Any]:
    if can_read is None or not rows:
        return rows
    ok = set(can_read(origin, rel, target, [int(r._mapping["ID"]) for r in rows]))
    return [r for r in rows if int(r._mapping["ID"]) in ok]
