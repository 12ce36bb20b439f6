"""Authentication for the embedded catalogue: pluggable authenticators that turn credentials into a user name.

ICAT delegates login to *authenticator plugins* identified by a mnemonic (``db``, ``simple``, ``anon``, ...);
a successful login yields the user name ``<mnemonic>/<login>`` (``db/jdoe``), which is what rules see as
``:user``. This module holds:

* :class:`Authenticator` -- the protocol a site authenticator implements (LDAP/OIDC later);
* the registry (:func:`register_authenticator`, entry point group ``mxicat.authenticators``) and
  :func:`build_authenticators`, which makes the configured set for a catalogue;
* ``simple`` (users and salted scrypt hashes in a YAML/TOML file, ``settings.auth_file``), ``db`` (users and
  salted scrypt hashes in the catalogue file, table ``MXICAT_PASSWD``) and ``anon`` (anyone, as ``anon/anon``);
* :func:`hash_password` / :func:`verify_password` (hashlib.scrypt, constant-time comparison).

Every failure to log in raises :class:`~mxicat.errors.SessionError` (ICAT's ``SESSION`` code), with a message
that does not reveal whether the user or the password was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml
from sqlalchemy import Column, Engine, MetaData, String, Table, delete, insert, select, update

from mxicat.errors import BadParameterError, ConfigurationError, SessionError

#: scrypt cost parameters (n=2**14, r=8, p=1: 16 MiB, 30-50 ms per check): the scrypt paper's interactive-login
#: setting. OWASP's table asks p=5 at this n; every stored hash names its own parameters, so hashes made with
#: stronger ones (``hash_password(..., p=5)``) verify unchanged.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SCHEME = "scrypt"


# --------------------------------------------------------------------------------------------- hashing
def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Salted scrypt hash in the self-describing form ``scrypt$n$r$p$<salt b64>$<hash b64>``."""
    if not password:
        raise BadParameterError("an empty password is not allowed")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"{_SCHEME}${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant-time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# ------------------------------------------------------------------------------------------ protocol
