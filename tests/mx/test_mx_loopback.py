"""LoopBack filters: parsing, JPQL translation (quoting, operators), Python evaluation, scores."""

from __future__ import annotations

from datetime import datetime

import pytest

from mxicat.errors import BadParameterError
from mxicat.mx import loopback
from mxicat.mx.loopback import FieldSpec, compile_where, condition_matches, matches, parse
from mxicat.mx.panosc import score

FIELDS = {"title": FieldSpec("{a}.name"), "creationDate": FieldSpec("{a}.startDate", "datetime"),
          "size": FieldSpec("{a}.fileSize", "number")}


def test_parse_defaults_limits_and_errors() -> None:
    flt = parse('{"where": {"title": "x"}, "include": ["documents", {"relation": "parameters", '
                '"scope": {"where": {"name": "wavelength"}}}], "limit": 5000, "skip": 3, "query": " a b "}')
    assert flt.limit == loopback.MAX_LIMIT and flt.skip == 3 and flt.query == "a b"
    assert [i.relation for i in flt.include] == ["documents", "parameters"]
    assert flt.include[1].where == {"name": "wavelength"}
    assert parse(None).limit == loopback.DEFAULT_LIMIT
    for bad in ("[1]", "{", '{"limit": -1}', '{"limit": true}', '{"x": 1}', '{"where": []}',
                '{"include": [1]}', '{"query": 3}'):
        with pytest.raises(BadParameterError):
            parse(bad)


def test_compile_where_operators_and_quoting() -> None:
    jpql = compile_where({"and": [{"title": {"inq": ["a", "it's"]}}, {"size": {"between": [1, 2]}},
                                  {"or": [{"title": {"ilike": "LYSO%"}}, {"creationDate": {"gt": "2024-01-01"}}]}]},
                         FIELDS, "ds")
    assert "'it''s'" in jpql
    assert "(ds.fileSize >= 1 AND ds.fileSize <= 2)" in jpql
    assert "LOWER(ds.name) LIKE 'lyso%'" in jpql
    assert "ds.startDate > {ts 2024-01-01 00:00:00}" in jpql
    assert compile_where({}, FIELDS, "ds") == "1 = 1"
    assert compile_where({"title": None}, FIELDS, "ds") == "(ds.name IS NULL)"
    for bad in ({"title": {"regexp": "x"}}, {"nope": 1}, {"size": {"gt": "big"}}, {"title": {"between": [1]}},
                {"and": []}, {"title": {"zz": 1}}):
        with pytest.raises(BadParameterError):
            compile_where(bad, FIELDS, "ds")


def test_python_evaluation_matches_sql_semantics() -> None:
    obj = {"title": "Lysozyme_1", "size": 10, "creationDate": datetime(2024, 3, 1)}
    assert matches(obj, {"title": {"like": "Lyso%"}})
    assert not matches(obj, {"title": {"like": "lyso%"}})
    assert matches(obj, {"title": {"ilike": "lyso%"}})
    assert matches(obj, {"or": [{"size": {"gt": 100}}, {"size": {"between": [5, 10]}}]})
    assert matches(obj, {"creationDate": {"gte": "2024-01-01T00:00:00Z"}})
    assert matches(obj, {"text": "ZYME"}, ("title",))
    assert not condition_matches(None, "gt", 1)  # comparisons with null are false, as in SQL
    assert condition_matches(None, "eq", None)


def test_parameter_view_in_query_unit() -> None:
    from mxicat.ontology import load_ontology

    param = {"name": "photon_energy", "value": 12.4, "unit": "keV"}
    where = {"and": [{"name": "InstrumentMonochromator_energy"}, {"value": {"between": [12000, 12600]}},
                     {"unit": "eV"}]}
    view = loopback.parameter_matches(param, where, load_ontology())
    assert view is not None and view["unit"] == "eV" and view["value"] == pytest.approx(12400)
    assert loopback.parameter_matches(param, {"and": [{"name": "photon_energy"}, {"value": {"lt": 1}},
                                                      {"unit": "eV"}]}, load_ontology()) is None


@pytest.mark.parametrize("query,title", [("a b c", "nothing"), ("a b c", "a b c"), ("x", "x"), ("", "t")])
def test_scores_strictly_inside_zero_one(query: str, title: str) -> None:
    assert 0 < score({"title": title}, query, ("title",)) < 1
