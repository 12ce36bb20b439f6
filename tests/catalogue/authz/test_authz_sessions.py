"""Sessions and authenticators of the embedded catalogue, on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from mxicat.catalogue.embedded.auth import (
    Authenticator,
    DbAuthenticator,
    SimpleAuthenticator,
    build_authenticators,
    hash_password,
    register_authenticator,
    verify_password,
    write_simple_user,
)
from mxicat.catalogue.embedded.sessions import SessionManager
from mxicat.errors import ConfigurationError, SessionError


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def setup(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'cat.db'}")
    auth_file = tmp_path / "users.yaml"
    write_simple_user(auth_file, "root", "rootpw")
    auths = build_authenticators(engine, auth_file=auth_file, enabled=["simple", "db", "anon"])
    assert isinstance(auths["db"], DbAuthenticator)
    auths["db"].set_password("jdoe", "secret")
    clock = Clock()
    mgr = SessionManager(engine, auths, lifetime_minutes=120, root_user_names=["simple/root"], clock=clock)
    return mgr, clock, engine, auths


def test_hash_roundtrip_and_salt() -> None:
    a, b = hash_password("pw"), hash_password("pw")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("pw", a) and verify_password("pw", b)
    assert not verify_password("pW", a)
    assert not verify_password("pw", "garbage")


def test_login_user_name_and_root(setup) -> None:
    mgr, _, _, _ = setup
    sid = mgr.login("simple", [{"username": "root"}, {"password": "rootpw"}])
    assert mgr.user_name(sid) == "simple/root"
    assert mgr.is_root("simple/root")
    sid2 = mgr.login("db", {"username": "jdoe", "password": "secret"})
    assert mgr.user_name(sid2) == "db/jdoe"
    assert not mgr.is_root("db/jdoe")
    assert mgr.is_logged_in("db/jdoe")
    assert mgr.user_name(mgr.login("anon", {})) == "anon/anon"


@pytest.mark.parametrize(
    ("plugin", "creds"),
    [
        ("db", {"username": "jdoe", "password": "wrong"}),
        ("db", {"username": "nobody", "password": "secret"}),
        ("simple", {"username": "root", "password": "secret"}),
        ("ldap", {"username": "jdoe", "password": "secret"}),
        ("db", {"username": "jdoe"}),
    ],
)
def test_login_refused(setup, plugin: str, creds: dict[str, str]) -> None:
    mgr, _, _, _ = setup
    with pytest.raises(SessionError) as err:
        mgr.login(plugin, creds)
    assert err.value.code == "SESSION"


def test_lifetime_refresh_expiry_logout(setup) -> None:
    mgr, clock, _, _ = setup
    sid = mgr.login("db", {"username": "jdoe", "password": "secret"})
    assert mgr.remaining_minutes(sid) == pytest.approx(120)
    clock.now += timedelta(minutes=100)
    assert mgr.remaining_minutes(sid) == pytest.approx(20)
    mgr.refresh(sid)
    assert mgr.remaining_minutes(sid) == pytest.approx(120)
    clock.now += timedelta(minutes=121)
    with pytest.raises(SessionError, match="expired"):
        mgr.user_name(sid)
    assert not mgr.is_logged_in("db/jdoe")
    sid = mgr.login("db", {"username": "jdoe", "password": "secret"})
    mgr.logout(sid)
    with pytest.raises(SessionError):
        mgr.user_name(sid)
    with pytest.raises(SessionError):
        mgr.logout(sid)


def test_sessions_shared_through_the_file(setup, tmp_path: Path) -> None:
    mgr, clock, _, auths = setup
    sid = mgr.login("db", {"username": "jdoe", "password": "secret"})
    other = SessionManager(create_engine(f"sqlite:///{tmp_path / 'cat.db'}"), auths, clock=clock)
    assert other.user_name(sid) == "db/jdoe"
    other.logout(sid)
    with pytest.raises(SessionError):
        mgr.user_name(sid)


def test_db_password_change_and_remove(setup) -> None:
    mgr, _, _, auths = setup
    db = auths["db"]
    db.set_password("jdoe", "new")
    with pytest.raises(SessionError):
        mgr.login("db", {"username": "jdoe", "password": "secret"})
    assert mgr.login("db", {"username": "jdoe", "password": "new"})
    assert db.users() == ["jdoe"]
    assert db.remove("jdoe") and not db.users()


def test_simple_file_toml_and_errors(tmp_path: Path) -> None:
    toml = tmp_path / "users.toml"
    toml.write_text(f'[users]\nalice = "{hash_password("pw")}"\n')
    assert SimpleAuthenticator(toml).authenticate({"username": "alice", "password": "pw"}) == "alice"
    bad = tmp_path / "bad.yaml"
    bad.write_text("users: [1, 2]\n")
    with pytest.raises(ConfigurationError, match="bad.yaml"):
        SimpleAuthenticator(bad).authenticate({"username": "a", "password": "b"})
    with pytest.raises(ConfigurationError, match="unknown authenticator"):
        build_authenticators(None, enabled=["nope"])


def test_pluggable_authenticator(tmp_path: Path) -> None:
    class Ldap:
        mnemonic = "ldap"

        def authenticate(self, credentials):
            if credentials.get("password") != "ok":
                raise SessionError("no")
            return credentials["username"]

        def description(self):
            return {"mnemonic": "ldap", "keys": [{"name": "username"}, {"name": "password", "hide": True}]}

    register_authenticator("ldap", lambda ctx: Ldap())
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    auths = build_authenticators(engine, enabled=["ldap", "db"])
    assert isinstance(auths["ldap"], Authenticator)
    mgr = SessionManager(engine, auths)
    assert mgr.user_name(mgr.login("ldap", {"username": "x", "password": "ok"})) == "ldap/x"
    props = mgr.properties()
    assert props["lifetimeMinutes"] == 120
    assert [a["mnemonic"] for a in props["authenticators"]] == ["ldap", "db"]
