"""The query AST: frozen dataclasses, one per clause and per expression form.

Both front-ends (the JPQL parser and the concise-syntax converter) produce a :class:`Query`; the embedded
catalogue compiles it to SQL (``mxicat.catalogue.embedded.sql``) and the authorization layer compiles rule
``what`` strings through the same AST. Values stay Python values (``Literal.value``) until the compiler
binds them as SQL parameters; nothing here is SQL text.

Paths are tuples of names: ``ds.investigation.name`` is ``Path(("ds", "investigation", "name"))`` where the
first element is an identification variable declared in FROM/JOIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Path:
    """``alias.field.field…`` (or a bare alias)."""

    parts: tuple[str, ...]
    pos: int = field(default=-1, compare=False)

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, integer, real, boolean or timestamp literal (timestamps are naive, read as UTC)."""

    value: str | int | float | bool | datetime
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class EnumLiteral:
    """An enum constant: ``org.icatproject.ParameterValueType.NUMERIC`` (``enum_type`` set) or, in the
    concise syntax, a bare ``NUMERIC`` (``enum_type`` None)."""

    enum_type: str | None
    name: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Param:
    """A named parameter such as ``:user``."""

    name: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class CurrentTime:
    """``CURRENT_TIMESTAMP``, ``CURRENT_DATE`` or ``CURRENT_TIME``, evaluated when the query runs."""

    kind: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Func:
    """A JPQL function: UPPER, LOWER, LENGTH, CONCAT, SUBSTRING, TRIM, LOCATE, ABS, SQRT, MOD, SIZE.

    For TRIM, ``trim_spec`` is LEADING/TRAILING/BOTH and the optional trim character is the first argument
    when ``len(args) == 2``.
    """

    name: str
    args: tuple[Expr, ...]
    trim_spec: str | None = None
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """COUNT, MIN, MAX, AVG or SUM, optionally over DISTINCT values."""

    name: str
    arg: Expr
    distinct: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Arith:
    """Binary arithmetic ``+ - * /``."""

    op: str
    left: Expr
    right: Expr
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus of a non-literal expression."""

    operand: Expr
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Subquery:
    """A nested ``SELECT`` (used by ``IN (SELECT …)``)."""

    query: Query
    pos: int = field(default=-1, compare=False)


Expr: TypeAlias = Path | Literal | EnumLiteral | Param | CurrentTime | Func | Aggregate | Arith | Neg | Subquery

# ---------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right`` with op one of ``= <> != < <= > >=``."""

    op: str
    left: Expr
    right: Expr
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Like:
    """``expr [NOT] LIKE pattern [ESCAPE char]``."""

    expr: Expr
    pattern: Expr
    escape: Expr | None = None
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class In:
    """``expr [NOT] IN (v1, v2, …)`` or ``expr [NOT] IN (SELECT …)``."""

    expr: Expr
    items: tuple[Expr, ...] | Subquery
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Between:
    """``expr [NOT] BETWEEN low AND high``."""

    expr: Expr
    low: Expr
    high: Expr
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class IsNull:
    """``expr IS [NOT] NULL``."""

    expr: Expr
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class IsEmpty:
    """``collection_path IS [NOT] EMPTY``."""

    path: Path
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class MemberOf:
    """``entity_expr [NOT] MEMBER [OF] collection_path``."""

    expr: Expr
    collection: Path
    negated: bool = False
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more conditions."""

    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more conditions."""

    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Negation."""

    item: Cond


Cond: TypeAlias = Compare | Like | In | Between | IsNull | IsEmpty | MemberOf | And | Or | Not

# ---------------------------------------------------------------- clauses


@dataclass(frozen=True, slots=True)
class SelectClause:
    """``SELECT [DISTINCT] item, …``."""

    items: tuple[Expr, ...]
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class RangeDecl:
    """``Entity [AS] alias`` in FROM."""

    entity: str
    alias: str
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class JoinDecl:
    """A path declared in FROM: ``[LEFT [OUTER] | INNER] JOIN path [AS] alias`` (``kind`` "INNER" or
    "LEFT") or the comma form ``, path alias`` (``kind`` "INNER")."""

    path: Path
    alias: str
    kind: str = "INNER"
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class FromClause:
    """Declarations in source order; every JoinDecl path starts at an alias declared before it."""

    decls: tuple[RangeDecl | JoinDecl, ...]


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key."""

    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class IncludeStep:
    """``path [AS alias]`` in INCLUDE; ``path`` starts at the selected alias or an INCLUDE alias."""

    path: Path
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class IncludeClause:
    """``INCLUDE 1`` (``one``) or a list of steps."""

    steps: tuple[IncludeStep, ...] = ()
    one: bool = False


@dataclass(frozen=True, slots=True)
class LimitClause:
    """ICAT's ``LIMIT offset, count`` (count None for ``*``)."""

    offset: int = 0
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """A whole query."""

    select: SelectClause
    from_: FromClause
    where: Cond | None = None
    group_by: tuple[Expr, ...] = ()
    having: Cond | None = None
    order_by: tuple[OrderItem, ...] = ()
    include: IncludeClause | None = None
    limit: LimitClause | None = None
