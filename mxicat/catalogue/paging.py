"""Chunked search for any catalogue: ``LIMIT skip, n`` pages under ICAT's maxEntities.

One implementation for every backend, so ``search_chunked`` pages the same way on the embedded catalogue
and on a real ICAT (python-icat's ``searchChunked`` does the same over SOAP):

* a ``LIMIT skip[, count]`` already in the query is taken out and bounds the whole iteration;
* pages are ``min(chunk, max_entities)`` long; a page refused with VALIDATION (INCLUDEd objects count
  against maxEntities) is asked again with half the size;
* a server that returns more rows than asked for ignores LIMIT (icat.server #128 made python-icat loop
  forever on it): that is an error, not an endless loop.

Pages are only stable when the query has an ``ORDER BY``, as with ICAT itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from mxicat.errors import InternalError, ValidationError

#: ``LIMIT a, b`` / ``LIMIT b`` (string literals are masked before matching)
_LIMIT_RE = re.compile(r"\bLIMIT\s+(\d+)\s*(?:,\s*(\d+))?", re.IGNORECASE)
_STRING_RE = re.compile(r"'(?:[^']|'')*'")


def split_limit(query: str) -> tuple[str, int, int | None]:
    """Remove a ``LIMIT skip[, count]`` clause from ``query``; return ``(query, skip, count)``.

    ``LIMIT n`` alone means ``LIMIT 0, n``. Text inside string literals is never taken for a clause.
    """
    masked = _STRING_RE.sub(lambda m: "_" * len(m.group(0)), query)
    matches = list(_LIMIT_RE.finditer(masked))
    if not matches:
        return query.strip(), 0, None
    match = matches[-1]
    first, second = match.group(1), match.group(2)
    skip, count = (int(first), int(second)) if second is not None else (0, int(first))
    rest = (query[: match.start()].rstrip() + " " + query[match.end() :].lstrip()).strip()
    return rest, skip, count


def iter_pages(
    search: Callable[[str], list[Any]], query: str, *, chunk: int, max_entities: int
) -> Iterator[Any]:
    """Yield every result of ``query`` through ``search``, one LIMIT page at a time.

    Raises:
        InternalError: the catalogue ignored LIMIT (it returned more rows than asked for).
        ValidationError: even a page of one result is over maxEntities.
    """
    base, skip, total = split_limit(query)
    size = max(1, min(chunk, max_entities))
    yielded = 0
    while total is None or yielded < total:
        want = size if total is None else min(size, total - yielded)
        try:
            page = search(f"{base} LIMIT {skip}, {want}")
        except ValidationError:
            if size == 1:
                raise
            size = max(1, size // 2)
            continue
        if len(page) > want:
            raise InternalError(
                f"the catalogue returned {len(page)} results for LIMIT {skip}, {want}: it ignores LIMIT, "
                "paging would not end"
            )
        yield from page
        yielded += len(page)
        skip += len(page)
        if len(page) < want:
            return
