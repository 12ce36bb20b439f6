"""Brute-force rule evaluation in plain Python: the oracle the SQL path is compared against.

A catalogue file is read into memory (every row of every table), and a rule query (the AST the rule's
``what`` parses to) is evaluated by enumerating all bindings of its identification variables and testing the
WHERE condition with SQL's three-valued logic. No SQL is involved beyond reading the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import ENTITIES, TABLES, value_from_db
from mxicat.query import ast

Obj = tuple[str, int]  # (entity, id)


class Snapshot:
    """All rows by entity and id, with ICAT field names; N:1 relations hold the target id."""

    def __init__(self, conn: sa.Connection) -> None:
        self.rows: dict[str, dict[int, dict[str, Any]]] = {}
        self.children: dict[tuple[str, str], dict[int, list[int]]] = {}
        for name, info in ENTITIES.items():
            table = TABLES[name]
            rows: dict[int, dict[str, Any]] = {}
            for r in conn.execute(sa.select(table)).mappings():
                obj = {f.name: value_from_db(f, r[f.column]) for f in info.fields.values()}
                for rel in info.one.values():
                    obj[rel.name] = r[rel.column]
                rows[obj["id"]] = obj
            self.rows[name] = rows
        for name, info in ENTITIES.items():
            for rel in info.many.values():
                index: dict[int, list[int]] = {}
                for cid, child in self.rows[rel.target].items():
                    parent = child.get(rel.mapped_by or "")
                    if parent is not None:
                        index.setdefault(parent, []).append(cid)
                self.children[(name, rel.name)] = index

    def step(self, obj: Obj, rel_name: str) -> list[Obj]:
        entity, oid = obj
        rel = ENTITIES[entity].relations[rel_name]
        if rel.many:
            return [(rel.target, c) for c in self.children[(entity, rel_name)].get(oid, [])]
        target = self.rows[entity][oid].get(rel_name)
        return [] if target is None else [(rel.target, target)]


class Evaluator:
    """Evaluates one rule query for one user at one instant."""

    def __init__(self, snap: Snapshot, params: Mapping[str, Any], now: datetime) -> None:
        self.snap, self.params, self.now = snap, params, now

    def selected_ids(self, q: ast.Query) -> set[int]:
        sel = q.select.items[0]
        assert isinstance(sel, ast.Path)
        out: set[int] = set()
        for env in self._bindings(q.from_.decls, {}):
            if q.where is None or self.cond(q.where, env) is True:
                obj = env[sel.parts[0]]
                if obj is not None:
                    out.add(obj[1])
        return out

    def _bindings(self, decls: tuple[Any, ...], env: dict[str, Obj | None]) -> Iterator[dict[str, Obj | None]]:
        if not decls:
            yield env
            return
        head, rest = decls[0], decls[1:]
        if isinstance(head, ast.RangeDecl):
            for oid in self.snap.rows[head.entity]:
                yield from self._bindings(rest, {**env, head.alias: (head.entity, oid)})
            return
        start = env[head.path.parts[0]]
        targets: list[Obj] = [start] if start is not None else []
        for name in head.path.parts[1:]:
            targets = [t for s in targets for t in self.snap.step(s, name)]
        if not targets and head.kind == "LEFT":
            targets = [None]  # type: ignore[list-item]
        for t in targets:
            yield from self._bindings(rest, {**env, head.alias: t})

    # ------------------------------------------------------------------------------ expressions
    def value(self, e: Any, env: Mapping[str, Obj | None]) -> Any:
        v = self._value(e, env)
        if isinstance(v, datetime) and v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return v

    def _value(self, e: Any, env: Mapping[str, Obj | None]) -> Any:
        if isinstance(e, ast.Literal):
            return e.value
        if isinstance(e, ast.Param):
            return self.params[e.name]
        if isinstance(e, ast.CurrentTime):
            return self.now
        if isinstance(e, ast.EnumLiteral):
            return e.name
        if isinstance(e, ast.Path):
            obj = env[e.parts[0]]
            names = list(e.parts[1:])
            if not names:
                return obj[1] if obj else None
            while obj is not None and len(names) > 1:
                nxt = self.snap.step(obj, names.pop(0))
                obj = nxt[0] if nxt else None
            if obj is None:
                return None
            entity, oid = obj
            name = names[0]
            rel = ENTITIES[entity].relations.get(name)
            if rel is not None and not rel.many:
                return self.snap.rows[entity][oid].get(name)  # id of the related object
            return self.snap.rows[entity][oid].get(name)
        if isinstance(e, ast.Func):
            args = [self.value(a, env) for a in e.args]
            if any(a is None for a in args):
                return None
            fn = {"UPPER": lambda a: a[0].upper(), "LOWER": lambda a: a[0].lower(),
                  "LENGTH": lambda a: len(a[0]), "CONCAT": lambda a: "".join(a)}[e.name]
            return fn(args)
        raise NotImplementedError(f"oracle: expression {type(e).__name__}")

    def cond(self, c: Any, env: Mapping[str, Obj | None]) -> bool | None:
        if isinstance(c, ast.And):
            vals = [self.cond(i, env) for i in c.items]
            return False if False in vals else (None if None in vals else True)
        if isinstance(c, ast.Or):
            vals = [self.cond(i, env) for i in c.items]
            return True if True in vals else (None if None in vals else False)
        if isinstance(c, ast.Not):
            v = self.cond(c.item, env)
            return None if v is None else not v
        if isinstance(c, ast.Compare):
            a, b = self.value(c.left, env), self.value(c.right, env)
            if a is None or b is None:
                return None
            ops = {"=": a == b, "<>": a != b, "!=": a != b}
            if c.op in ops:
                return ops[c.op]
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[c.op]
        if isinstance(c, ast.IsNull):
            v = self.value(c.expr, env)
            return (v is not None) if c.negated else (v is None)
        if isinstance(c, ast.In):
            v = self.value(c.expr, env)
            assert not isinstance(c.items, ast.Subquery), "oracle: IN (SELECT) not supported"
            items = [self.value(i, env) for i in c.items]
            if v is None:
                return None
            hit = v in items
            return not hit if c.negated else hit
        if isinstance(c, ast.Like):
            v, p = self.value(c.expr, env), self.value(c.pattern, env)
            if v is None or p is None:
                return None
            rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in p)
            hit = re.fullmatch(rx, v, re.S) is not None
            return not hit if c.negated else hit
        if isinstance(c, ast.Between):
            v, lo, hi = (self.value(x, env) for x in (c.expr, c.low, c.high))
            if v is None or lo is None or hi is None:
                return None
            hit = lo <= v <= hi
            return not hit if c.negated else hit
        raise NotImplementedError(f"oracle: condition {type(c).__name__}")
