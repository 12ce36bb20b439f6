"""Tokenizer for ICAT's query languages (JPQL dialect and the concise syntax).

Modelled on icat.server's ``core/parser/Tokenizer.java`` and ``core/oldparser/OldTokenizer.java``: a name
starts with a letter, ``_`` or ``$`` and goes on with letters, decimal digits, ``_``, ``$`` and ``.`` (so
``ds.investigation.name`` and ``org.icatproject.ParameterValueType.NUMERIC`` are one NAME token); a parameter
is ``:`` followed by letters, decimal digits and ``_``. "Letter" and "digit" are Java's ``Character.isLetter``
(Unicode categories L*, Python ``str.isalpha``) and ``Character.isDigit`` (Nd, ``str.isdecimal``) as in ICAT,
so other numeric characters such as ``¹``, ``½`` or ``Ⅻ`` are no part of a name: they are a syntax error at
their position, as on ICAT, not an unknown name later. Keywords are case-insensitive;
``'it''s'`` is a string with a doubled quote; ``{ts 2011-01-15 00:00:00}`` is a timestamp literal;
``:user`` is a parameter. One tokenizer serves both syntaxes: ``[``, ``]`` and ``<->`` only occur in the
concise syntax and the JPQL parser rejects them as unexpected tokens.

Differences from ICAT, all lenient: any whitespace separates tokens (ICAT only accepts spaces), and ``-``
is always a MINUS token (the parser folds ``-`` + number into a negative literal), so ``a.x-1`` works.

Every token carries ``pos``, its offset in the query string, so errors can name the position
(:class:`mxicat.errors.BadParameterError` with ``offset``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mxicat.errors import BadParameterError


class T(StrEnum):
    """Token types."""

    NAME = "NAME"
    KEYWORD = "KEYWORD"
    STRING = "STRING"
    INTEGER = "INTEGER"
    REAL = "REAL"
    PARAMETER = "PARAMETER"
    TIMESTAMP = "TIMESTAMP"
    COMPOP = "COMPOP"  # = <> != < <= > >=
    OPENPAREN = "("
    CLOSEPAREN = ")"
    COMMA = ","
    PLUS = "+"
    MINUS = "-"
    MULT = "*"
    DIV = "/"
    BRA = "["
    KET = "]"
    ENTSEP = "<->"


KEYWORDS: frozenset[str] = frozenset(
    # icat.server Tokenizer.keyWords, plus LIKE (a COMPOP there) and OF (for MEMBER OF).
    """ABS ALL AND ANY AS ASC AVG BETWEEN BOTH BY CONCAT COUNT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
    DESC DISTINCT DIV EMPTY ESCAPE FALSE FETCH FROM GROUP HAVING IN INCLUDE INNER IS JOIN LEADING LEFT LENGTH
    LIKE LIMIT LOCATE LOWER MAX MEMBER MIN MINUS MOD MULT NOT NULL OBJECT OF OR ORDER OUTER PLUS REAL SELECT
    SIZE SQRT SUBSTRING SUM TIMESTAMP TRAILING TRIM TRUE UPPER WHERE""".split()
)

_TS_RE = re.compile(r"\{\s*ts\s+(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})\s*\}")
_NUMBER_RE = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``type``, its ``value`` (keywords upper-cased, strings unquoted, numbers as int/float,
    timestamps as naive ``datetime``), its ``pos`` in the input and the raw ``text``."""

    type: T
    value: object
    pos: int
    text: str

    def is_kw(self, *words: str) -> bool:
        """Whether this is one of the given keywords."""
        return self.type is T.KEYWORD and self.value in words

    def describe(self) -> str:
        """How to name this token in an error message."""
        return self.text if self.type is T.STRING else f"'{self.text}'"


