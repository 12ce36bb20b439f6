"""``open_catalogue``: one call that opens any catalogue as a :class:`~mxicat.catalogue.base.Catalogue` session.

================================================  ===========================================================
URL                                               Backend
================================================  ===========================================================
``sqlite:///path/mx.db``, ``path/mx.db``          embedded catalogue file (created if missing)
``memory=True`` or ``sqlite://``                  embedded catalogue in memory (tests, scratch work)
``icat+https://host[:port][/prefix]``             a real ICAT's REST API (``icat+http://`` for plain HTTP),
                                                  also ``mxicat serve``
================================================  ===========================================================

Credentials are ``{"plugin": "db", "username": ..., "password": ...}`` (any further keys go to the
authenticator); without them the settings' ``plugin``/``username``/``password`` are used. An embedded file
opened without credentials is opened as its administrator (the first root user name): whoever can open
the file owns it anyway. With credentials, an embedded catalogue performs a real login through its
sessions and authenticators, so the session sees exactly what that user may see (without ``settings``
only the file's own ``db`` users exist; the ``simple`` authenticator needs ``settings.auth_file``).

The remote path imports only ``requests`` (no FastAPI, pydantic or SQLAlchemy) and does not read settings
unless asked to, so ``open_catalogue("icat+https://...")`` starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.catalogue.base import Catalogue
from mxicat.errors import BadParameterError

if TYPE_CHECKING:
    from mxicat.catalogue.embedded.store import EmbeddedStore
    from mxicat.settings import Settings

REMOTE_SCHEMES = ("icat+https://", "icat+http://")


def is_remote_url(url: str) -> bool:
    """Whether ``url`` names a real ICAT's REST API (``icat+https://`` / ``icat+http://``)."""
    return url.lower().startswith(REMOTE_SCHEMES)


def split_credentials(
    credentials: Mapping[str, Any] | None, settings: Settings | None
) -> tuple[str, dict[str, str]] | None:
    """``(plugin, {key: value})`` from explicit credentials, else from settings; ``None`` if neither.

    Explicit credentials without a ``username`` take the settings' user name (and its password when none
    is given either), so ``credentials={"password": ...}`` works with ``MXICAT_USERNAME``.
    """
    if credentials:
        creds = {str(k): str(v) for k, v in credentials.items() if v is not None}
        if "username" not in creds and settings is not None and settings.username:
            creds["username"] = settings.username
            if "password" not in creds and settings.password is not None:
                creds["password"] = settings.password.get_secret_value()
        plugin = creds.pop("plugin", None) or (settings.plugin if settings is not None else None)
        if not plugin:
            raise BadParameterError("credentials need a 'plugin' (authenticator mnemonic, e.g. 'db')")
        return plugin, creds
    if settings is not None and settings.username:
        password = settings.password.get_secret_value() if settings.password is not None else ""
        return settings.plugin, {"username": settings.username, "password": password}
    return None


def open_catalogue(
    url: str | None = None,
    *,
    credentials: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    memory: bool = False,
    verify: bool | str | None = None,
    cert: str | tuple[str, str] | None = None,
    timeout: float | None = None,
    create: bool = True,
) -> Catalogue:
    """Open a catalogue session; use it as a context manager to close (and log out) at the end.

    Args:
        url: see the module table; default ``settings.catalogue`` (``MXICAT_CATALOGUE``), else the
            embedded file in the user's data directory.
        credentials: ``{"plugin": ..., "username": ..., "password": ...}``.
        settings: configuration (credentials, TLS, timeout, embedded catalogue options).
        memory: an in-memory embedded catalogue (``url`` must then be omitted).
        verify: remote TLS check: ``True``, ``False`` or a CA bundle path (default ``settings.verify_tls``).
        cert: remote client certificate: PEM file, or ``(cert_file, key_file)``.
        timeout: seconds per remote HTTP call (default ``settings.timeout``, else 30).
        create: create a missing embedded catalogue file; with ``False`` a missing file is an error (what a
            read-only command wants: a mistyped path must not answer "nothing found" from a new empty file).

    Raises:
        BadParameterError: an unusable URL or credentials, or (``create=False``) no embedded file.
        SessionError: the login was refused.
        UnavailableError: a remote ICAT cannot be reached.
    """
    if memory:
        if url is not None:
            raise BadParameterError("give either a catalogue URL or memory=True, not both")
        url = "sqlite://"
    if url is None:
        if settings is None:
            from mxicat.settings import Settings

            settings = Settings()  # type: ignore[call-arg]
        url = settings.catalogue
    if is_remote_url(url):
        return _open_remote(url, credentials, settings, verify=verify, cert=cert, timeout=timeout)
    return _open_embedded(url, credentials, settings, create=create)


def _open_remote(
    url: str,
    credentials: Mapping[str, Any] | None,
    settings: Settings | None,
    *,
    verify: bool | str | None,
    cert: str | tuple[str, str] | None,
    timeout: float | None,
) -> Catalogue:
    from mxicat.catalogue.remote import RemoteIcat, TransportOptions

    login = split_credentials(credentials, settings)
    if login is None:
        raise BadParameterError(
            f"a remote ICAT ({url}) needs credentials: plugin, username and password "
            "(or MXICAT_USERNAME / MXICAT_PASSWORD / MXICAT_PLUGIN)"
        )
    if verify is None:
        verify = settings.verify_tls if settings is not None else True
    if timeout is None:
        timeout = settings.timeout if settings is not None else 30.0
    server = RemoteIcat(url, TransportOptions(verify=verify, cert=cert, timeout=timeout))
    try:
        cat = server.login(*login)
    except BaseException:
        server.close()
        raise
    cat.owns_server = True  # closing the session closes the connections it opened
    return cat


def embedded_path(url: str) -> str | None:
    """The file of an embedded catalogue URL (``sqlite:///p``, ``sqlite:////abs``, bare path); ``None`` = memory."""
    if url in ("sqlite://", "sqlite:///:memory:", ":memory:"):
        return None
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if "://" in url:
        raise BadParameterError(
            f"unknown catalogue URL {url!r}: use sqlite:///path (embedded) or icat+https://host (ICAT)"
        )
    return url


def open_embedded_store(url: str, *, settings: Settings | None = None, create: bool = True) -> EmbeddedStore:
    """The embedded store (sessions, session-bound catalogues) of an embedded catalogue URL or path.

    A file that does not exist yet is created (with the current schema) unless ``create`` is false, when it is
    an error; an existing one is checked, never migrated silently (``mxicat init`` does that).
    """
    from mxicat.catalogue.embedded.store import EmbeddedStore

    path = embedded_path(url) or ":memory:"
    create = path == ":memory:" or (create and not Path(path).exists())
    if settings is not None:
        return EmbeddedStore.from_settings(settings, path, create=create)
    return EmbeddedStore(path, create=create)


def _open_embedded(
    url: str, credentials: Mapping[str, Any] | None, settings: Settings | None, *, create: bool = True
) -> Catalogue:
    store = open_embedded_store(url, settings=settings, create=create)
    login = split_credentials(credentials, settings)
    try:
        cat = store.admin() if login is None else store.login(*login)
    except BaseException:
        store.close()
        raise
    cat.owns_store = True  # closing the session closes the file it opened
    cat.owns_session = login is not None  # ... and logs out the session it logged in, as a remote one does
    return cat
