"""iter_pages / split_limit: the chunked search shared by every backend (driven by a plain list here)."""

from __future__ import annotations

import re

import pytest

from mxicat.catalogue.paging import iter_pages, split_limit
from mxicat.errors import InternalError, ValidationError


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT d FROM Dataset d", ("SELECT d FROM Dataset d", 0, None)),
        ("SELECT d FROM Dataset d LIMIT 10", ("SELECT d FROM Dataset d", 0, 10)),
        ("SELECT d FROM Dataset d ORDER BY d.id limit 5 ,7 INCLUDE d.datafiles",
         ("SELECT d FROM Dataset d ORDER BY d.id INCLUDE d.datafiles", 5, 7)),
        ("SELECT d FROM Dataset d WHERE d.name = 'LIMIT 3, 4'", ("SELECT d FROM Dataset d WHERE d.name = 'LIMIT 3, 4'",
                                                                0, None)),
        ("SELECT d FROM Dataset d WHERE d.name = 'it''s LIMIT 1' LIMIT 2, 3",
         ("SELECT d FROM Dataset d WHERE d.name = 'it''s LIMIT 1'", 2, 3)),
    ],
)
def test_split_limit(query: str, expected: tuple[str, int, int | None]) -> None:
    assert split_limit(query) == expected


class Rows:
    """A catalogue of ``n`` rows that honours LIMIT and refuses pages over ``max_page``."""

    def __init__(self, n: int, max_page: int | None = None, ignore_limit: bool = False) -> None:
        self.rows = list(range(n))
        self.max_page = max_page
        self.ignore_limit = ignore_limit
        self.queries: list[str] = []

    def search(self, query: str) -> list[int]:
        self.queries.append(query)
        skip, count = (int(x) for x in re.search(r"LIMIT (\d+), (\d+)$", query).groups())  # type: ignore[union-attr]
        if self.max_page is not None and count > self.max_page:
            raise ValidationError(f"attempt to return more than {self.max_page} entities")
        return self.rows if self.ignore_limit else self.rows[skip : skip + count]


def test_pages_under_max_entities() -> None:
    rows = Rows(25)
    assert list(iter_pages(rows.search, "SELECT x FROM X x ORDER BY x.id", chunk=100, max_entities=10)) == rows.rows
    assert [q.rsplit("LIMIT ", 1)[1] for q in rows.queries] == ["0, 10", "10, 10", "20, 10"]


def test_given_limit_bounds_and_validation_halves() -> None:
    rows = Rows(100, max_page=3)
    got = list(iter_pages(rows.search, "SELECT x FROM X x LIMIT 40, 11", chunk=8, max_entities=50))
    assert got == list(range(40, 51))


def test_ignored_limit_is_an_error() -> None:
    with pytest.raises(InternalError, match="ignores LIMIT"):
        list(iter_pages(Rows(30, ignore_limit=True).search, "SELECT x FROM X x", chunk=5, max_entities=5))


def test_a_single_row_over_max_entities_is_raised() -> None:
    with pytest.raises(ValidationError):
        list(iter_pages(Rows(5, max_page=0).search, "SELECT x FROM X x", chunk=5, max_entities=5))