def tokenize(query: str) -> list[Token]:
    """Split ``query`` into tokens.

    Raises:
        BadParameterError: on a character that cannot start a token, an unterminated string, a malformed
            timestamp or a lone ``!``; ``offset`` is the position of the offending character.
    """
    tokens: list[Token] = []
    i = 0
    n = len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch.isalpha() or ch in "_$":
            i = _scan(query, i + 1, "_$.")
            text = query[start:i]
            up = text.upper()
            if up in KEYWORDS:
                tokens.append(Token(T.KEYWORD, up, start, text))
            else:
                tokens.append(Token(T.NAME, text, start, text))
        elif "0" <= ch <= "9":
            m = _NUMBER_RE.match(query, i)
            assert m is not None
            text = m.group()
            if m.group(1) or m.group(2):
                tokens.append(Token(T.REAL, float(text), start, text))
            else:
                value = int(text)
                if value > 2**63 - 1:  # ICAT integers are Java longs; SQLite cannot bind more either
                    raise BadParameterError(f"Integer {text} at position {start} is too large", offset=start)
                tokens.append(Token(T.INTEGER, value, start, text))
            i = m.end()
        elif ch == "'":
            j = i + 1
            parts: list[str] = []
            while True:
                k = query.find("'", j)
                if k < 0:
                    raise BadParameterError(
                        f"Unterminated string starting at position {start}: {query[start : start + 20]!r}",
                        offset=start,
                    )
                parts.append(query[j:k])
                if k + 1 < n and query[k + 1] == "'":
                    parts.append("'")
                    j = k + 2
                    continue
                i = k + 1
                break
            tokens.append(Token(T.STRING, "".join(parts), start, query[start:i]))
        elif ch == ":":
            i = _scan(query, i + 1, "_")
            if i == start + 1:
                raise _bad_char(query, start)
            tokens.append(Token(T.PARAMETER, query[start + 1 : i], start, query[start:i]))
        elif ch == "{":
            k = query.find("}", i)
            m = _TS_RE.fullmatch(query, i, k + 1) if k >= 0 else None
            if m is None:
                text = query[i : k + 1] if k >= 0 else query[i:]
                raise BadParameterError(
                    f"Timestamp {text} at position {start} is not of form {{ts yyyy-mm-dd hh:mm:ss}}",
                    offset=start,
                )
            try:
                stamp = datetime.fromisoformat(f"{m.group(1)} {m.group(2)}")
            except ValueError as err:
                raise BadParameterError(
                    f"Invalid timestamp {m.group()} at position {start}: {err}", offset=start
                ) from err
            tokens.append(Token(T.TIMESTAMP, stamp, start, m.group()))
            i = k + 1
        elif ch == "<":
            if query.startswith("<->", i):
                tokens.append(Token(T.ENTSEP, "<->", start, "<->"))
                i += 3
            elif query.startswith("<>", i) or query.startswith("<=", i):
                tokens.append(Token(T.COMPOP, query[i : i + 2], start, query[i : i + 2]))
                i += 2
            else:
                tokens.append(Token(T.COMPOP, "<", start, "<"))
                i += 1
        elif ch == ">":
            op = ">=" if query.startswith(">=", i) else ">"
            tokens.append(Token(T.COMPOP, op, start, op))
            i += len(op)
        elif ch == "!":
            if not query.startswith("!=", i):
                raise _bad_char(query, i)
            tokens.append(Token(T.COMPOP, "!=", start, "!="))
            i += 2
        elif ch == "=":
            tokens.append(Token(T.COMPOP, "=", start, "="))
            i += 1
        elif ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, start, ch))
            i += 1
        else:
            raise _bad_char(query, i)
    return tokens


_SINGLE: dict[str, T] = {
    "(": T.OPENPAREN,
    ")": T.CLOSEPAREN,
    ",": T.COMMA,
    "+": T.PLUS,
    "-": T.MINUS,
    "*": T.MULT,
    "/": T.DIV,
    "[": T.BRA,
    "]": T.KET,
}


def _scan(query: str, i: int, extra: str) -> int:
    """The end of a name or parameter whose remaining characters start at ``i``: letters (``str.isalpha``,
    Java's ``Character.isLetter``), decimal digits (``str.isdecimal``, Java's ``Character.isDigit``) and
    ``extra``. ``\\w`` would also take numeric characters such as ``¹`` that ICAT rejects."""
    n = len(query)
    while i < n and (query[i].isalpha() or query[i].isdecimal() or query[i] in extra):
        i += 1
    return i


def _bad_char(query: str, i: int) -> BadParameterError:
    """A syntax error naming the character at ``i`` (code point and Unicode name when not ASCII)."""
    ch = query[i]
    near = query[max(0, i - 4) : i + 5]
    what = repr(ch) if ch.isascii() else f"{ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')})"
    hint = ""
    if not ch.isascii() and (ch.isalnum() or unicodedata.category(ch)[0] in "MN"):
        hint = "; names are letters, decimal digits, '_', '$' and '.'"
    return BadParameterError(f"Unexpected character {what} at position {i} near {near!r}{hint}", offset=i)
