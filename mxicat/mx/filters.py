"""The small dataset filter language of :meth:`MxCatalogue.search_datasets`: tokens and syntax tree.

Grammar (keywords case-insensitive)::

    expr     := term ("or" term)*
    term     := factor ("and" factor)*
    factor   := "not" factor | "(" expr ")" | call | compare
    call     := NAME "(" [value ("," value)*] ")"          e.g. in_group("x")
    compare  := NAME op value [unit]                       e.g. wavelength < 1 angstrom
              | NAME ["not"] "like" value                   e.g. sample_name like "lyso%"
              | NAME ["not"] "in" "(" value ("," value)* ")"
              | NAME "is" ["not"] "null"
    op       := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    value    := "double quoted" | 'single quoted' | NUMBER | DATE[THH:MM[:SS]][zone] | bareword

Every node keeps the character offset where it starts, so later stages (name resolution, unit conversion)
can point at the exact position of a mistake. Parse errors are :class:`~mxicat.errors.BadParameterError`
with ``offset`` set, the way ICAT reports query errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

from mxicat.errors import BadParameterError

Value: TypeAlias = str | int | float | datetime | date | None

_KEYWORDS = {"and", "or", "not", "like", "in", "is", "null"}
_OPERATORS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<dstring>"(?:[^"\\]|\\.)*")
  | (?P<sstring>'(?:[^'\\]|\\.)*')
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)(?![\w.])
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<op><=|>=|<>|!=|==|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[^\W\d][\w.\-/^*%]*|[µÅ°%][\w.\-/^*%]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One lexical token with its start offset in the filter text."""

    kind: str  # string, number, date, op, punct, name, keyword, end
    text: str
    value: Value
    pos: int


@dataclass(frozen=True)
class Compare:
    """``field op value [unit]``; ``op`` is one of = != < <= > >= like notlike in notin isnull notnull."""

    field: str
    op: str
    value: Value | tuple[Value, ...]
    unit: str | None
    pos: int
    value_pos: int
    unit_pos: int = -1


@dataclass(frozen=True)
class Call:
    """A function such as ``in_group("name")`` or ``has(key)``."""

    name: str
    args: tuple[Value, ...]
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Not:
    item: Node
    pos: int


Node: TypeAlias = Compare | Call | And | Or | Not


def _error(message: str, pos: int, text: str) -> BadParameterError:
    pointer = f"{text}\n{' ' * pos}^" if text and "\n" not in text else text
    return BadParameterError(f"{message} at position {pos} of filter:\n{pointer}", offset=pos)


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _parse_date(text: str) -> datetime | date:
    if "T" not in text:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens (whitespace dropped); unknown characters raise at their position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            if text[pos] in "\"'":
                raise _error("unterminated string", pos, text)
            raise _error(f"unexpected character {text[pos]!r}", pos, text)
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "ws":
            pass
        elif kind in ("dstring", "sstring"):
            tokens.append(Token("string", raw, _unquote(raw), pos))
        elif kind == "number":
            number: int | float = float(raw) if re.search(r"[.eE]", raw) else int(raw)
            tokens.append(Token("number", raw, number, pos))
        elif kind == "date":
            try:
                tokens.append(Token("date", raw, _parse_date(raw), pos))
            except ValueError as err:
                raise _error(f"invalid date {raw!r} ({err})", pos, text) from err
        elif kind == "name" and raw.lower() in _KEYWORDS:
            tokens.append(Token("keyword", raw, raw.lower(), pos))
        else:
            tokens.append(Token(kind, raw, raw, pos))
        pos = match.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


