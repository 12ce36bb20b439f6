"""Backends of the Catalogue contract suite: the embedded catalogue, and ``mxicat serve`` over real HTTP.

Helpers only; the fixtures live in ``conftest.py``. Its ``served_url`` starts ``python -m mxicat serve`` in
a subprocess on 127.0.0.1 with :func:`mxicat.http.launcher.serve_subprocess` (a free port, its own catalogue
file and auth file, no mxicat.toml of the machine) and stops it at teardown. Tests reach it through
:class:`mxicat.catalogue.remote.RemoteCatalogue` (``icat+http://127.0.0.1:<port>``) -- real HTTP, no mocks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mxicat.catalogue.base import Catalogue

#: users of the local backends (simple authenticator file); only simple/root is a root user
USERS = {"root": "root-pw", "jdoe": "jdoe-pw"}
#: small maxEntities so paging under it is exercised with few objects
MAX_ENTITIES = 20
LIFETIME_MINUTES = 120
#: a real ICAT for the contract suite: URL, and ``plugin:login:password`` of a root and of a plain user
LIVE_ICAT_ENV = ("MXICAT_TEST_ICAT_URL", "MXICAT_TEST_ICAT_ROOT", "MXICAT_TEST_ICAT_USER")


def write_users(path: Path) -> None:
    from mxicat.catalogue.embedded.auth import write_simple_user

    for name, password in USERS.items():
        write_simple_user(path, name, password)


@dataclass
class Account:
    plugin: str
    login: str
    password: str

    @property
    def user_name(self) -> str:
        return f"{self.plugin}/{self.login}"

    @classmethod
    def parse(cls, text: str) -> Account:
        plugin, login, password = text.split(":", 2)
        return cls(plugin, login, password)


LOCAL_ACCOUNTS = {role: Account("simple", role, password) for role, password in USERS.items()}


@dataclass
class Backend:
    """How a contract test opens sessions on one backend.

    ``accounts`` has the roles ``root`` (a root user) and ``jdoe`` (a user no rule lets create a Facility).
    """

    name: str
    url: str
    settings: Any = None
    accounts: dict[str, Account] = field(default_factory=lambda: dict(LOCAL_ACCOUNTS))
    max_entities: int = MAX_ENTITIES
    lifetime_minutes: float = LIFETIME_MINUTES

    def user_name(self, role: str) -> str:
        return self.accounts[role].user_name

    def login(self, role: str = "root", *, password: str | None = None, plugin: str | None = None) -> Catalogue:
        from mxicat.catalogue.open import open_catalogue

        account = self.accounts[role]
        creds = {"plugin": plugin or account.plugin, "username": account.login,
                 "password": account.password if password is None else password}
        return open_catalogue(self.url, credentials=creds, settings=self.settings)

    def session(self, session_id: str) -> Catalogue:
        """A catalogue bound to an existing (possibly bogus) session id."""
        if self.name != "embedded":
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


def live_icat() -> Backend | None:
    """The real ICAT named by ``MXICAT_TEST_ICAT_*``, or None when they are not all set."""
    url, root, user = (os.environ.get(name) for name in LIVE_ICAT_ENV)
    if not (url and root and user):
        return None
    from mxicat.catalogue.remote import RemoteIcat

    server = RemoteIcat(url)
    try:
        props = server.properties()
    finally:
        server.close()
    return Backend("icat", url, accounts={"root": Account.parse(root), "jdoe": Account.parse(user)},
                   max_entities=int(props.get("maxEntities", 10000)),
                   lifetime_minutes=float(props.get("lifetimeMinutes", 120)))
