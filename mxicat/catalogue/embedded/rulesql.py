"""Rule queries → SQL restrictions that SQLite evaluates cheaply, with exactly the rule's meaning.

A rule ``SELECT o FROM E o JOIN … WHERE …`` stands for the set of ``E`` ids it selects; a search is restricted
with ``x.id IN (that set)`` (icat.md §6.3). Evaluated literally, SQLite either materialises the whole set
(every dataset a user may read) or probes the whole join tree once per candidate row. Both are slow on big
tables, so the rule is first rewritten into an equivalent form:

* **fan-out cut** -- the rule's FROM clause is a tree of inner joins rooted at ``o``. Where an N:1 edge
  ``p.rel → a`` leads to an alias ``a`` whose own joins fan out through a 1:N collection (the membership
  patterns: ``investigation → investigationGroups → grouping → userGroups → user``), and every WHERE conjunct
  that mentions an alias of ``a``'s subtree mentions only aliases of that subtree, the subtree and those
  conjuncts are replaced by ``p.rel.id IN (SELECT a FROM A a JOIN … WHERE …)``. Inner joins make the
  existential quantifier factor per subtree, so the set is unchanged; the new subquery is uncorrelated and
  small (the user's investigations), so SQLite computes it once per statement.
* **direct form** -- when what remains is ``o`` alone with only such ``o.rel.id IN (…)`` conjuncts, the
  restriction is written on the searched table's own foreign-key columns (``ds.INVESTIGATION_ID IN (…)``):
  no probe of the rule's tables per row at all.
* otherwise the restriction is a correlated ``EXISTS (rule WHERE o.id = x.id)``: a primary-key probe of the
  (rewritten) rule per candidate row.

The brute-force oracle test (``tests/catalogue/authz/test_authz_oracle.py``) checks the result sets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mxicat.query import ast

from .schema import ENTITIES

IdSubquery = Callable[[ast.Query], sa.Select]


@dataclass(frozen=True)
class RulePlan:
    """How one rule restricts its bean: ``direct`` (FK column → id-set subqueries) or ``exists`` (query)."""

    direct: tuple[tuple[str, ast.Query], ...] = ()  # (FK column of the bean's table, query selecting ids)
    query: ast.Query | None = None  # for EXISTS; None when direct


def _conjuncts(cond: ast.Cond | None) -> list[Any]:
    if cond is None:
        return []
    if isinstance(cond, ast.And):
        return [c for item in cond.items for c in _conjuncts(item)]
    return [cond]


def _join(conds: list[Any]) -> ast.Cond | None:
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else ast.And(tuple(conds))


def _walk(node: Any) -> Iterator[Any]:
    """Every AST node below ``node`` (dataclass fields, tuples)."""
    yield node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if isinstance(value, tuple):
                for v in value:
                    yield from _walk(v)
            elif dataclasses.is_dataclass(value):
                yield from _walk(value)


def _aliases(cond: Any) -> set[str] | None:
    """Upper-cased aliases a conjunct mentions; None if it holds a subquery (never moved)."""
    out: set[str] = set()
    for node in _walk(cond):
        if isinstance(node, ast.Subquery):
            return None
        if isinstance(node, ast.Path):
            out.add(node.parts[0].upper())
    return out


def plan_rule(query: ast.Query) -> RulePlan:
    """The cheapest equivalent form of a validated rule query (see the module docstring)."""
    decls = query.from_.decls
    root = decls[0]
    if (
        not isinstance(root, ast.RangeDecl)
        or any(not isinstance(d, ast.JoinDecl) or d.kind != "INNER" or len(d.path.parts) != 2 for d in decls[1:])
    ):
        return RulePlan(query=query)
    entity_of: dict[str, str] = {root.alias.upper(): root.entity}
    parent: dict[str, tuple[str, str]] = {}  # alias -> (parent alias, relation)
    children: dict[str, list[str]] = {root.alias.upper(): []}
    for d in decls[1:]:
        assert isinstance(d, ast.JoinDecl)
        p, rel_name = d.path.parts[0].upper(), d.path.parts[1]
        rel = ENTITIES[entity_of[p]].relations.get(rel_name)
        if rel is None:
            return RulePlan(query=query)
        a = d.alias.upper()
        entity_of[a], parent[a] = rel.target, (p, rel_name)
        children.setdefault(p, []).append(a)
        children.setdefault(a, [])

    def many(a: str) -> bool:
        p, rel_name = parent[a]
        return ENTITIES[entity_of[p]].relations[rel_name].many

    def subtree(a: str) -> set[str]:
        out = {a}
        for c in children[a]:
            out |= subtree(c)
        return out

    conds = [(c, _aliases(c)) for c in _conjuncts(query.where)]
    cut_ins: list[tuple[str, str, ast.Query]] = []  # (parent alias, relation, subquery)
    removed: set[str] = set()

    def visit(a: str) -> None:
        for c in children[a]:
            sub = subtree(c)
            fans_out = any(many(x) for x in children[c])  # the 1:N fan-out starts right at c
            closed = all(names is not None and (not names & sub or names <= sub) for _, names in conds)
            if not many(c) and fans_out and closed:
                mine = [cond for cond, names in conds if names and names <= sub]
                sub_decls = [ast.RangeDecl(entity_of[c], _orig_alias(decls, c))] + [
                    d for d in decls[1:] if isinstance(d, ast.JoinDecl) and d.alias.upper() in sub - {c}
                ]
                sub_query = ast.Query(
                    select=ast.SelectClause((ast.Path((_orig_alias(decls, c),)),)),
                    from_=ast.FromClause(tuple(sub_decls)),
                    where=_join(mine),
                )
                cut_ins.append((_orig_alias(decls, a), parent[c][1], sub_query))
                removed.update(sub)
            else:
                visit(c)

    visit(root.alias.upper())
    if not cut_ins:
        return RulePlan(query=query)
    kept_conds = [c for c, names in conds if not (names and names <= removed)]
    kept_decls = [d for d in decls if d.alias.upper() not in removed]
    if len(kept_decls) == 1 and not kept_conds and all(p.upper() == root.alias.upper() for p, _, _ in cut_ins):
        info = ENTITIES[root.entity]
        return RulePlan(direct=tuple((info.relations[rel].column or "", q) for _, rel, q in cut_ins))
    new_conds = kept_conds + [
        ast.In(ast.Path((p, rel, "id")), ast.Subquery(q)) for p, rel, q in cut_ins
    ]
    return RulePlan(query=dataclasses.replace(query, from_=ast.FromClause(tuple(kept_decls)), where=_join(new_conds)))


def _orig_alias(decls: tuple[Any, ...], upper: str) -> str:
    return next(d.alias for d in decls if d.alias.upper() == upper)


@dataclass(frozen=True)
class CompiledPlan:
    """A :class:`RulePlan` with its queries compiled to SQL (for one user: ``:user`` bound)."""

    direct: tuple[tuple[str, sa.Select], ...] = ()
    exists: sa.Select | None = None

    @property
    def is_direct(self) -> bool:
        return self.exists is None

    def condition(self, id_column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """"The row whose id is ``id_column`` is in the rule's set", for a row of ``id_column``'s table."""
        if self.exists is None:
            table = id_column.table  # type: ignore[attr-defined]
            return sa.and_(*(table.c[col].in_(sub) for col, sub in self.direct))
        sub = self.exists
        return sa.exists(sub.where(sub.selected_columns[0] == id_column))


def compile_plan(plan: RulePlan, id_subquery: IdSubquery) -> CompiledPlan:
    """Compile the plan's queries (``id_subquery`` binds the parameters)."""
    if plan.query is None:
        return CompiledPlan(direct=tuple((col, id_subquery(q)) for col, q in plan.direct))
    return CompiledPlan(exists=id_subquery(plan.query))