class _Parser:
    """Recursive-descent parser over :func:`tokenize` output."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_kw(self, word: str) -> bool:
        return self.tok.kind == "keyword" and self.tok.value == word

    def expect_punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise _error(f"expected {char!r}, found {self._describe(self.tok)}", self.tok.pos, self.text)
        return self.advance()

    @staticmethod
    def _describe(tok: Token) -> str:
        return "end of filter" if tok.kind == "end" else repr(tok.text)

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise _error("empty filter", 0, self.text)
        node = self.parse_or()
        if self.tok.kind != "end":
            raise _error(
                f"unexpected {self._describe(self.tok)} (expected 'and', 'or' or end)",
                self.tok.pos,
                self.text,
            )
        return node

    def parse_or(self) -> Node:
        start = self.tok.pos
        items = [self.parse_and()]
        while self.is_kw("or"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items), start)

    def parse_and(self) -> Node:
        start = self.tok.pos
        items = [self.parse_not()]
        while self.is_kw("and"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items), start)

    def parse_not(self) -> Node:
        if self.is_kw("not"):
            tok = self.advance()
            return Not(self.parse_not(), tok.pos)
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            node = self.parse_or()
            self.expect_punct(")")
            return node
        return self.parse_atom()

    def parse_value(self) -> tuple[Value, int]:
        tok = self.tok
        if tok.kind in ("string", "number", "date", "name"):
            self.advance()
            return tok.value, tok.pos
        raise _error(f"expected a value, found {self._describe(tok)}", tok.pos, self.text)

    def parse_list(self) -> tuple[tuple[Value, ...], int]:
        start = self.expect_punct("(").pos
        values: list[Value] = []
        if not (self.tok.kind == "punct" and self.tok.text == ")"):
            values.append(self.parse_value()[0])
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                values.append(self.parse_value()[0])
        self.expect_punct(")")
        return tuple(values), start

    def parse_atom(self) -> Node:
        tok = self.tok
        if tok.kind != "name":
            raise _error(f"expected a field name, found {self._describe(tok)}", tok.pos, self.text)
        self.advance()
        field = tok.text
        nxt = self.tok
        if nxt.kind == "punct" and nxt.text == "(":
            args, _ = self.parse_list()
            return Call(field.lower(), args, tok.pos)
        if nxt.kind == "op":
            self.advance()
            op = {"==": "=", "<>": "!="}.get(nxt.text, nxt.text)
            value, value_pos = self.parse_value()
            unit, unit_pos = None, -1
            if self.tok.kind == "name" and isinstance(value, int | float):
                unit, unit_pos = self.tok.text, self.tok.pos
                self.advance()
            return Compare(field, op, value, unit, tok.pos, value_pos, unit_pos)
        negate = False
        if self.is_kw("not"):
            self.advance()
            negate = True
            if not (self.is_kw("like") or self.is_kw("in")):
                raise _error(
                    f"expected 'like' or 'in' after 'not', found {self._describe(self.tok)}",
                    self.tok.pos,
                    self.text,
                )
        if self.is_kw("like"):
            self.advance()
            value, value_pos = self.parse_value()
            if not isinstance(value, str):
                raise _error("'like' needs a text pattern", value_pos, self.text)
            return Compare(field, "notlike" if negate else "like", value, None, tok.pos, value_pos)
        if self.is_kw("in"):
            self.advance()
            values, list_pos = self.parse_list()
            if not values:
                raise _error("'in' needs at least one value", list_pos, self.text)
            return Compare(field, "notin" if negate else "in", values, None, tok.pos, list_pos)
        if self.is_kw("is"):
            self.advance()
            op = "isnull"
            if self.is_kw("not"):
                self.advance()
                op = "notnull"
            if not self.is_kw("null"):
                raise _error(f"expected 'null', found {self._describe(self.tok)}", self.tok.pos, self.text)
            null_tok = self.advance()
            return Compare(field, op, None, None, tok.pos, null_tok.pos)
        raise _error(
            f"expected an operator after {field!r}, found {self._describe(nxt)}", nxt.pos, self.text
        )


def parse_filter(text: str) -> Node:
    """Parse a filter into its syntax tree; raises BadParameterError (with ``offset``) on bad syntax."""
    return _Parser(text).parse()


def walk(node: Node) -> list[Compare | Call]:
    """The leaves of a filter tree, left to right."""
    if isinstance(node, Compare | Call):
        return [node]
    if isinstance(node, Not):
        return walk(node.item)
    leaves: list[Compare | Call] = []
    for item in node.items:
        leaves.extend(walk(item))
    return leaves
