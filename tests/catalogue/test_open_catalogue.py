"""open_catalogue: URL forms, administrator vs real login, in-memory, credentials from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxicat.catalogue.base import Catalogue
from mxicat.catalogue.embedded.auth import write_simple_user
from mxicat.catalogue.open import embedded_path, is_remote_url, open_catalogue, split_credentials
from mxicat.errors import BadParameterError, SessionError
from mxicat.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    auth = tmp_path / "users.yaml"
    write_simple_user(auth, "root", "pw")
    write_simple_user(auth, "jdoe", "jdoe-pw")
    return Settings(catalogue=f"sqlite:///{tmp_path / 'cat.db'}", auth_file=auth, root_user_names=["simple/root"],
                    outbox=tmp_path / "outbox.db")


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:///rel/mx.db", "rel/mx.db"), ("sqlite:////abs/mx.db", "/abs/mx.db"), ("mx.db", "mx.db"),
     ("sqlite://", None), (":memory:", None)],
)
def test_embedded_paths(url: str, path: str | None) -> None:
    assert embedded_path(url) == path
    assert not is_remote_url(url)


def test_url_errors() -> None:
    assert is_remote_url("icat+https://icat.esrf.fr") and is_remote_url("ICAT+http://localhost:8080")
    with pytest.raises(BadParameterError, match="unknown catalogue URL"):
        open_catalogue("postgres://x/y")
    with pytest.raises(BadParameterError, match="needs credentials"):
        open_catalogue("icat+https://icat.example.org")
    with pytest.raises(BadParameterError, match="not both"):
        open_catalogue("sqlite:///x.db", memory=True)
    with pytest.raises(BadParameterError, match="plugin"):
        split_credentials({"username": "u", "password": "p"}, None)


def test_bare_path_creates_file_and_opens_as_administrator(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.db"
    with open_catalogue(str(path)) as cat:
        assert isinstance(cat, Catalogue)
        assert cat.kind == "embedded" and cat.user_name == "simple/root"
        fid = cat.create({"Facility": {"name": "ESRF"}})
    assert path.exists()
    with open_catalogue(f"sqlite:///{path}") as again:  # an existing file is reopened, not recreated
        assert again.search("SELECT f.id FROM Facility f") == [fid]


def test_credentials_make_a_real_login(settings: Settings) -> None:
    with open_catalogue(settings.catalogue, settings=settings) as admin:
        admin.create({"Facility": {"name": "ESRF"}})
    with open_catalogue(settings.catalogue, settings=settings,
                        credentials={"plugin": "simple", "username": "jdoe", "password": "jdoe-pw"}) as cat:
        assert cat.user_name == "simple/jdoe"
        assert 0 < cat.remaining_minutes() <= settings.lifetime_minutes
        with open_catalogue(settings.catalogue, settings=settings) as admin:
            assert admin.store.sessions.is_logged_in("simple/jdoe")  # type: ignore[attr-defined]
    with open_catalogue(settings.catalogue, settings=settings) as admin:  # closing logged the session out
        assert not admin.store.sessions.is_logged_in("simple/jdoe")  # type: ignore[attr-defined]
    with pytest.raises(SessionError):
        open_catalogue(settings.catalogue, settings=settings,
                       credentials={"plugin": "simple", "username": "jdoe", "password": "nope"})


def test_credentials_from_settings(settings: Settings) -> None:
    configured = settings.model_copy(update={"username": "jdoe", "password": None, "plugin": "simple"})
    assert split_credentials(None, configured) == ("simple", {"username": "jdoe", "password": ""})
    assert split_credentials({"username": "a", "password": "b"}, configured) == (
        "simple", {"username": "a", "password": "b"})
    with open_catalogue(settings=settings.model_copy(update={"username": "root", "plugin": "simple"}),
                        credentials={"password": "pw"}) as cat:
        assert cat.user_name == "simple/root"


def test_memory_catalogue() -> None:
    with open_catalogue(memory=True) as cat:
        cat.create({"Facility": {"name": "mem"}})
        assert cat.search("SELECT f.name FROM Facility f") == ["mem"]
