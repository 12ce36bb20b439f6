"""The filter language parser: syntax tree shapes, values, and error positions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mxicat.errors import BadParameterError
from mxicat.mx import jpql
from mxicat.mx.filters import And, Call, Compare, Not, Or, parse_filter, tokenize, walk


def test_issue_example_parses_into_three_comparisons() -> None:
    tree = parse_filter('resolution_high < 2.0 and space_group = "P 21 21 21" and beamline = id23eh2')
    assert isinstance(tree, And)
    assert [(c.field, c.op, c.value) for c in walk(tree)] == [
        ("resolution_high", "<", 2.0), ("space_group", "=", "P 21 21 21"), ("beamline", "=", "id23eh2")]


def test_units_dates_like_and_functions() -> None:
    (unit,) = walk(parse_filter("wavelength < 1 angstrom"))
    assert isinstance(unit, Compare) and (unit.value, unit.unit, unit.unit_pos) == (1, "angstrom", 15)
    (day,) = walk(parse_filter("start_time >= 2024-01-01"))
    assert isinstance(day, Compare) and day.value == date(2024, 1, 1)
    (moment,) = walk(parse_filter("start_time < 2024-01-01T10:30:00+02:00"))
    assert isinstance(moment, Compare)
    assert moment.value == datetime(2024, 1, 1, 8, 30, tzinfo=UTC)
    (like,) = walk(parse_filter("sample_name like 'lyso%'"))
    assert isinstance(like, Compare) and (like.op, like.value) == ("like", "lyso%")
    (call,) = walk(parse_filter('in_group("x")'))
    assert call == Call("in_group", ("x",), 0)


def test_precedence_and_not_parentheses() -> None:
    tree = parse_filter("a = 1 or b = 2 and not (c = 3 or d = 4)")
    assert isinstance(tree, Or)
    right = tree.items[1]
    assert isinstance(right, And) and isinstance(right.items[1], Not)
    assert isinstance(right.items[1].item, Or)


def test_in_not_in_and_null_tests() -> None:
    leaves = walk(parse_filter("a in (1, 2.5, 'x') and b not like 'q%' and c is not null and d is null"))
    assert [(c.op, c.value) for c in leaves if isinstance(c, Compare)] == [
        ("in", (1, 2.5, "x")), ("notlike", "q%"), ("notnull", None), ("isnull", None)]


def test_quotes_and_escapes_in_strings() -> None:
    (leaf,) = walk(parse_filter(r'sample_name = "it\"s" '))
    assert isinstance(leaf, Compare) and leaf.value == 'it"s'
    (leaf,) = walk(parse_filter("sample_name = 'o''k'".replace("''", "\\'")))
    assert isinstance(leaf, Compare) and leaf.value == "o'k"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("wavelength <", 12),
        ("(a = 1", 6),
        ('a = "unterminated', 4),
        ("a ! 1", 2),
        ("a = 1 and", 9),
        ("= 3", 0),
        ("a 3", 2),
        ("a not between 1", 6),
        ("a = 1)", 5),
        ("", 0),
        ("start_time > 2024-13-01", 13),
    ],
)
def test_errors_point_at_the_position(text: str, offset: int) -> None:
    with pytest.raises(BadParameterError) as info:
        parse_filter(text)
    assert info.value.offset == offset
    assert f"position {offset}" in str(info.value)


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_bad_parameter(text: str) -> None:
    try:
        parse_filter(text)
    except BadParameterError as err:
        assert 0 <= err.offset <= len(text)


@given(st.text(max_size=60))
def test_jpql_string_literal_round_trips_quotes(value: str) -> None:
    if any(ord(c) < 32 and c != "\t" for c in value):
        with pytest.raises(BadParameterError):
            jpql.string(value)
        return
    literal = jpql.string(value)
    assert literal.startswith("'") and literal.endswith("'")
    body = literal[1:-1]
    assert body.replace("''", "") .count("'") == 0
    assert body.replace("''", "'") == value


def test_jpql_numbers_and_timestamps() -> None:
    assert jpql.number(2) == "2"
    assert jpql.number(0.5) == "0.5"
    for bad in (float("nan"), float("inf"), True, "1"):
        with pytest.raises(BadParameterError):
            jpql.number(bad)  # type: ignore[arg-type]
    aware = datetime(2024, 1, 1, 2, 0, tzinfo=UTC).astimezone()
    assert jpql.timestamp(aware) == "{ts 2024-01-01 02:00:00}"
    assert jpql.timestamp(date(2024, 5, 6)) == "{ts 2024-05-06 00:00:00}"


def test_tokenize_keeps_positions() -> None:
    tokens = tokenize("x >= 1e3 keV")
    assert [(t.kind, t.pos) for t in tokens] == [("name", 0), ("op", 2), ("number", 5), ("name", 9),
                                                 ("end", 12)]


def test_issue_example_compiles_to_icat_jpql(tmp_path: Path) -> None:
    """Golden snapshot of the generated JPQL (one, to document the shape), and C's ICAT parser accepts it."""
    from mx_support import open_mx

    from mxicat.mx.search import compile_filter
    from mxicat.query.parser import parse_query

    mx = open_mx(tmp_path / "golden.db")
    where = compile_filter(mx, 'resolution_high < 2.0 and space_group = "P 21 21 21" and beamline = id23eh2')
    assert where == (
        "(ds.id IN (SELECT p1.dataset.id FROM DatasetParameter p1 JOIN p1.type pt1 WHERE pt1.name = "
        "'MXAutoprocIntegrationScaling_overall_resolution_limit_high' AND p1.numericValue < 2.0) "
        "AND ds.id IN (SELECT p2.dataset.id FROM DatasetParameter p2 JOIN p2.type pt2 WHERE pt2.name = "
        "'MXAutoprocIntegration_space_group' AND p2.stringValue = 'P 21 21 21') "
        "AND ds.id IN (SELECT di3.dataset.id FROM DatasetInstrument di3 JOIN di3.instrument x3 "
        "WHERE LOWER(x3.name) = 'id23eh2'))")
    for text in ('wavelength < 1 angstrom or start_time >= 2024-01-01 and not sample_name like "lyso%"',
                 'in_group("o\'brien") and sample_name is null and has(cc_half)'):
        parse_query(f"SELECT ds FROM Dataset ds WHERE {compile_filter(mx, text)}")
    mx.close()