def credentials_dict(credentials: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Credentials as a flat dict; accepts ICAT REST's list form ``[{"username": u}, {"password": p}]``."""
    if isinstance(credentials, Mapping):
        return {str(k): str(v) for k, v in credentials.items()}
    out: dict[str, str] = {}
    for item in credentials:
        if not isinstance(item, Mapping):
            raise SessionError(f"credentials must be objects of one key, got {item!r}")
        out.update({str(k): str(v) for k, v in item.items()})
    return out


@runtime_checkable
class Authenticator(Protocol):
    """A login plugin. ``authenticate`` returns the login name *without* the mnemonic prefix."""

    mnemonic: str

    def authenticate(self, credentials: Mapping[str, str]) -> str:
        """Check credentials; return the login name or raise :class:`SessionError`."""
        ...

    def description(self) -> dict[str, Any]:
        """Self-description for ICAT's ``/icat/properties``: ``{"mnemonic", "keys": [{"name", "hide"?}]}``."""
        ...


_PASSWORD_KEYS = [{"name": "username"}, {"name": "password", "hide": True}]


def _user_password(credentials: Mapping[str, str], mnemonic: str) -> tuple[str, str]:
    user = credentials.get("username", "")
    password = credentials.get("password", "")
    if not user or not password:
        raise SessionError(f"authenticator {mnemonic!r} needs the credentials 'username' and 'password'")
    return user, password


def _refuse(mnemonic: str) -> SessionError:
    return SessionError(f"The username and password do not match (authenticator {mnemonic!r})")


# ------------------------------------------------------------------------------------------- simple
@dataclass
class SimpleAuthenticator:
    """Users and scrypt hashes from a YAML or TOML file (re-read when the file changes).

    File layout (YAML shown; TOML the same keys)::

        users:
          root: "scrypt$16384$8$1$...$..."
          dataingest: "scrypt$..."
    """

    path: Path
    mnemonic: str = "simple"
    _cache: tuple[float, dict[str, str]] | None = field(default=None, repr=False)

    def users(self) -> dict[str, str]:
        """Login name → hash, from the file."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError as err:
            raise ConfigurationError(f"auth file {self.path}: {err.strerror}") from err
        if self._cache and self._cache[0] == mtime:
            return self._cache[1]
        text = self.path.read_bytes()
        try:
            data = tomllib.loads(text.decode()) if self.path.suffix == ".toml" else yaml.safe_load(text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as err:
            raise ConfigurationError(f"auth file {self.path}: {err}") from err
        users = (data or {}).get("users") if isinstance(data, dict) else None
        if not isinstance(users, dict):
            raise ConfigurationError(f"auth file {self.path}: expected a mapping 'users: {{name: hash}}'")
        result = {str(k): str(v) for k, v in users.items()}
        self._cache = (mtime, result)
        return result

    def authenticate(self, credentials: Mapping[str, str]) -> str:
        user, password = _user_password(credentials, self.mnemonic)
        stored = self.users().get(user)
        if stored is None or not verify_password(password, stored):
            raise _refuse(self.mnemonic)
        return user

    def description(self) -> dict[str, Any]:
        return {"mnemonic": self.mnemonic, "keys": _PASSWORD_KEYS}


def write_simple_user(path: Path, user: str, password: str) -> None:
    """Add or replace one user in a YAML auth file (created if missing)."""
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("users", {})[user] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=True))
    path.chmod(0o600)


# ----------------------------------------------------------------------------------------------- db
_metadata = MetaData()
#: the ``db`` authenticator's own table (not an ICAT entity; ICAT's authn_db keeps a PASSWD table likewise)
PASSWD = Table(
    "MXICAT_PASSWD",
    _metadata,
    Column("USERNAME", String(255), primary_key=True),
    Column("ENCODEDPASSWORD", String(255), nullable=False),
)


@dataclass
class DbAuthenticator:
    """Users and scrypt hashes kept in the catalogue file itself (table ``MXICAT_PASSWD``)."""

    engine: Engine
    mnemonic: str = "db"

    def __post_init__(self) -> None:
        _metadata.create_all(self.engine, tables=[PASSWD], checkfirst=True)

    def authenticate(self, credentials: Mapping[str, str]) -> str:
        user, password = _user_password(credentials, self.mnemonic)
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(PASSWD.c.ENCODEDPASSWORD).where(PASSWD.c.USERNAME == user)
            ).scalar_one_or_none()
        if stored is None or not verify_password(password, stored):
            raise _refuse(self.mnemonic)
        return user

    def description(self) -> dict[str, Any]:
        return {"mnemonic": self.mnemonic, "keys": _PASSWORD_KEYS}

    def set_password(self, user: str, password: str) -> None:
        """Add the user or change the password (one transaction)."""
        if not user or "/" in user:
            raise BadParameterError(f"invalid db login name {user!r}")
        encoded = hash_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(PASSWD).where(PASSWD.c.USERNAME == user).values(ENCODEDPASSWORD=encoded)
            ).rowcount
            if not done:
                conn.execute(insert(PASSWD).values(USERNAME=user, ENCODEDPASSWORD=encoded))

    def remove(self, user: str) -> bool:
        """Remove the login; True if it existed."""
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(PASSWD).where(PASSWD.c.USERNAME == user)).rowcount)

    def users(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(PASSWD.c.USERNAME).order_by(PASSWD.c.USERNAME)).scalars())


# --------------------------------------------------------------------------------------------- anon
@dataclass
class AnonAuthenticator:
    """Anyone may log in as ``anon/anon`` (what the rules give that name is up to the rules)."""

    mnemonic: str = "anon"

    def authenticate(self, credentials: Mapping[str, str]) -> str:
        return "anon"

    def description(self) -> dict[str, Any]:
        return {"mnemonic": self.mnemonic, "keys": []}


# ----------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class AuthContext:
    """What an authenticator factory may use: the catalogue engine and the settings' auth file."""

    engine: Engine | None
    auth_file: Path | None


AuthenticatorFactory = Callable[[AuthContext], Authenticator | None]
"""Builds an authenticator, or returns None when it is not configured (e.g. no auth file)."""

_REGISTRY: dict[str, AuthenticatorFactory] = {
    "simple": lambda ctx: SimpleAuthenticator(ctx.auth_file) if ctx.auth_file else None,
    "db": lambda ctx: DbAuthenticator(ctx.engine) if ctx.engine is not None else None,
    "anon": lambda ctx: AnonAuthenticator(),
}
ENTRY_POINT_GROUP = "mxicat.authenticators"


def register_authenticator(mnemonic: str, factory: AuthenticatorFactory) -> None:
    """Make a site authenticator available under ``mnemonic`` (or replace a built-in one)."""
    _REGISTRY[mnemonic] = factory


def available_authenticators() -> dict[str, AuthenticatorFactory]:
    """Built-in and registered factories plus those of installed ``mxicat.authenticators`` entry points."""
    found = dict(_REGISTRY)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.load())
    return found


def build_authenticators(
    engine: Engine | None,
    *,
    auth_file: Path | None = None,
    enabled: Sequence[str] | None = None,
) -> dict[str, Authenticator]:
    """The authenticators a catalogue offers, keyed by mnemonic.

    ``enabled`` defaults to ``simple`` (when an auth file is given) and ``db``; ``anon`` only when asked for.
    """
    factories = available_authenticators()
    names = list(enabled) if enabled is not None else ["simple", "db"]
    ctx = AuthContext(engine=engine, auth_file=auth_file)
    result: dict[str, Authenticator] = {}
    for name in names:
        factory = factories.get(name)
        if factory is None:
            raise ConfigurationError(f"unknown authenticator {name!r}; known: {sorted(factories)}")
        auth = factory(ctx)
        if auth is not None:
            result[name] = auth
    return result
