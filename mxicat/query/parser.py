"""Parser for ICAT's JPQL dialect: tokens → :class:`mxicat.query.ast.Query`.

Grammar (icat.server ``core/parser/SearchQuery.java`` and the JPQL it passes through)::

    query    ::= SELECT [DISTINCT] item {, item} FROM decl {, decl} [WHERE cond]
                 [GROUP BY expr {, expr}] [HAVING cond] [ORDER BY expr [ASC|DESC] {, …}]
                 ( [INCLUDE incl] [LIMIT n, (n|*)] | [LIMIT …] [INCLUDE …] )
    decl     ::= (Entity | path) [AS] alias { [LEFT [OUTER] | INNER] JOIN path [AS] alias }
    incl     ::= 1 | path [[AS] alias] {, path [[AS] alias]}
    cond     ::= term {OR term};  term ::= factor {AND factor};  factor ::= NOT factor | ( cond ) | pred
    pred     ::= expr ( compop expr | [NOT] LIKE expr [ESCAPE expr] | [NOT] IN ( list | SELECT … )
                 | [NOT] BETWEEN expr AND expr | IS [NOT] (NULL|EMPTY) | [NOT] MEMBER [OF] path )
    expr     ::= arithmetic over literals, :params, paths, enum constants, functions, aggregates

A query that does not start with SELECT is concise syntax; :func:`parse_query` hands it to
:mod:`mxicat.query.concise`, which needs an entity model to resolve relation steps.

Errors are :class:`mxicat.errors.BadParameterError` naming the unexpected token and its position, with
``offset`` set to that position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from mxicat.errors import BadParameterError
from mxicat.query import ast
from mxicat.query.tokens import T, Token, tokenize

if TYPE_CHECKING:
    from mxicat.query.concise import EntityModel

_N = TypeVar("_N")
ENUM_PREFIX = "org.icatproject."
AGGREGATES = frozenset({"COUNT", "MIN", "MAX", "AVG", "SUM"})
FUNCTIONS = frozenset({"UPPER", "LOWER", "LENGTH", "CONCAT", "SUBSTRING", "TRIM", "LOCATE", "ABS", "SQRT",
                       "MOD", "SIZE"})
_FUNC_ARITY: dict[str, tuple[int, int]] = {
    "UPPER": (1, 1), "LOWER": (1, 1), "LENGTH": (1, 1), "ABS": (1, 1), "SQRT": (1, 1), "SIZE": (1, 1),
    "MOD": (2, 2), "CONCAT": (2, 99), "SUBSTRING": (2, 3), "LOCATE": (2, 3),
}
MAX_DEPTH = 100  # nesting of parentheses/NOT; far beyond real queries, well within Python's recursion limit


def parse_query(text: str, model: EntityModel | None = None) -> ast.Query:
    """Parse a query in either syntax. Concise syntax needs ``model`` (entity/relation information).

    Raises:
        BadParameterError: malformed query (``offset`` = position), or concise syntax without a model.
    """
    stripped = text.lstrip()
    if stripped[:6].upper() == "SELECT" and (len(stripped) == 6 or not (stripped[6].isalnum()
                                                                        or stripped[6] in "_$.")):
        return parse_jpql(text)
    if model is None:
        raise BadParameterError("Concise query syntax needs entity information; use SELECT … FROM …")
    from mxicat.query.concise import parse_concise

    return parse_concise(text, model)


def parse_jpql(text: str) -> ast.Query:
    """Parse a JPQL-dialect query (starting with SELECT)."""
    p = Parser(tokenize(text), text)
    q = p.query()
    p.expect_end()
    return q


def parse_condition(text: str) -> ast.Cond:
    """Parse a bare condition (useful for tests and for building queries)."""
    p = Parser(tokenize(text), text)
    c = p.condition()
    p.expect_end()
    return c


class Parser:
    """Recursive-descent parser over a token list (also used by the concise front-end for conditions)."""

    def __init__(self, tokens: list[Token], text: str) -> None:
        self.toks = tokens
        self.text = text
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------ cursor helpers

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise self.error("query")
        self.i += 1
        return t

    def at_kw(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.is_kw(*words)

    def at(self, *types: T) -> bool:
        t = self.peek()
        return t is not None and t.type in types

    def accept_kw(self, *words: str) -> Token | None:
        if self.at_kw(*words):
            return self.next()
        return None

    def accept(self, *types: T) -> Token | None:
        if self.at(*types):
            return self.next()
        return None

    def expect_kw(self, word: str) -> Token:
        if not self.at_kw(word):
            raise self.error(word)
        return self.next()

    def expect(self, typ: T, what: str | None = None) -> Token:
        if not self.at(typ):
            raise self.error(what or typ.value)
        return self.next()

    def expect_end(self) -> None:
        if self.peek() is not None:
            raise self.error("end of query")

    def error(self, expected: str) -> BadParameterError:
        """An error about the current token (or the end of input)."""
        t = self.peek()
        if t is None:
            pos = len(self.text)
            return BadParameterError(f"Unexpected end of query at position {pos}; expected {expected}",
                                     offset=pos)
        return BadParameterError(
            f"Unexpected token {t.describe()} at position {t.pos}; expected {expected}", offset=t.pos
        )

    # ------------------------------------------------------------ query

    def query(self) -> ast.Query:
        self.expect_kw("SELECT")
        select = self.select_clause()
        from_ = self.from_clause()
        where = self.condition() if self.accept_kw("WHERE") else None
        group_by: tuple[ast.Expr, ...] = ()
        having = None
        order_by: tuple[ast.OrderItem, ...] = ()
        if self.accept_kw("GROUP"):
            self.expect_kw("BY")
            group_by = tuple(self.comma_list(self.expression))
        if self.accept_kw("HAVING"):
            having = self.condition()
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            order_by = tuple(self.comma_list(self.order_item))
        include = limit = None
        for _ in range(2):
            if include is None and self.at_kw("INCLUDE"):
                include = self.include_clause()
            elif limit is None and self.at_kw("LIMIT"):
                limit = self.limit_clause()
        return ast.Query(select, from_, where, group_by, having, order_by, include, limit)

    def comma_list(self, item):  # type: ignore[no-untyped-def]
        out = [item()]
        while self.accept(T.COMMA):
            out.append(item())
        return out

    def select_clause(self) -> ast.SelectClause:
        distinct = self.accept_kw("DISTINCT") is not None
        items = tuple(self.comma_list(self.expression))
        return ast.SelectClause(items, distinct)

    def from_clause(self) -> ast.FromClause:
        self.expect_kw("FROM")
        decls: list[ast.RangeDecl | ast.JoinDecl] = []
        while True:
            t = self.expect(T.NAME, "entity name or path")
            alias = self.alias(required=True)
            assert alias is not None
            if "." in str(t.value):
                decls.append(ast.JoinDecl(self.path_of(t), alias, "INNER", t.pos))
            else:
                decls.append(ast.RangeDecl(str(t.value), alias, t.pos))
            while self.at_kw("JOIN", "INNER", "LEFT"):
                decls.append(self.join())
            if not self.accept(T.COMMA):
                break
        return ast.FromClause(tuple(decls))

    def join(self) -> ast.JoinDecl:
        kind = "INNER"
        if self.accept_kw("LEFT"):
            kind = "LEFT"
            self.accept_kw("OUTER")
        else:
            self.accept_kw("INNER")
        self.expect_kw("JOIN")
        if self.at_kw("FETCH"):
            t = self.next()
            raise BadParameterError(f"The FETCH keyword is not permitted (position {t.pos})", offset=t.pos)
        t = self.expect(T.NAME, "path to join")
        if "." not in str(t.value):
            raise BadParameterError(f"JOIN needs a path such as alias.field, got {t.describe()} at position "
                                    f"{t.pos}", offset=t.pos)
        alias = self.alias(required=True)
        assert alias is not None
        return ast.JoinDecl(self.path_of(t), alias, kind, t.pos)

    def alias(self, *, required: bool) -> str | None:
        if self.accept_kw("AS"):
            t = self.expect(T.NAME, "alias")
        elif self.at(T.NAME):
            t = self.next()
        elif required:
            raise self.error("alias")
        else:
            return None
        if "." in str(t.value):
            raise BadParameterError(f"Alias {t.describe()} at position {t.pos} must not contain '.'",
                                    offset=t.pos)
        return str(t.value)

    def order_item(self) -> ast.OrderItem:
        e = self.expression()
        desc = False
        t = self.accept_kw("ASC", "DESC")
        if t is not None:
            desc = t.value == "DESC"
        return ast.OrderItem(e, desc)

    def include_clause(self) -> ast.IncludeClause:
        self.expect_kw("INCLUDE")
        t = self.peek()
        if t is not None and t.type is T.INTEGER:
            if t.value != 1:
                raise BadParameterError(f"Only integer value allowed in the INCLUDE list is 1, got "
                                        f"{t.describe()} at position {t.pos}", offset=t.pos)
            self.next()
            return ast.IncludeClause(one=True)
        steps = []
        while True:
            t = self.expect(T.NAME, "path to include")
            if "." not in str(t.value):
                raise BadParameterError(f"INCLUDE path {t.describe()} at position {t.pos} must contain a '.'",
                                        offset=t.pos)
            steps.append(ast.IncludeStep(self.path_of(t), self.alias(required=False)))
            if not self.accept(T.COMMA):
                break
        return ast.IncludeClause(tuple(steps))

    def limit_clause(self) -> ast.LimitClause:
        self.expect_kw("LIMIT")
        offset = self.expect(T.INTEGER, "offset (integer)").value
        self.expect(T.COMMA, "','")
        if self.accept(T.MULT):
            return ast.LimitClause(int(offset), None)  # type: ignore[call-overload]
        count = self.expect(T.INTEGER, "count (integer or *)").value
        return ast.LimitClause(int(offset), int(count))  # type: ignore[call-overload]

    # ------------------------------------------------------------ conditions

    def condition(self) -> ast.Cond:
        items = [self.term()]
        while self.accept_kw("OR"):
            items.append(self.term())
        return items[0] if len(items) == 1 else ast.Or(tuple(items))

    def term(self) -> ast.Cond:
        items = [self.factor()]
        while self.accept_kw("AND"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else ast.And(tuple(items))

    def nested(self, parse: Callable[[], _N]) -> _N:
        """Run a recursive rule with a nesting limit (BAD_PARAMETER instead of Python's RecursionError)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                t = self.peek()
                pos = t.pos if t is not None else len(self.text)
                raise BadParameterError(f"Query nested too deeply at position {pos} (more than {MAX_DEPTH} levels)",
                                        offset=pos)
            return parse()
        finally:
            self.depth -= 1

    def factor(self) -> ast.Cond:
        return self.nested(self._factor)

    def _factor(self) -> ast.Cond:
        if self.accept_kw("NOT"):
            return ast.Not(self.factor())
        if self.at(T.OPENPAREN) and not (self.peek(1) and self.peek(1).is_kw("SELECT")):  # type: ignore[union-attr]
            # "(" opens either a nested condition or an arithmetic expression: try the condition first.
            start = self.i
            try:
                self.next()
                c = self.condition()
                self.expect(T.CLOSEPAREN, "')'")
            except BadParameterError as cond_err:
                self.i = start
                try:
                    return self.predicate()
                except BadParameterError as pred_err:
                    raise max(cond_err, pred_err, key=lambda e: e.offset) from None
            if not self._at_predicate_operator():
                return c
            self.i = start
        return self.predicate()

    def _at_predicate_operator(self) -> bool:
        t = self.peek()
        if t is None:
            return False
        return t.type in (T.COMPOP, T.PLUS, T.MINUS, T.MULT, T.DIV) or t.is_kw(
            "LIKE", "IN", "BETWEEN", "IS", "MEMBER") or (t.is_kw("NOT") and self.peek(1) is not None
                                                          and self.peek(1).is_kw("LIKE", "IN", "BETWEEN",  # type: ignore[union-attr]
                                                                                 "MEMBER"))

    def predicate(self) -> ast.Cond:
        left = self.expression()
        t = self.peek()
        pos = t.pos if t is not None else len(self.text)
        if t is not None and t.type is T.COMPOP:
            self.next()
            return ast.Compare(str(t.value), left, self.expression(), pos)
        if self.accept_kw("IS"):
            negated = self.accept_kw("NOT") is not None
            if self.accept_kw("NULL"):
                return ast.IsNull(left, negated, pos)
            if self.accept_kw("EMPTY"):
                if not isinstance(left, ast.Path):
                    raise BadParameterError(f"IS EMPTY needs a collection path (position {pos})", offset=pos)
                return ast.IsEmpty(left, negated, pos)
            raise self.error("NULL or EMPTY")
        negated = self.accept_kw("NOT") is not None
        if self.accept_kw("LIKE"):
            pattern = self.expression()
            escape = self.expression() if self.accept_kw("ESCAPE") else None
            return ast.Like(left, pattern, escape, negated, pos)
        if self.accept_kw("IN"):
            self.expect(T.OPENPAREN, "'('")
            items: tuple[ast.Expr, ...] | ast.Subquery
            if self.at_kw("SELECT"):
                spos = self.peek().pos  # type: ignore[union-attr]
                items = ast.Subquery(self.query(), spos)
            else:
                items = tuple(self.comma_list(self.expression))
            self.expect(T.CLOSEPAREN, "')'")
            return ast.In(left, items, negated, pos)
        if self.accept_kw("BETWEEN"):
            low = self.additive()
            self.expect_kw("AND")
            high = self.additive()
            return ast.Between(left, low, high, negated, pos)
        if self.accept_kw("MEMBER"):
            self.accept_kw("OF")
            t = self.expect(T.NAME, "collection path")
            return ast.MemberOf(left, self.path_of(t), negated, pos)
        raise self.error("comparison operator, LIKE, IN, BETWEEN, IS or MEMBER OF")

    # ------------------------------------------------------------ expressions

    def expression(self) -> ast.Expr:
        return self.additive()

    def additive(self) -> ast.Expr:
        e = self.multiplicative()
        n = 0
        while (t := self.accept(T.PLUS, T.MINUS)) is not None:
            n = self._count_term(n, t)
            e = ast.Arith(str(t.value), e, self.multiplicative(), t.pos)
        return e

    def multiplicative(self) -> ast.Expr:
        e = self.unary()
        n = 0
        while (t := self.accept(T.MULT, T.DIV)) is not None:
            n = self._count_term(n, t)
            e = ast.Arith(str(t.value), e, self.unary(), t.pos)
        return e

    def _count_term(self, n: int, t: Token) -> int:
        if n >= MAX_DEPTH:  # arithmetic chains nest (left-deep), so they share the nesting limit
            raise BadParameterError(f"Arithmetic expression too long at position {t.pos} (more than {MAX_DEPTH} "
                                    "operators)", offset=t.pos)
        return n + 1

    def unary(self) -> ast.Expr:
        negate = False
        first = None
        while (t := self.accept(T.MINUS, T.PLUS)) is not None:  # a loop, not recursion: "- - - 1" is flat
            first = first or t
            negate ^= t.type is T.MINUS
        operand = self.primary()
        if not negate or first is None:
            return operand
        if isinstance(operand, ast.Literal) and isinstance(operand.value, int | float) \
                and not isinstance(operand.value, bool):
            return ast.Literal(-operand.value, first.pos)
        return ast.Neg(operand, first.pos)

    def primary(self) -> ast.Expr:
        return self.nested(self._primary)

    def _primary(self) -> ast.Expr:
        t = self.peek()
        if t is None:
            raise self.error("an expression")
        if t.type in (T.STRING, T.INTEGER, T.REAL, T.TIMESTAMP):
            self.next()
            return ast.Literal(t.value, t.pos)  # type: ignore[arg-type]
        if t.type is T.PARAMETER:
            self.next()
            return ast.Param(str(t.value), t.pos)
        if t.type is T.NAME:
            self.next()
            name = str(t.value)
            if name.startswith(ENUM_PREFIX):
                parts = name[len(ENUM_PREFIX):].split(".")
                if len(parts) != 2 or not all(parts):
                    raise BadParameterError(f"Enum literal {name} at position {t.pos} must have the form "
                                            f"{ENUM_PREFIX}Type.VALUE", offset=t.pos)
                return ast.EnumLiteral(parts[0], parts[1], t.pos)
            return self.path_of(t)
        if t.type is T.OPENPAREN:
            self.next()
            if self.at_kw("SELECT"):
                q = ast.Subquery(self.query(), t.pos)
                self.expect(T.CLOSEPAREN, "')'")
                return q
            e = self.expression()
            self.expect(T.CLOSEPAREN, "')'")
            return e
        if t.type is T.KEYWORD:
            kw = str(t.value)
            if kw in ("TRUE", "FALSE"):
                self.next()
                return ast.Literal(kw == "TRUE", t.pos)
            if kw in ("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"):
                self.next()
                return ast.CurrentTime(kw, t.pos)
            if kw in AGGREGATES:
                return self.aggregate()
            if kw == "TRIM":
                return self.trim()
            if kw in FUNCTIONS:
                return self.function()
        raise self.error("an expression")

    def aggregate(self) -> ast.Aggregate:
        t = self.next()
        self.expect(T.OPENPAREN, "'('")
        distinct = self.accept_kw("DISTINCT") is not None
        arg = self.expression()
        self.expect(T.CLOSEPAREN, "')'")
        return ast.Aggregate(str(t.value), arg, distinct, t.pos)

    def function(self) -> ast.Func:
        t = self.next()
        name = str(t.value)
        self.expect(T.OPENPAREN, "'('")
        args = tuple(self.comma_list(self.expression))
        self.expect(T.CLOSEPAREN, "')'")
        lo, hi = _FUNC_ARITY[name]
        if not lo <= len(args) <= hi:
            raise BadParameterError(f"{name} at position {t.pos} takes {lo}" + (f" to {hi}" if hi != lo else "")
                                    + f" arguments, got {len(args)}", offset=t.pos)
        return ast.Func(name, args, None, t.pos)

    def trim(self) -> ast.Func:
        t = self.next()
        self.expect(T.OPENPAREN, "'('")
        spec_t = self.accept_kw("LEADING", "TRAILING", "BOTH")
        spec = str(spec_t.value) if spec_t else None
        args: tuple[ast.Expr, ...]
        if spec and self.accept_kw("FROM"):
            args = (self.expression(),)
        else:
            first = self.expression()
            args = (first, self.expression()) if self.accept_kw("FROM") else (first,)
            if spec and len(args) == 1:
                raise self.error("FROM")
        self.expect(T.CLOSEPAREN, "')'")
        return ast.Func("TRIM", args, spec or "BOTH", t.pos)

    def path_of(self, t: Token) -> ast.Path:
        parts = tuple(str(t.value).split("."))
        if not all(parts):
            raise BadParameterError(f"Malformed path {t.describe()} at position {t.pos}", offset=t.pos)
        return ast.Path(parts, t.pos)
