"""Fixtures of the Catalogue contract suite: ``backend`` (embedded / served / live ICAT) and the served process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_backends import LIFETIME_MINUTES, LIVE_ICAT_ENV, MAX_ENTITIES, Backend, live_icat, write_users

from mxicat.http.launcher import serve_subprocess


@pytest.fixture(scope="session")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``icat+http://127.0.0.1:<port>`` of a ``mxicat serve`` subprocess on its own catalogue file."""
    root = tmp_path_factory.mktemp("served")
    auth_file = root / "users.yaml"
    write_users(auth_file)
    settings = {
        "catalogue": f"sqlite:///{root / 'served.db'}",
        "auth_file": auth_file,
        "root_user_names": ["simple/root"],
        "max_entities": MAX_ENTITIES,
        "lifetime_minutes": LIFETIME_MINUTES,
        "outbox": root / "outbox.db",
    }
    with serve_subprocess(settings, log_path=root / "serve.log") as served:
        yield served.icat_url


@pytest.fixture(scope="session")
def live_backend() -> Backend:
    """A real ICAT, when ``MXICAT_TEST_ICAT_URL``, ``_ROOT`` and ``_USER`` are set (never in CI here)."""
    found = live_icat()
    if found is None:
        pytest.skip(f"no live ICAT: set {', '.join(LIVE_ICAT_ENV)} (URL, plugin:login:password x2)")
    return found


@pytest.fixture(params=["embedded", "served", "icat"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs once per backend: embedded, mxicat serve over HTTP, a live ICAT (opt-in)."""
    if request.param == "icat":
        return request.getfixturevalue("live_backend")  # type: ignore[no-any-return]
    if request.param == "served":
        return Backend("served", request.getfixturevalue("served_url"))
    from mxicat.settings import Settings

    auth_file = tmp_path / "users.yaml"
    write_users(auth_file)
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    settings = Settings(
        catalogue=url,
        auth_file=auth_file,
        root_user_names=["simple/root"],
        max_entities=MAX_ENTITIES,
        lifetime_minutes=LIFETIME_MINUTES,
        outbox=tmp_path / "outbox.db",
    )
    return Backend("embedded", url, settings)
