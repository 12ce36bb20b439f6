"""Backends of the Catalogue contract suite: the embedded catalogue, and ``mxicat serve`` over real HTTP.

Helpers only; the fixtures live in ``conftest.py``. Its ``served_url`` starts ``python -m mxicat serve`` in
a subprocess on 127.0.0.1 with :func:`mxicat.http.launcher.serve_subprocess` (a free port, its own catalogue
file and auth file, no mxicat.toml of the machine) and stops it at teardown. Tests reach it through
:class:`mxicat.catalogue.remote.RemoteCatalogue` (``icat+http://127.0.0.1:<port>``) -- real HTTP, no mocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mxicat.catalogue.base import Catalogue

#: users of both backends (simple authenticator file); only simple/root is a root user
USERS = {"root": "root-pw", "jdoe": "jdoe-pw"}
#: small maxEntities so paging under it is exercised with few objects
MAX_ENTITIES = 20
LIFETIME_MINUTES = 120


def write_users(path: Path) -> None:
    from mxicat.catalogue.embedded.auth import write_simple_user

    for name, password in USERS.items():
        write_simple_user(path, name, password)


@dataclass
class Backend:
    """How a contract test opens sessions on one backend."""

    name: str
    url: str
    settings: Any = None

    def login(self, user: str = "root", password: str | None = None, plugin: str = "simple") -> Catalogue:
        from mxicat.catalogue.open import open_catalogue

        creds = {"plugin": plugin, "username": user, "password": USERS.get(user, "") if password is None else password}
        return open_catalogue(self.url, credentials=creds, settings=self.settings)

    def session(self, session_id: str) -> Catalogue:
        """A catalogue bound to an existing (possibly bogus) session id."""
        if self.name == "served":
            from mxicat.catalogue.remote import RemoteIcat

            return RemoteIcat(self.url).session(session_id)
        from mxicat.catalogue.open import open_embedded_store

        store = open_embedded_store(self.url, settings=self.settings)
        try:
            cat = store.session(session_id)
        except BaseException:
            store.close()
            raise
        cat.owns_store = True
        return cat
