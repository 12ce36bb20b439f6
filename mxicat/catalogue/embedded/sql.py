"""ICAT query AST → SQLAlchemy Core, for the embedded SQLite catalogue.

API (used by the store, B, and by the authorizer, E)::

    compile_query(query, *, restrict=None, params=None) -> CompiledQuery
        ``query`` is query text (JPQL or concise) or a parsed :class:`mxicat.query.ast.Query`.
        ``restrict(entity_name, table_alias) -> ColumnElement[bool] | None`` is called once for every
        *selected* identification path (the selected entity, or the entity owning a selected attribute or
        aggregate argument -- ICAT's ``authzMap``, icat.md §6.3) and its result is ANDed to the WHERE
        clause; entities that occur only in FROM/JOIN/WHERE are not passed to it. ``params`` binds named
        parameters (``{"user": "db/jdoe"}`` for ``:user``).
    execute(conn, compiled, *, max_entities=None, can_read=None, params=None) -> list
        Runs it and returns ICAT REST-shaped results: ``[{"Dataset": {...}}, ...]`` for entities (INCLUDEs
        attached, ``can_read`` as for ``fetch_includes``), bare values for one selected attribute/aggregate,
        lists for several (entities in a row as ``{"Dataset": {...}}``); ``[n]`` for COUNT (``[0]`` on no
        data), ``[None]`` for MIN/MAX/AVG/SUM on no data. More than ``max_entities`` results (INCLUDEd
        objects counted) → ``ValidationError``; aggregate-only queries are exempt. ``params`` supplies
        parameters left unbound at compile time (``BadParameterError`` naming any still missing).
    id_subquery(query, *, params=None, ids=None) -> Select
        ``SELECT <selected entity>.ID FROM … WHERE …`` (no ORDER/LIMIT/INCLUDE): a rule's ``what`` as an id
        set, e.g. ``Dataset_alias.c.ID.in_(id_subquery(rule_ast, params={"user": name}))``. ``ids``
        additionally restricts to those ids (ICAT's includeJPQL / crudJPQL with ``:pkids``/``:pkid``).
        Parameters missing from ``params`` stay named bind parameters (``bindparam("user")``) to be
        supplied at execution. Embed only ``id_subquery`` results into ``compile_query`` statements (they
        draw table aliases from separate pools, so the two never correlate by accident).
    fetch_includes(conn, entity_name, objs, include_tree, *, can_read=None) -> int
        Attach INCLUDEd relations to entity dicts (the inner dicts, with ``id``), following
        ``include_tree`` (``{"datafiles": {"parameters": {}}, "type": {}}``); returns the number of objects
        attached. ``can_read(origin_entity, relation, target_entity, ids) -> ids`` lets the authorizer drop
        unreadable objects (ICAT drops them silently, icat.md §6.4).
    include_tree(entity_name, include_clause, alias) -> dict
        The tree for an ``INCLUDE`` clause whose paths start at ``alias`` (``INCLUDE 1`` = every N:1
        relation, one level). ``CompiledQuery.include`` holds it for a compiled query.
    parse(query) -> ast.Query
        Query text (either syntax) → AST with this schema; an AST passes through.
    parse_get(query, id) -> ast.Query
        ICAT ``get`` queries (``Dataset ds INCLUDE ds.datafiles``, ``Dataset INCLUDE 1``, old-style
        ``Dataset INCLUDE Datafile, DatasetParameter``) as ``SELECT ds FROM Dataset ds WHERE ds.id = id …``.
    MODEL
        The :class:`mxicat.query.concise.EntityModel` over the schema (for parsing concise syntax).

Semantics: every literal, parameter, LIKE pattern and ESCAPE character is a bound SQL parameter; only
schema names (from :mod:`schema`) and anonymous alias names reach the SQL text. Paths through N:1
relations imply inner joins (as in JPQL; ordering by a nullable relation drops rows where it is null), except
that in WHERE/HAVING ``x.rel.id`` and entity comparisons (``x.rel = y``) use the foreign-key column directly.
1:N relations are only followed by JOIN / FROM path declarations (or concise ``<->``), by ``IS EMPTY``,
``MEMBER OF`` and ``SIZE``. Datetimes are stored naive UTC; aware datetimes are converted, naive ones (and
``{ts …}`` literals) are taken as UTC; results come back aware UTC. ``LIKE`` is SQLite's (case-insensitive
for ASCII, as on ICAT's usual MySQL collation). ``CURRENT_TIMESTAMP`` is evaluated by SQLite at run time.

The clause-by-clause translation is :mod:`.sqlcompiler`; running a compiled query and shaping its rows (with
INCLUDE fetches) is :mod:`.sqlresults`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mxicat.catalogue.embedded.schema import ENTITIES, FieldInfo
from mxicat.catalogue.embedded.sqlcompiler import Compiler, Var
from mxicat.errors import BadParameterError
from mxicat.query import ast
from mxicat.query.concise import parse_get as _parse_get
from mxicat.query.parser import parse_query

Restrict = Callable[[str, sa.FromClause], "ColumnElement[bool] | None"]
CanRead = Callable[[str, str, str, Sequence[int]], Collection[int]]
IncludeTree = dict[str, "IncludeTree"]

CHUNK = 500  # ids per IN (…) when fetching INCLUDEs (ICAT's maxIdsInQuery)


class SchemaModel:
    """:class:`mxicat.query.concise.EntityModel` over :data:`schema.ENTITIES`."""

    def is_entity(self, name: str) -> bool:
        return name in ENTITIES

    def relations(self, entity: str) -> list[tuple[str, str, bool]]:
        return [(r.name, r.target, r.many) for r in ENTITIES[entity].relations.values()]

    def has_field(self, entity: str, name: str) -> bool:
        info = ENTITIES[entity]
        return name in info.fields or name in info.relations


MODEL = SchemaModel()


def parse(query: str | ast.Query) -> ast.Query:
    """Parse query text (JPQL or concise) with this schema; pass an AST through."""
    return query if isinstance(query, ast.Query) else parse_query(query, MODEL)


def parse_get(query: str, obj_id: int) -> ast.Query:
    """The search behind ICAT's ``get(query, id)`` (``Dataset ds INCLUDE ds.datafiles``, ``Dataset INCLUDE 1``,
    ``Dataset INCLUDE Datafile``) with this schema; compile it with :func:`compile_query`."""
    return _parse_get(query, obj_id, MODEL)


# ------------------------------------------------------------------------------------------ compiled form


@dataclass
class Item:
    """How to turn the columns of one SELECT item back into a value."""

    kind: str  # "entity" | "value"
    entity: str | None = None  # for "entity"
    columns: list[str] = field(default_factory=list)  # physical names, for "entity"
    field: FieldInfo | None = None  # for "value" from a column
    width: int = 1


@dataclass
class CompiledQuery:
    """A compiled query: the Core ``select`` plus what is needed to shape its rows."""

    select: sa.Select[Any]
    items: list[Item]
    count_only: bool  # only aggregates are selected: one row, never limited by maxEntities
    include: IncludeTree | None
    query: ast.Query
    limited: int | None  # LIMIT count if any
    unbound: set[str] = field(default_factory=set)  # parameters without value


# ------------------------------------------------------------------------------------------ entry points


def compile_query(query: str | ast.Query, *, restrict: Restrict | None = None,
                  params: dict[str, Any] | None = None) -> CompiledQuery:
    """Compile query text or AST to a Core SELECT (see the module docstring).

    Raises:
        BadParameterError: malformed query, unknown entity/field/variable, misuse of a relation.
    """
    q = parse(query)
    c = Compiler(params)
    c.declare(q.from_)
    items: list[Item] = []
    columns: list[ColumnElement[Any]] = []
    authz: dict[int, Var] = {}
    for it in q.select.items:
        if isinstance(it, ast.Path):
            var, f, col = c.resolve(it, where=False)
            authz[id(var)] = var
            if f is None:
                names = [col_.name for col_ in var.table.c]
                if len(q.select.items) == 1:  # no labels needed (and none to build) for the common case
                    columns.extend(var.table.c[n] for n in names)
                else:  # labels keep repeated columns (SELECT ds, ds.id) from being merged
                    columns.extend(var.table.c[n].label(f"c{len(columns) + k}") for k, n in enumerate(names))
                items.append(Item("entity", var.entity, names, width=len(names)))
                continue
            items.append(Item("value", field=f))
            columns.append(col.label(f"c{len(columns)}"))
            continue
        f = None
        if isinstance(it, ast.Aggregate):
            if isinstance(it.arg, ast.Path):
                var, argf, _col = c.resolve(it.arg, where=False)
                authz[id(var)] = var
                f = argf if it.name in ("MIN", "MAX") else None
        items.append(Item("value", field=f))
        columns.append(c.expr(it).label(f"c{len(columns)}"))
    stmt = sa.select(*columns)
    if q.select.distinct:
        stmt = stmt.distinct()
    where: list[ColumnElement[bool]] = []
    if q.where is not None:
        where.append(c.cond(q.where))
    if restrict is not None:
        for var in authz.values():
            extra = restrict(var.entity, var.table)
            if extra is not None:
                where.append(extra)
    if where:
        stmt = stmt.where(*where)
    if q.group_by:
        stmt = stmt.group_by(*(c.expr(g) for g in q.group_by))
    if q.having is not None:
        stmt = stmt.having(c.cond(q.having))
    for o in q.order_by:
        key = c.expr(o.expr)
        stmt = stmt.order_by(key.desc() if o.descending else key.asc())
    if q.limit is not None:
        if q.limit.offset:
            stmt = stmt.offset(q.limit.offset)
        if q.limit.count is not None:
            stmt = stmt.limit(q.limit.count)
    stmt = stmt.select_from(c.from_clause())
    count_only = all(isinstance(it, ast.Aggregate) for it in q.select.items)
    tree = None
    if q.include is not None:
        if len(q.select.items) != 1:
            raise BadParameterError("INCLUDE is only valid for one quantity in the SELECT clause")
        first = q.select.items[0]
        root = first.arg if isinstance(first, ast.Aggregate) else first
        if not (isinstance(root, ast.Path) and len(root.parts) == 1):
            raise BadParameterError("INCLUDE needs an identification variable as the selected quantity")
        tree = include_tree(c.lookup(root.parts[0], root.pos).entity, q.include, root.parts[0])
        if items[0].kind != "entity":
            tree = None  # ICAT applies INCLUDE to entity results only
    return CompiledQuery(stmt, items, count_only, tree, q,
                         q.limit.count if q.limit is not None else None, set(c.unbound))


def id_subquery(query: str | ast.Query, *, params: dict[str, Any] | None = None,
                ids: Sequence[int] | None = None) -> sa.Select[Any]:
    """``SELECT <selected entity>.ID FROM … WHERE …`` of a query selecting one entity (for rules).

    Raises:
        BadParameterError: malformed query, or it does not select exactly one entity.
    """
    q = parse(query)
    c = Compiler(params, namespace="r")
    c.declare(q.from_)
    if len(q.select.items) != 1 or not isinstance(q.select.items[0], ast.Path):
        raise BadParameterError("A rule must select exactly one entity (SELECT x FROM …)")
    var, f, col = c.resolve(q.select.items[0], where=False)
    if f is not None:
        raise BadParameterError(f"A rule must select an entity, not the attribute {q.select.items[0]}")
    stmt = sa.select(col)
    if q.where is not None:
        stmt = stmt.where(c.cond(q.where))
    if ids is not None:
        stmt = stmt.where(col.in_(list(ids)))
    return stmt.select_from(c.from_clause())


def include_tree(entity: str, clause: ast.IncludeClause, alias: str = "") -> IncludeTree:
    """The relation tree of an INCLUDE clause whose paths start at ``alias`` (the selected variable).

    Raises:
        BadParameterError: unknown variable, unknown relation, or an attribute in an INCLUDE path.
    """
    info = ENTITIES[entity]
    if clause.one:
        return {name: {} for name in info.one}
    tree: IncludeTree = {}
    known: dict[str, tuple[str, IncludeTree]] = {alias.upper(): (entity, tree)}
    for step in clause.steps:
        start = known.get(step.path.parts[0].upper())
        if start is None:
            raise BadParameterError(f"Variable {step.path.parts[0]} mentioned in INCLUDE clause is not defined",
                                    offset=step.path.pos)
        here, node = start
        for part in step.path.parts[1:]:
            rel = ENTITIES[here].relations.get(part)
            if rel is None:
                raise BadParameterError(f"Problem with INCLUDE clause: {part} is not a relationship of {here}",
                                        offset=step.path.pos)
            node = node.setdefault(part, {})
            here = rel.target
        if step.alias is not None:
            if step.alias.upper() in known:
                raise BadParameterError(f"Variable {step.alias} mentioned in INCLUDE clause is already defined",
                                        offset=step.path.pos)
            known[step.alias.upper()] = (here, node)
    return tree


from mxicat.catalogue.embedded.sqlresults import execute, fetch_includes  # noqa: E402

__all__ = [
    "MODEL", "CompiledQuery", "SchemaModel", "compile_query", "execute", "fetch_includes", "id_subquery",
    "include_tree", "parse", "parse_get",
]
