"""Tokenizer and parser: tokens with positions, AST shapes, malformed input named by position and token."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxicat.catalogue.embedded.sql import MODEL
from mxicat.errors import BadParameterError
from mxicat.query import ast
from mxicat.query.parser import parse_condition, parse_jpql, parse_query
from mxicat.query.tokens import T, tokenize


def test_tokens_carry_positions_and_values() -> None:
    toks = tokenize("SELECT ds.name FROM Dataset ds WHERE ds.x <> 'it''s' AND ds.t > {ts 2011-01-15 00:00:00}"
                    " AND ds.n >= -2.5e3 AND ds.u = :user")
    assert [(t.type, t.value) for t in toks[:3]] == [(T.KEYWORD, "SELECT"), (T.NAME, "ds.name"),
                                                    (T.KEYWORD, "FROM")]
    string = next(t for t in toks if t.type is T.STRING)
    assert string.value == "it's" and string.pos == 45 and string.text == "'it''s'"
    ts = next(t for t in toks if t.type is T.TIMESTAMP)
    assert ts.value == datetime(2011, 1, 15)
    assert [t.value for t in toks if t.type is T.COMPOP] == ["<>", ">", ">=", "="]
    assert any(t.type is T.MINUS for t in toks) and any(t.type is T.REAL and t.value == 2500.0 for t in toks)
    assert toks[-1].type is T.PARAMETER and toks[-1].value == "user"


def test_keywords_are_case_insensitive_names_are_not() -> None:
    q1 = parse_jpql("select ds from Dataset ds where ds.name like 'a%' order by ds.name desc")
    q2 = parse_jpql("SELECT ds FROM Dataset ds WHERE ds.name LIKE 'a%' ORDER BY ds.name DESC")
    assert q1 == q2
    assert parse_jpql("SELECT x FROM dataset x").from_.decls[0] == ast.RangeDecl("dataset", "x")


def test_concise_tokens() -> None:
    toks = tokenize("Dataset.id <-> DatasetParameter [type.name = 'X']")
    assert [t.type for t in toks] == [T.NAME, T.ENTSEP, T.NAME, T.BRA, T.NAME, T.COMPOP, T.STRING, T.KET]


def test_ast_of_a_full_query() -> None:
    q = parse_jpql("SELECT DISTINCT ds.name, COUNT(DISTINCT p) FROM Dataset ds LEFT OUTER JOIN ds.parameters AS p "
                   "INNER JOIN p.type pt, ds.datafiles df WHERE NOT (ds.id IN (1, 2) OR ds.name IS NOT NULL) "
                   "GROUP BY ds.name HAVING COUNT(p) > 1 ORDER BY ds.name DESC LIMIT 5, 10 INCLUDE 1")
    assert q.select.distinct and q.select.items[1] == ast.Aggregate("COUNT", ast.Path(("p",)), True)
    assert [type(d).__name__ for d in q.from_.decls] == ["RangeDecl", "JoinDecl", "JoinDecl", "JoinDecl"]
    assert [d.kind for d in q.from_.decls[1:]] == ["LEFT", "INNER", "INNER"]  # type: ignore[union-attr]
    assert isinstance(q.where, ast.Not) and isinstance(q.where.item, ast.Or)
    assert q.order_by == (ast.OrderItem(ast.Path(("ds", "name")), True),)
    assert q.limit == ast.LimitClause(5, 10) and q.include == ast.IncludeClause(one=True)


def test_condition_grammar_precedence() -> None:
    c = parse_condition("a.x = 1 OR a.y = 2 AND NOT a.z = 3")
    assert isinstance(c, ast.Or) and isinstance(c.items[1], ast.And)
    assert isinstance(c.items[1].items[1], ast.Not)
    arith = parse_condition("(a.x + 1) * 2 >= a.y - -3")
    assert isinstance(arith, ast.Compare) and isinstance(arith.left, ast.Arith) and arith.left.op == "*"
    assert arith.right == ast.Arith("-", ast.Path(("a", "y")), ast.Literal(-3))


def test_enum_and_special_literals() -> None:
    c = parse_condition("pt.valueType = org.icatproject.ParameterValueType.DATE_AND_TIME")
    assert isinstance(c, ast.Compare) and c.right == ast.EnumLiteral("ParameterValueType", "DATE_AND_TIME")
    c = parse_condition("i.releaseDate < CURRENT_TIMESTAMP AND x.b = TRUE")
    assert isinstance(c, ast.And) and c.items[0].right == ast.CurrentTime("CURRENT_TIMESTAMP")  # type: ignore[union-attr]


def test_concise_to_ast() -> None:
    q = parse_query("3,5 Dataset.id <-> DatasetParameter [type.name = 'X'] ORDER BY name", MODEL)
    assert q.select.items == (ast.Path(("Dataset$", "id")),)
    assert q.from_.decls[1] == ast.JoinDecl(ast.Path(("Dataset$", "parameters")), "DatasetParameter$")
    assert q.where == ast.Compare("=", ast.Path(("DatasetParameter$", "type", "name")), ast.Literal("X"))
    assert q.limit == ast.LimitClause(3, 5) and q.order_by[0].expr == ast.Path(("Dataset$", "name"))


def test_concise_needs_a_model() -> None:
    with pytest.raises(BadParameterError, match="Concise"):
        parse_query("Dataset")


# (query, position of the error, text that must appear in the message)
MALFORMED = [
    ("SELECT ds FROM Dataset ds WHERE ds.name = ", 42, "end of query"),
    ("SELECT ds FROM Dataset ds WHERE ds.name = 'x' ; DROP TABLE DATASET", 46, "';'"),
    ("SELECT FROM Dataset ds", 7, "'FROM'"),
    ("SELECT ds FROM Dataset ds WHERE ds.name == 'x'", 41, "'='"),
    ("SELECT ds FROM Dataset ds WHERE ds.name = 'abc", 42, "Unterminated string"),
    ("SELECT ds FROM Dataset ds WHERE ds.name = 'a' --", 48, "end of query"),
    ("SELECT ds FROM Dataset ds /* c */ WHERE ds.id = 1", 26, "'/'"),
    ("SELECT ds FROM Dataset ds WHERE ds.t > {ts 2011-01-15}", 39, "{ts yyyy-mm-dd hh:mm:ss}"),
    ("SELECT ds FROM Dataset ds WHERE ds.id ! 3", 38, "'!'"),
    ("SELECT ds FROM Dataset ds WHERE ds.id = 3 LIMIT 'a', 3", 48, "'a'"),
    ("SELECT ds FROM Dataset ds ORDER BY", 34, "end of query"),
    ("SELECT ds FROM Dataset ds JOIN FETCH ds.datafiles df", 31, "FETCH"),
    ("SELECT ds FROM Dataset ds WHERE (ds.id = 1", 42, "')'"),
    ("SELECT ds FROM Dataset ds INCLUDE 2", 34, "1"),
    ("SELECT ds FROM Dataset ds WHERE ds.id IN 1, 2", 41, "'1'"),
    ("SELECT ds FROM Dataset ds WHERE ds.id = 1 ds", 42, "'ds'"),
    ("SELECT ds FROM Dataset", 22, "alias"),
    ("SELECT ds FROM Dataset ds WHERE UPPER(ds.a, ds.b) = 'X'", 32, "UPPER"),
    ("SELECT ds FROM Dataset ds WHERE ds.x = #", 39, "'#'"),
    ("SELECT ds FROM Dataset ds WHERE ds.id = 99999999999999999999", 40, "too large"),
    ("Dataset [name = 'x'", 19, "end of query"),
    ("Dataset <-> [name = 'x']", 12, "'['"),
    ("Dataset.name name", 13, "'name'"),
]


@pytest.mark.parametrize(("query", "offset", "needle"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_queries_name_position_and_token(query: str, offset: int, needle: str) -> None:
    with pytest.raises(BadParameterError) as info:
        parse_query(query, MODEL)
    err = info.value
    assert err.offset == offset, str(err)
    assert needle in str(err)
    assert str(offset) in str(err)
    assert err.code == "BAD_PARAMETER" and err.to_icat_json()["offset"] == offset


FRAGMENTS = ["SELECT", "FROM", "WHERE", "Dataset", "ds", "ds.name", "ds.investigation", "ds.parameters", "p",
             "p.type.name", "JOIN", "LEFT", "INCLUDE", "LIMIT", "ORDER", "BY", "DESC", "COUNT", "(", ")", ",", "=",
             "<>", "<", "LIKE", "IN", "BETWEEN", "AND", "OR", "NOT", "IS", "NULL", "EMPTY", "MEMBER", "OF", "'x'",
             "'it''s'", "1", "2.5", "-", "+", "*", "{ts 2020-01-01 00:00:00}", ":user", "TRUE", "DISTINCT",
             "UPPER", "SIZE", "TRIM", "[", "]", "<->", "DatasetParameter", "1,", "MAX", "CURRENT_TIMESTAMP",
             "org.icatproject.ParameterValueType.NUMERIC", "Facility", "ESCAPE", "GROUP", "HAVING", "AS", ";", "!"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=14))
def test_any_token_soup_gives_bad_parameter_or_a_query(words: list[str]) -> None:
    """Malformed input of any shape is reported as BAD_PARAMETER, never as another exception."""
    from mxicat.catalogue.embedded.sql import compile_query

    for text in (" ".join(words), "SELECT ds FROM Dataset ds " + " ".join(words)):
        try:
            compile_query(text, params={"user": "u"})
        except BadParameterError as err:
            assert err.offset >= -1 and str(err)


@pytest.mark.parametrize("query", [
    "SELECT ds.id FROM Dataset ds WHERE " + "(" * 500 + "ds.id = 1" + ")" * 500,
    "SELECT ds.id FROM Dataset ds WHERE " + "NOT " * 500 + "ds.id = 1",
    "SELECT ds.id FROM Dataset ds WHERE ds.id = " + "(" * 500 + "1" + ")" * 500,
    "SELECT ds.id FROM Dataset ds WHERE ds.id = " + " + ".join(["1"] * 3000),
    "SELECT ds.id FROM Dataset ds WHERE ds.id = " + " * ".join(["1"] * 3000),
])
def test_absurd_nesting_is_a_bad_parameter_not_a_crash(query: str) -> None:
    with pytest.raises(BadParameterError, match="nested too deeply|too long"):
        parse_jpql(query)


def test_signs_fold() -> None:
    assert parse_condition("a.x = - - -3") == ast.Compare("=", ast.Path(("a", "x")), ast.Literal(-3))
    assert parse_condition("a.x = " + "-" * 3000 + "a.y") == ast.Compare(
        "=", ast.Path(("a", "x")), ast.Path(("a", "y")))
    assert isinstance(parse_condition("a.x = " + "-" * 3001 + "a.y").right, ast.Neg)  # type: ignore[union-attr]


@pytest.mark.parametrize("digit", ["٣", "３"])
def test_numbers_are_ascii_digits_only(digit: str) -> None:
    """ICAT's grammar knows ASCII digits only: other Unicode digits are not silently read as numbers."""
    with pytest.raises(BadParameterError):
        parse_jpql(f"SELECT ds FROM Dataset ds WHERE ds.id = {digit}")
