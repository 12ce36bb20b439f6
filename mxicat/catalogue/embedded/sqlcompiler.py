"""Query AST clauses → SQLAlchemy Core expressions: identification variables, joins, paths, values, conditions.

The working part of :func:`mxicat.catalogue.embedded.sql.compile_query` and ``id_subquery`` (whose module docstring
states the semantics): a :class:`Compiler` holds the identification variables of one SELECT (sub-selects get a
child compiler that sees the outer variables), each bound to a pooled table alias, and turns paths,
expressions and conditions into Core elements whose values are always bound parameters.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mxicat.catalogue.embedded.schema import (
    ENTITIES,
    TABLES,
    EntityInfo,
    FieldInfo,
    to_db_datetime,
)
from mxicat.errors import BadParameterError
from mxicat.query import ast

# ------------------------------------------------------------------------------------------ scopes


_LIGHT: dict[str, sa.TableClause] = {
    name: sa.table(t.name, *(sa.column(c.name, c.type) for c in t.c)) for name, t in TABLES.items()
}
_POOL: dict[tuple[str, str, int], sa.FromClause] = {}


def _alias(entity: str, namespace: str, counts: dict[str, int]) -> sa.FromClause:
    """The next alias of ``entity`` in one compiled statement.

    Aliases are drawn from a pool (index = how many aliases of the entity the statement already uses) so that
    their column collections are built once and SQLAlchemy's statement cache sees identical structures.
    Main queries and rule sub-queries (:func:`.sql.id_subquery`) use separate namespaces, so a rule sub-query
    embedded in a main query never shares an alias object with it (which would correlate them).
    """
    k = counts.get(entity, 0)
    counts[entity] = k + 1
    key = (namespace, entity, k)
    alias = _POOL.get(key)
    if alias is None:
        alias = _LIGHT[entity].alias()
        _ = alias.c  # populate the column collection now, once
        alias = _POOL.setdefault(key, alias)
    return alias


class Var:
    """An identification variable (or an implicit N:1 navigation) bound to an aliased table."""

    def __init__(self, entity: str, root: _Root, table: sa.FromClause) -> None:
        self.entity = entity
        self.info: EntityInfo = ENTITIES[entity]
        self.table = table
        self.root = root
        self.nav: dict[str, Var] = {}


class _Root:
    """One range declaration and the joins hanging off it."""

    def __init__(self) -> None:
        self.base: Var | None = None
        self.joins: list[tuple[sa.FromClause, ColumnElement[bool], bool]] = []

    def from_clause(self) -> sa.FromClause:
        assert self.base is not None
        j: sa.FromClause = self.base.table
        for table, on, outer in self.joins:
            j = j.join(table, on, isouter=outer)
        return j


def _join_on(src: Var, rel_name: str, dst: Var) -> ColumnElement[bool]:
    rel = src.info.relations[rel_name]
    if rel.many:
        back = dst.info.relations[rel.mapped_by or ""]
        return dst.table.c[back.column or ""] == src.table.c.ID
    return dst.table.c.ID == src.table.c[rel.column or ""]


class Compiler:
    """Identification variables and joins of one SELECT (or sub-select, with ``parent``) and the translation
    of its paths, expressions and conditions; aliases come from the ``namespace`` pool (``"q"`` for queries,
    ``"r"`` for rule sub-queries)."""

    def __init__(self, params: dict[str, Any] | None, parent: Compiler | None = None,
                 namespace: str = "q") -> None:
        self.params = params or {}
        self.parent = parent
        self.vars: dict[str, Var] = {}
        self.roots: list[_Root] = []
        self.unbound: set[str] = parent.unbound if parent else set()
        self.namespace: str = parent.namespace if parent else namespace
        self.counts: dict[str, int] = parent.counts if parent else {}

    def new_var(self, entity: str, root: _Root) -> Var:
        return Var(entity, root, _alias(entity, self.namespace, self.counts))

    # -------------------------------------------------------------- FROM

    def declare(self, from_: ast.FromClause) -> None:
        for decl in from_.decls:
            key = decl.alias.upper()
            if key in self.vars:
                raise BadParameterError(f"Identification variable {decl.alias} is defined twice",
                                        offset=decl.pos)
            if isinstance(decl, ast.RangeDecl):
                if decl.entity not in ENTITIES:
                    raise BadParameterError(f"Unknown entity {decl.entity!r} in FROM clause (position "
                                            f"{decl.pos})", offset=decl.pos)
                root = _Root()
                var = self.new_var(decl.entity, root)
                root.base = var
                self.roots.append(root)
            else:
                src = self.entity_var(ast.Path(decl.path.parts[:-1], decl.pos))
                rel_name = decl.path.parts[-1]
                rel = src.info.relations.get(rel_name)
                if rel is None:
                    raise BadParameterError(f"{src.entity} has no relationship field {rel_name} (position "
                                            f"{decl.pos})", offset=decl.pos)
                var = self.new_var(rel.target, src.root)
                src.root.joins.append((var.table, _join_on(src, rel_name, var), decl.kind == "LEFT"))
            self.vars[key] = var

    def lookup(self, alias: str, pos: int) -> Var:
        c: Compiler | None = self
        while c is not None:
            v = c.vars.get(alias.upper())
            if v is not None:
                return v
            c = c.parent
        raise BadParameterError(f"Identification variable {alias} (position {pos}) is not defined",
                                offset=pos)

    def navigate(self, var: Var, rel_name: str, pos: int) -> Var:
        """Follow an N:1 relation implicitly (inner join, memoised per variable and relation)."""
        rel = var.info.relations.get(rel_name)
        if rel is None:
            raise _unknown(var.info, rel_name, pos)
        if rel.many:
            raise BadParameterError(
                f"{var.entity}.{rel_name} (position {pos}) is a 1:N collection; declare it with JOIN to use it",
                offset=pos)
        nxt = var.nav.get(rel_name)
        if nxt is None:
            nxt = self.new_var(rel.target, var.root)
            var.root.joins.append((nxt.table, _join_on(var, rel_name, nxt), False))
            var.nav[rel_name] = nxt
        return nxt

    def entity_var(self, path: ast.Path) -> Var:
        var = self.lookup(path.parts[0], path.pos)
        for part in path.parts[1:]:
            var = self.navigate(var, part, path.pos)
        return var

    # -------------------------------------------------------------- paths

    def resolve(self, path: ast.Path, *, where: bool) -> tuple[Var, FieldInfo | None, ColumnElement[Any]]:
        """(owning variable, field or None for an entity, SQL expression) of a path."""
        var = self.lookup(path.parts[0], path.pos)
        parts = path.parts[1:]
        if not parts:
            return var, None, var.table.c.ID
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            f = var.info.fields.get(part)
            if f is not None:
                if not last:
                    raise BadParameterError(f"{var.entity}.{part} is an attribute; cannot follow "
                                            f"{'.'.join(parts[i + 1:])} (position {path.pos})", offset=path.pos)
                return var, f, var.table.c[f.column]
            rel = var.info.relations.get(part)
            if rel is None:
                raise _unknown(var.info, part, path.pos)
            if where and not rel.many:
                # x.rel.id and x.rel (as a value) need no join: the foreign key holds the id
                if last:
                    return var, None, var.table.c[rel.column or ""]
                if i == len(parts) - 2 and parts[-1] == "id":
                    target = ENTITIES[rel.target]
                    return var, target.fields["id"], var.table.c[rel.column or ""]
            var = self.navigate(var, part, path.pos)
        return var, None, var.table.c.ID

    def collection(self, path: ast.Path) -> tuple[Var, str, sa.FromClause, ColumnElement[bool]]:
        """A 1:N path for IS EMPTY / MEMBER OF / SIZE: (owner, relation, child alias, correlation)."""
        owner = self.entity_var(ast.Path(path.parts[:-1], path.pos)) if len(path.parts) > 1 else None
        if owner is None:
            raise BadParameterError(f"{path} (position {path.pos}) is not a collection path", offset=path.pos)
        rel = owner.info.relations.get(path.parts[-1])
        if rel is None or not rel.many:
            raise BadParameterError(f"{path} (position {path.pos}) is not a 1:N collection", offset=path.pos)
        child = _alias(rel.target, self.namespace, self.counts)
        back = ENTITIES[rel.target].relations[rel.mapped_by or ""]
        return owner, rel.target, child, child.c[back.column or ""] == owner.table.c.ID

    # -------------------------------------------------------------- values

    def bind(self, value: Any, hint: FieldInfo | None, pos: int) -> ColumnElement[Any]:
        if hint is not None:
            value = _coerce(value, hint, pos)
            col_type = TABLES_TYPES[hint.type]
            return sa.literal(value, col_type)
        if isinstance(value, datetime):
            return sa.literal(to_db_datetime(value), sa.DateTime())
        return sa.literal(value)

    def expr(self, e: ast.Expr, *, where: bool = False, hint: FieldInfo | None = None) -> ColumnElement[Any]:
        if isinstance(e, ast.Path):
            return self.resolve(e, where=where)[2]
        if isinstance(e, ast.Literal):
            return self.bind(e.value, hint, e.pos)
        if isinstance(e, ast.EnumLiteral):
            if hint is None or hint.type != "enum":
                raise BadParameterError(f"Enum constant {e.name} (position {e.pos}) is only allowed in a "
                                        "comparison with an enum attribute", offset=e.pos)
            if e.enum_type is not None and e.enum_type != hint.enum_class:
                raise BadParameterError(f"Enum constant {e.enum_type}.{e.name} (position {e.pos}) does not "
                                        f"match {hint.name} of type {hint.enum_class}", offset=e.pos)
            return self.bind(e.name, hint, e.pos)
        if isinstance(e, ast.Param):
            if e.name in self.params:
                value = self.params[e.name]
                type_ = TABLES_TYPES[hint.type] if hint else sa.DateTime() if isinstance(value, datetime) else None
                return sa.bindparam(e.name, self.bind_value(value, hint, e.pos), unique=False, type_=type_)
            self.unbound.add(e.name)
            return sa.bindparam(e.name, type_=TABLES_TYPES[hint.type] if hint else None)
        if isinstance(e, ast.CurrentTime):
            fmt = {"CURRENT_TIMESTAMP": "%Y-%m-%d %H:%M:%f", "CURRENT_DATE": "%Y-%m-%d",
                   "CURRENT_TIME": "%H:%M:%f"}[e.kind]
            return sa.func.strftime(fmt, "now", type_=sa.DateTime() if e.kind == "CURRENT_TIMESTAMP"
                                    else sa.String())
        if isinstance(e, ast.Arith):
            left = self.expr(e.left, where=where, hint=hint)
            right = self.expr(e.right, where=where, hint=hint)
            return _ARITH[e.op](left, right)
        if isinstance(e, ast.Neg):
            return -self.expr(e.operand, where=where, hint=hint)
        if isinstance(e, ast.Aggregate):
            return self.aggregate(e)
        if isinstance(e, ast.Func):
            return self.function(e, where=where)
        if isinstance(e, ast.Subquery):
            sub = Compiler(self.params, self)
            return sub.subquery(e.query).scalar_subquery()
        raise BadParameterError(f"Unsupported expression {e!r}")

    def bind_value(self, value: Any, hint: FieldInfo | None, pos: int) -> Any:
        return _coerce(value, hint, pos) if hint is not None else (
            to_db_datetime(value) if isinstance(value, datetime) else value)

    def field_of(self, e: ast.Expr, *, where: bool) -> FieldInfo | None:
        """The schema field an expression reads directly (to type literals compared with it)."""
        if isinstance(e, ast.Path):
            return self.resolve(e, where=where)[1]
        if isinstance(e, ast.Func) and e.name in ("UPPER", "LOWER", "TRIM", "SUBSTRING", "CONCAT"):
            return None
        if isinstance(e, ast.Aggregate) and e.name in ("MIN", "MAX"):
            return self.field_of(e.arg, where=where)
        return None

    def aggregate(self, e: ast.Aggregate) -> ColumnElement[Any]:
        if isinstance(e.arg, ast.Path):
            _var, f, col = self.resolve(e.arg, where=False)
        else:
            f, col = None, self.expr(e.arg)
        arg: ColumnElement[Any] = sa.distinct(col) if e.distinct else col
        if e.name == "COUNT":
            return sa.func.count(arg)
        if f is None and e.name in ("MIN", "MAX") and isinstance(e.arg, ast.Path):
            raise BadParameterError(f"{e.name} of an entity (position {e.pos}) is not supported", offset=e.pos)
        if e.name == "MIN":
            return sa.func.min(arg)
        if e.name == "MAX":
            return sa.func.max(arg)
        return sa.func.avg(arg) if e.name == "AVG" else sa.func.sum(arg)

    def function(self, e: ast.Func, *, where: bool) -> ColumnElement[Any]:
        if e.name == "SIZE":
            path = e.args[0]
            if not isinstance(path, ast.Path):
                raise BadParameterError(f"SIZE needs a collection path (position {e.pos})", offset=e.pos)
            _owner, _t, child, corr = self.collection(path)
            return sa.select(sa.func.count()).select_from(child).where(corr).scalar_subquery()
        args = [self.expr(a, where=where) for a in e.args]
        if e.name == "CONCAT":
            out = args[0]
            for a in args[1:]:
                out = out.concat(a)
            return out
        if e.name == "TRIM":
            fn = {"BOTH": sa.func.trim, "LEADING": sa.func.ltrim, "TRAILING": sa.func.rtrim}[e.trim_spec or "BOTH"]
            return fn(args[-1], args[0]) if len(args) == 2 else fn(args[0])
        if e.name == "LOCATE":
            needle, hay = args[0], args[1]
            if len(args) == 2:
                return sa.func.instr(hay, needle)
            start = args[2]
            found = sa.func.instr(sa.func.substr(hay, start), needle)
            return sa.case((found == 0, 0), else_=found + start - 1)
        if e.name == "MOD":
            return args[0] % args[1]
        fn = {"UPPER": sa.func.upper, "LOWER": sa.func.lower, "LENGTH": sa.func.length, "ABS": sa.func.abs,
              "SQRT": sa.func.sqrt, "SUBSTRING": sa.func.substr}[e.name]
        return fn(*args)

    # -------------------------------------------------------------- conditions

    def cond(self, c: ast.Cond) -> ColumnElement[bool]:
        if isinstance(c, ast.And):
            return sa.and_(*(self.cond(x) for x in c.items))
        if isinstance(c, ast.Or):
            return sa.or_(*(self.cond(x) for x in c.items))
        if isinstance(c, ast.Not):
            return sa.not_(self.cond(c.item))
        if isinstance(c, ast.Compare):
            lf = self.field_of(c.left, where=True)
            rf = self.field_of(c.right, where=True)
            left = self.expr(c.left, where=True, hint=rf)
            right = self.expr(c.right, where=True, hint=lf)
            return _COMPARE[c.op](left, right)
        if isinstance(c, ast.Like):
            left = self.expr(c.expr, where=True)
            pattern = self.expr(c.pattern, where=True)
            if c.escape is not None:
                if isinstance(c.escape, ast.Literal) and (not isinstance(c.escape.value, str)
                                                          or len(c.escape.value) != 1):
                    raise BadParameterError(f"ESCAPE needs a single character (position {c.pos})",
                                            offset=c.pos)
                # SQLite's like(pattern, value, escape) keeps the escape character a bound parameter
                like: ColumnElement[Any] = sa.func.like(pattern, left, self.expr(c.escape, where=True))
            else:
                like = left.like(pattern)
            return sa.not_(like) if c.negated else like
        if isinstance(c, ast.In):
            left = self.expr(c.expr, where=True)
            hint = self.field_of(c.expr, where=True)
            if isinstance(c.items, ast.Subquery):
                sub = Compiler(self.params, self)
                rhs: Any = sub.subquery(c.items.query)
            else:
                rhs = [self.expr(x, where=True, hint=hint) for x in c.items]
            return left.not_in(rhs) if c.negated else left.in_(rhs)
        if isinstance(c, ast.Between):
            hint = self.field_of(c.expr, where=True)
            left = self.expr(c.expr, where=True)
            btw = left.between(self.expr(c.low, where=True, hint=hint), self.expr(c.high, where=True, hint=hint))
            return sa.not_(btw) if c.negated else btw
        if isinstance(c, ast.IsNull):
            left = self.expr(c.expr, where=True)
            return left.is_not(None) if c.negated else left.is_(None)
        if isinstance(c, ast.IsEmpty):
            _owner, _t, child, corr = self.collection(c.path)
            exists = sa.exists(sa.select(child.c.ID).where(corr))
            return exists if c.negated else ~exists
        if isinstance(c, ast.MemberOf):
            _owner, target, child, corr = self.collection(c.collection)
            member = self.expr(c.expr, where=True)
            exists = sa.exists(sa.select(child.c.ID).where(corr, child.c.ID == member))
            return ~exists if c.negated else exists
        raise BadParameterError(f"Unsupported condition {c!r}")

    # -------------------------------------------------------------- whole queries

    def subquery(self, q: ast.Query) -> sa.Select[Any]:
        """A nested SELECT (IN (SELECT …) or scalar): one column, correlated through outer aliases."""
        self.declare(q.from_)
        if len(q.select.items) != 1:
            raise BadParameterError("A sub-select must select exactly one value")
        item = q.select.items[0]
        col = self.expr(item) if not isinstance(item, ast.Path) else self.resolve(item, where=False)[2]
        stmt = sa.select(col)
        if q.select.distinct:
            stmt = stmt.distinct()
        if q.where is not None:
            stmt = stmt.where(self.cond(q.where))
        if q.group_by:
            stmt = stmt.group_by(*(self.expr(g) for g in q.group_by))
        if q.having is not None:
            stmt = stmt.having(self.cond(q.having))
        return stmt.select_from(self.from_clause())

    def from_clause(self) -> sa.FromClause:
        """All range declarations with their joins; several are cross-joined (``ON 1``), as in JPQL."""
        out = self.roots[0].from_clause()
        for root in self.roots[1:]:
            out = out.join(root.from_clause(), sa.true())
        return out


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}

TABLES_TYPES: dict[str, Any] = {
    "str": sa.String(), "enum": sa.String(), "int": sa.Integer(), "float": sa.Float(), "bool": sa.Boolean(),
    "datetime": sa.DateTime(),
}


def _coerce(value: Any, f: FieldInfo, pos: int) -> Any:
    """A literal/parameter value in the stored form of field ``f``."""
    if f.type == "datetime":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise BadParameterError(f"{value!r} (position {pos}) is not a valid date for {f.name}; use "
                                        "{ts yyyy-mm-dd hh:mm:ss}", offset=pos) from None
        if isinstance(value, datetime):
            return to_db_datetime(value)
        raise BadParameterError(f"{value!r} (position {pos}) is not a date for {f.name}", offset=pos)
    if f.type == "enum":
        if value not in f.enum_values:
            raise BadParameterError(f"{value!r} (position {pos}) is not a value of {f.enum_class} "
                                    f"({', '.join(f.enum_values)})", offset=pos)
    if f.type == "bool" and not isinstance(value, bool):
        raise BadParameterError(f"{value!r} (position {pos}) is not TRUE or FALSE for {f.name}", offset=pos)
    return value


def _unknown(info: EntityInfo, name: str, pos: int) -> BadParameterError:
    return BadParameterError(f"Field {name} not found in {info.name} (position {pos})", offset=pos)
