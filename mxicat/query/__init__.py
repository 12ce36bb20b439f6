"""ICAT's query languages: tokenizer, AST, JPQL parser, concise-syntax front-end, query builder.

* :func:`parse_query` -- JPQL dialect (``SELECT …``) or concise syntax (``Dataset [complete = TRUE]``, needs
  an :class:`EntityModel`; the embedded catalogue's is ``mxicat.catalogue.embedded.sql.MODEL``) → one
  :class:`mxicat.query.ast.Query`; errors are ``BadParameterError`` with the position as ``offset``.
* :class:`Query` -- python-icat-shaped builder rendering JPQL with quoted values (runs on a real ICAT and,
  through the parser, on the embedded catalogue with every value a bound SQL parameter).

Compilation to SQL lives with the embedded catalogue (``mxicat.catalogue.embedded.sql``).
"""

from __future__ import annotations

from mxicat.query.builder import Enum, Param, Query
from mxicat.query.concise import EntityModel, parse_get
from mxicat.query.parser import parse_condition, parse_jpql, parse_query
from mxicat.query.tokens import Token, tokenize

__all__ = ["EntityModel", "Enum", "Param", "Query", "Token", "parse_condition", "parse_get", "parse_jpql",
           "parse_query", "tokenize"]
