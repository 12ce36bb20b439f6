"""Which characters a name or parameter may hold: ICAT's tokenizer (icat.server ``core/parser/Tokenizer.java``)
starts a name with ``Character.isLetter`` / ``_`` / ``$`` and continues it with ``Character.isLetterOrDigit`` /
``_`` / ``.`` / ``$`` (letters = Unicode L*, digits = Nd). Other numeric characters (``¹``, ``½``, ``Ⅻ``, ``①``)
are a syntax error at their own position, not part of a name that then fails as unknown."""

from __future__ import annotations

import pytest

from mxicat.catalogue.embedded.sql import MODEL, compile_query
from mxicat.errors import BadParameterError
from mxicat.query.parser import parse_query
from mxicat.query.tokens import T, tokenize

# (query with one bad character, the character's Unicode name)
BAD = [
    ("SELECT ds FROM Dataset ds WHERE ds.na¹me = 'x'", "SUPERSCRIPT ONE"),
    ("SELECT ds FROM Dataset ds WHERE ds.name¹ = 'x'", "SUPERSCRIPT ONE"),
    ("SELECT ds FROM Dataset ds¹ WHERE ds.name = 'x'", "SUPERSCRIPT ONE"),
    ("SELECT ¹ds FROM Dataset ds", "SUPERSCRIPT ONE"),
    ("SELECT ds FROM Dataset ds WHERE ds.name = :user²", "SUPERSCRIPT TWO"),
    ("SELECT ds FROM Dataset ds WHERE ds.id = ½", "VULGAR FRACTION ONE HALF"),
    ("SELECT ds FROM DatasetⅫ ds", "ROMAN NUMERAL TWELVE"),
    ("Dataset [name① = 'x']", "CIRCLED DIGIT ONE"),
]


@pytest.mark.parametrize(("query", "name"), BAD, ids=[q for q, _ in BAD])
def test_non_letter_characters_are_a_syntax_error_at_their_position(query: str, name: str) -> None:
    bad = next(i for i, ch in enumerate(query) if not ch.isascii())
    with pytest.raises(BadParameterError) as info:
        parse_query(query, MODEL)
    err = info.value
    assert err.offset == bad and err.to_icat_json()["offset"] == bad
    message = str(err)
    assert f"Unexpected character {query[bad]!r} (U+{ord(query[bad]):04X} {name}) at position {bad}" in message
    assert "names are letters, decimal digits" in message


def test_the_embedded_catalogue_reports_the_syntax_error_not_an_unknown_field() -> None:
    query = "SELECT ds FROM Dataset ds WHERE ds.na¹me = 'x'"
    with pytest.raises(BadParameterError, match=r"Unexpected character '¹' \(U\+00B9 SUPERSCRIPT ONE\) at position 37"):
        compile_query(query)


def test_letters_and_decimal_digits_of_any_script_stay_names_as_on_icat() -> None:
    toks = tokenize("SELECT é FROM Dataset é WHERE é.name٣ = :ü1 AND $x_1.a2 = 3")
    names = [t.value for t in toks if t.type is T.NAME]
    assert names == ["é", "Dataset", "é", "é.name٣", "$x_1.a2"]
    assert [t.value for t in toks if t.type is T.PARAMETER] == ["ü1"]


def test_ascii_errors_keep_their_plain_message() -> None:
    with pytest.raises(BadParameterError) as info:
        tokenize("SELECT ds FROM Dataset ds WHERE ds.x = #")
    assert str(info.value).endswith("Unexpected character '#' at position 39 near 'x = #'")
