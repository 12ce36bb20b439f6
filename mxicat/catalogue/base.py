"""The one ``Catalogue`` protocol that the embedded SQLite catalogue and a remote ICAT both implement.

Objects cross this boundary in ICAT's REST JSON shape, as plain Python data:

* an entity is ``{"Dataset": {"id": 5, "name": "x", "investigation": {"id": 1}, "datafiles": [...]}}``;
* for writes, a nested N:1 object carries only ``id`` (a reference); nested 1:N objects carry no ``id``
  (they are created, cascade) -- exactly ICAT's REST write rules;
* values are native Python (``datetime`` with tzinfo, ``int``, ``float``, ``bool``, ``str``); JSON
  encoding in ICAT's date format happens at the edges (HTTP, CLI) via :func:`mxicat.catalogue.jsonfmt`;
* search results are a list of entity dicts, of bare values, or of rows (lists), as ICAT's REST search.

Every method raises :class:`mxicat.errors.MxicatError` subclasses with ICAT's codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

EntityObj: TypeAlias = dict[str, dict[str, Any]]
"""``{"EntityName": {field: value, ...}}`` -- one ICAT object in REST JSON shape."""

SearchResult: TypeAlias = list[Any]


@runtime_checkable
class Catalogue(Protocol):
    """A session on a catalogue: the embedded one, or a real ICAT over REST."""

    @property
    def user_name(self) -> str:
        """ICAT user name of this session (``simple/root``, ``db/jdoe``, or ``anon/anon``)."""
        ...

    @property
    def kind(self) -> str:
        """``"embedded"`` or ``"icat"``."""
        ...

    def search(self, query: str) -> SearchResult:
        """Run an ICAT query (JPQL or concise syntax), permission-filtered, as ICAT's REST search."""
        ...

    def search_chunked(self, query: str, *, chunk: int = 1000) -> Iterator[Any]:
        """Yield all results of a query, paging with LIMIT under maxEntities."""
        ...

    def get(self, query: str, id: int) -> EntityObj:
        """One object by id; ``query`` names the entity and optional INCLUDEs (``"Dataset ds INCLUDE 1"``)."""
        ...

    def create(self, obj: EntityObj) -> int:
        """Create one object (with nested 1:N children), return its id."""
        ...

    def create_many(self, objs: Sequence[EntityObj]) -> list[int]:
        """Create all or nothing; a failure carries the failing index as ``offset``."""
        ...

    def write(self, objs: Sequence[EntityObj]) -> list[int]:
        """ICAT REST write: objects with ``id`` are updated (given fields only), others created."""
        ...

    def update(self, obj: EntityObj) -> None:
        """Update the given fields of the object with this ``id``."""
        ...

    def delete(self, objs: Sequence[EntityObj]) -> None:
        """Delete these objects (only ``id`` matters) and everything their 1:N collections hold."""
        ...

    def is_access_allowed(self, obj: EntityObj, access: str) -> bool:
        """Whether this session may CREATE/READ/UPDATE/DELETE the object."""
        ...

    def refresh(self) -> None:
        """Reset the session lifetime."""
        ...

    def remaining_minutes(self) -> float:
        """Minutes until the session expires."""
        ...

    def logout(self) -> None:
        """End the session."""
        ...

    def close(self) -> None:
        """Release connections (does not log out a shared session)."""
        ...

    def __enter__(self) -> Catalogue: ...

    def __exit__(self, *exc: object) -> None: ...
