"""The concise (old) ICAT query syntax, converted to the same AST as JPQL.

Follows icat.server ``core/oldparser`` (``OldSearchQuery``, ``DagHandler``, ``OldInclude``)::

    concise ::= ( [ [n] , [m] ] [DISTINCT] Bean[.field…] | AGG ( Bean[.field…] ) )
                [ORDER BY field [ASC|DESC], …] [INCLUDE 1 | INCLUDE Bean, Bean…]
                [ "[" condition "]" ] { <-> Bean [ "[" condition "]" ] }
                [ORDER BY …] [INCLUDE …]

* ``Dataset``, ``Dataset.name``, ``Dataset [complete = TRUE]``: conditions name fields relative to the bean
  they follow (``type.name``), enum constants are bare (``ParameterType [valueType = NUMERIC]``).
* ``A <-> B <-> C [cond]``: the beans are joined (inner) along the unique way they connect (a DFS over
  relations of both directions restricted to the named beans; two ways of reaching a bean is an error).
* ``n,m Bean`` is ``LIMIT n, m``; ``n, Bean`` and ``,m Bean`` leave one side open.
* ``Bean INCLUDE A, B``: included types are found from the selected bean following N:1 relations and, from
  the bean itself or below a 1:N step, 1:N relations (``OldInclude``); ``INCLUDE 1`` as in JPQL.

The converter needs an :class:`EntityModel` (which entities exist, their relations and fields); the embedded
catalogue passes one built from its schema. Identification variables are ``Bean$`` (``Bean_$`` for
included beans), as in icat.server's converted queries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from mxicat.errors import BadParameterError
from mxicat.query import ast
from mxicat.query.parser import AGGREGATES, Parser
from mxicat.query.tokens import T, Token, tokenize


class EntityModel(Protocol):
    """What the concise front-end needs to know about the schema."""

    def is_entity(self, name: str) -> bool:
        """Whether ``name`` is an entity (bean) name."""
        ...

    def relations(self, entity: str) -> Sequence[tuple[str, str, bool]]:
        """``(field, target entity, is_collection)`` for every relation of ``entity``, in schema order."""
        ...

    def has_field(self, entity: str, name: str) -> bool:
        """Whether ``name`` is an attribute or relation of ``entity``."""
        ...


def parse_concise(text: str, model: EntityModel) -> ast.Query:
    """Convert a concise-syntax query to the AST.

    Raises:
        BadParameterError: malformed query (position and token named), unknown entity or field, beans that
            cannot be connected, or connected in more than one way.
    """
    return _Concise(tokenize(text), text, model).parse()


class _Concise(Parser):
    def __init__(self, tokens: list[Token], text: str, model: EntityModel) -> None:
        super().__init__(tokens, text)
        self.model = model

    def bean(self, t: Token) -> str:
        name = str(t.value)
        if not self.model.is_entity(name):
            raise BadParameterError(f"Unknown entity {name!r} at position {t.pos}", offset=t.pos)
        return name

    def parse(self) -> ast.Query:
        offset = count = None
        agg = None
        distinct = False
        first_tok = self.peek()
        if first_tok is not None and first_tok.type is T.KEYWORD and str(first_tok.value) in AGGREGATES:
            agg = str(self.next().value)
            self.expect(T.OPENPAREN, "'('")
            result = self.expect(T.NAME, "entity or Entity.field")
            self.expect(T.CLOSEPAREN, "')'")
        else:
            if (t := self.accept(T.INTEGER)) is not None:
                offset = int(t.value)  # type: ignore[call-overload]
                self.expect(T.COMMA, "','")
                if (t := self.accept(T.INTEGER)) is not None:
                    count = int(t.value)  # type: ignore[call-overload]
            elif self.accept(T.COMMA):
                if (t := self.accept(T.INTEGER)) is not None:
                    count = int(t.value)  # type: ignore[call-overload]
            distinct = self.accept_kw("DISTINCT") is not None
            result = self.expect(T.NAME, "entity or Entity.field")
        parts = str(result.value).split(".")
        first = self.bean(Token(T.NAME, parts[0], result.pos, parts[0]))
        alias = first + "$"
        for part in parts[1:2]:
            if not self.model.has_field(first, part):
                raise BadParameterError(f"Unknown field {part!r} of {first} at position {result.pos}",
                                        offset=result.pos)
        simple = len(parts) == 1

        order: tuple[ast.OrderItem, ...] = ()
        include: ast.IncludeClause | None = None
        conds: list[ast.Cond] = []
        chain: list[str] = []

        def tail_clauses() -> None:
            nonlocal order, include
            for _ in range(2):
                if not order and self.accept_kw("ORDER"):
                    self.expect_kw("BY")
                    order = tuple(self.comma_list(lambda: self.order_key(first, alias)))
                elif include is None and simple and self.at_kw("INCLUDE"):
                    include = self.include(first, alias)

        tail_clauses()
        if self.at(T.BRA):
            conds.append(self.bracket(first, alias))
        while self.accept(T.ENTSEP):
            t = self.expect(T.NAME, "entity name")
            other = self.bean(t)
            chain.append(other)
            if self.at(T.BRA):
                conds.append(self.bracket(other, other + "$"))
        tail_clauses()
        self.expect_end()

        decls: list[ast.RangeDecl | ast.JoinDecl] = [ast.RangeDecl(first, alias, result.pos)]
        decls.extend(self.dag_joins(first, chain))
        item: ast.Expr = ast.Path((alias, *parts[1:]), result.pos)
        if agg:
            item = ast.Aggregate(agg, item, False, result.pos)
        where = None if not conds else conds[0] if len(conds) == 1 else ast.And(tuple(conds))
        limit = ast.LimitClause(offset or 0, count) if offset is not None or count is not None else None
        return ast.Query(ast.SelectClause((item,), distinct), ast.FromClause(tuple(decls)), where,
                         order_by=order, include=include, limit=limit)

    # ------------------------------------------------------------ pieces

    def order_key(self, bean: str, alias: str) -> ast.OrderItem:
        t = self.expect(T.NAME, "field name")
        path = self.relative(bean, alias, ast.Path(tuple(str(t.value).split(".")), t.pos))
        if not isinstance(path, ast.Path):
            raise BadParameterError(f"Unknown field {t.value!r} of {bean} at position {t.pos}", offset=t.pos)
        desc = False
        if (d := self.accept_kw("ASC", "DESC")) is not None:
            desc = d.value == "DESC"
        return ast.OrderItem(path, desc)

    def bracket(self, bean: str, alias: str) -> ast.Cond:
        self.expect(T.BRA, "'['")
        cond = self.condition()
        self.expect(T.KET, "']'")
        return self.rewrite(cond, bean, alias)

    def relative(self, bean: str, alias: str, p: ast.Path) -> ast.Expr:
        """A name in a bracket condition: a field path of ``bean`` or a bare enum constant."""
        if self.model.has_field(bean, p.parts[0]):
            return ast.Path((alias, *p.parts), p.pos)
        if len(p.parts) == 1 and p.parts[0].isupper():
            return ast.EnumLiteral(None, p.parts[0], p.pos)
        raise BadParameterError(f"Unknown field {p.parts[0]!r} of {bean} at position {p.pos}", offset=p.pos)

    def rewrite(self, node: Any, bean: str, alias: str) -> Any:
        if isinstance(node, ast.Path):
            return self.relative(bean, alias, node)
        if isinstance(node, ast.Subquery):
            raise BadParameterError("Sub-selects are not allowed in the concise syntax", offset=node.pos)
        if isinstance(node, tuple):
            return tuple(self.rewrite(x, bean, alias) for x in node)
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            changes = {f.name: self.rewrite(getattr(node, f.name), bean, alias)
                       for f in dataclasses.fields(node) if f.name != "pos"}
            return dataclasses.replace(node, **changes)
        return node

    def dag_joins(self, first: str, others: list[str]) -> list[ast.JoinDecl]:
        """``DagHandler.findSteps``: join the named beans along their unique connection."""
        wanted = set(others) | {first}
        used = {first}
        joins: list[ast.JoinDecl] = []

        def follow(pred: str | None, here: str) -> None:
            for field, target, _many in self.model.relations(here):
                if target in wanted and target != pred:
                    if target in used:
                        raise BadParameterError(
                            f"Can't have loop in graph of entities: {target!r} was encountered twice following "
                            f"{pred} -> {here} -> {target}")
                    used.add(target)
                    joins.append(ast.JoinDecl(ast.Path((here + "$", field)), target + "$", "INNER"))
                    follow(here, target)

        follow(None, first)
        missing = sorted(wanted - used)
        if missing:
            raise BadParameterError(f"Unable to reach {', '.join(missing)} from {first}")
        return joins

    def include(self, first: str, alias: str) -> ast.IncludeClause:
        """``OldInclude``: INCLUDE 1, or INCLUDE by type names."""
        self.expect_kw("INCLUDE")
        t = self.peek()
        if t is not None and t.type is T.INTEGER:
            self.next()
            if t.value != 1:
                raise BadParameterError(f"Only integer value allowed in the INCLUDE list is 1 (position {t.pos})",
                                        offset=t.pos)
            return ast.IncludeClause(one=True)
        wanted = {self.bean(tok) for tok in self.comma_list(lambda: self.expect(T.NAME, "entity name"))}
        steps: list[ast.IncludeStep] = []
        used = {first}

        def follow(pred: str | None, here: str, here_alias: str, cascades: bool, remaining: set[str]) -> None:
            for field, target, many in self.model.relations(here):
                if (many and not cascades) or target not in remaining or target == pred:
                    continue
                if target in used:
                    raise BadParameterError(
                        f"Can't have loop in graph of entities: {target!r} was encountered twice following "
                        f"{pred or ''} -> {here} -> {target} in list of INCLUDES")
                used.add(target)
                target_alias = target + "_$"
                steps.append(ast.IncludeStep(ast.Path((here_alias, field)), target_alias))
                follow(here, target, target_alias, many, remaining - {target})

        follow(None, first, alias, True, wanted)
        missing = sorted(wanted - used)
        if missing:
            raise BadParameterError(f"Unable to reach {', '.join(missing)} in list of INCLUDES")
        return ast.IncludeClause(tuple(steps))


def parse_get(text: str, obj_id: int, model: EntityModel) -> ast.Query:
    """The query behind ICAT's ``get(query, id)``, as ``SELECT x FROM Bean x WHERE x.id = id [INCLUDE …]``.

    Accepts both forms icat.server accepts: ``Bean [[AS] alias [INCLUDE path, …]]`` (``parser/GetQuery``) and
    ``Bean [INCLUDE 1 | INCLUDE Type, Type…]`` (``oldparser/OldGetQuery``).

    Raises:
        BadParameterError: malformed query, unknown entity/relation, or a non-integer id.
    """
    if isinstance(obj_id, bool) or not isinstance(obj_id, int):
        raise BadParameterError(f"get needs an integer id, got {obj_id!r}")
    p = _Concise(tokenize(text), text, model)
    t = p.expect(T.NAME, "entity name")
    bean = p.bean(t)
    alias: str | None = None
    if p.accept_kw("AS") is not None or p.at(T.NAME):
        alias = str(p.expect(T.NAME, "alias").value)
    include = None
    if p.at_kw("INCLUDE"):
        include = p.include(bean, bean + "$") if alias is None else p.include_clause()
    p.expect_end()
    alias = alias or bean + "$"
    where = ast.Compare("=", ast.Path((alias, "id"), t.pos), ast.Literal(obj_id, t.pos), t.pos)
    select = ast.SelectClause((ast.Path((alias,), t.pos),))
    return ast.Query(select, ast.FromClause((ast.RangeDecl(bean, alias, t.pos),)), where, include=include)
