"""mmCIF categories as rows of raw text, and the text/number helpers the mmCIF readers share.

``?`` (unknown) and ``.`` (not applicable) are absent values (standards.md §2.1): they never reach a row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mxicat.harvest.mmcif_result import MmcifError

if TYPE_CHECKING:
    import gemmi

__all__ = ["Rows", "diffrn_of", "is_null", "number", "ordinal", "text"]


def is_null(raw: str | None) -> bool:
    """Whether a raw CIF value is absent (missing, ``?`` or ``.``)."""
    return raw is None or raw in ("?", ".")


class Rows:
    """One mmCIF category as a list of {item: raw text} rows (absent values dropped)."""

    def __init__(self, block: gemmi.cif.Block, category: str) -> None:
        table = block.find_mmcif_category(category + ".")
        tags = list(table.tags)
        self.rows: list[dict[str, str]] = []
        for row in table:
            values = {tag: row[i] for i, tag in enumerate(tags) if not is_null(row[i])}
            self.rows.append(values)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __iter__(self) -> Iterator[dict[str, str]]:
        return iter(self.rows)


def text(raw: str | None) -> str | None:
    """A raw CIF value as plain text (quotes removed), None when absent."""
    if raw is None or is_null(raw):
        return None
    import gemmi

    return gemmi.cif.as_string(raw)


def diffrn_of(row: dict[str, str], category: str) -> str | None:
    """The ``_diffrn.id`` a collection-category row belongs to (None when the row does not say)."""
    return text(row.get("_diffrn.id" if category == "_diffrn" else f"{category}.diffrn_id"))


def ordinal(row: dict[str, str], item: str) -> float:
    """A row's ordinal for sorting (rows without a readable one sort last)."""
    raw = row.get(item)
    try:
        return float(raw) if raw is not None else math.inf
    except ValueError:
        return math.inf


def number(raw: str, item: str, path: str | None) -> float:
    """A raw CIF number (esd suffix allowed, ``1.23(4)``).

    Raises:
        MmcifError: the value is not a number.
    """
    import gemmi

    value = gemmi.cif.as_number(raw)
    if math.isnan(value):
        raise MmcifError("not a number", path=path, item=item, value=raw)
    return float(value)
