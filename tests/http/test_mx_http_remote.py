"""The MX API in front of a remote ICAT: a hub ``mxicat serve`` whose catalogue is another server's ICAT
REST API (``icat+http://``). Logins go to that ICAT; the bearer token is the ICAT session id; every read is
filtered by the remote catalogue's rules.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from api_seed import PASSWORDS, seed_catalogue  # noqa: E402

from mxicat.http.launcher import ServedProcess, serve_subprocess  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedProcess, ServedProcess]]:
    path = tmp_path_factory.mktemp("remote") / "site.db"
    seed_catalogue(path)
    with serve_subprocess({"catalogue": f"sqlite:///{path}", "authenticators": ["db", "anon"]}) as site, \
            serve_subprocess({"catalogue": site.icat_url}) as front:
        yield site, front


def test_login_and_reads_through_the_remote_catalogue(hub: tuple[ServedProcess, ServedProcess]) -> None:
    site, front = hub
    answer = requests.post(f"{front.url}/api/v1/auth/login", timeout=30, json={
        "plugin": "db", "username": "bob", "password": PASSWORDS["bob"]})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    # the token is a session of the remote ICAT itself
    info = requests.get(f"{site.url}/icat/session/{token}", timeout=10).json()
    assert info["userName"] == "db/bob"
    headers = {"Authorization": f"Bearer {token}"}
    page = requests.get(f"{front.url}/api/v1/datasets", headers=headers, params={"filter": "investigation = mx2000"},
                        timeout=30).json()
    assert {i["name"] for i in page["items"]} == {"mx2000_run0", "mx2000_run1", "mx2000_merged"}
    hidden = requests.get(f"{front.url}/api/v1/datasets", headers=headers,
                          params={"filter": "investigation = mx1000"}, timeout=30).json()
    assert hidden["items"] == []
    assert requests.get(f"{front.url}/icat/version", timeout=10).status_code == 404  # no ICAT API in front


def test_refused_login_is_401_and_anonymous_uses_the_remote_anon_login(
        hub: tuple[ServedProcess, ServedProcess]) -> None:
    _, front = hub
    refused = requests.post(f"{front.url}/api/v1/auth/login", timeout=30,
                            json={"plugin": "db", "username": "bob", "password": "wrong"})
    assert refused.status_code == 401 and refused.json()["code"] == "SESSION"
    # the remote catalogue offers 'anon': anonymous requests log in with it and see public data only
    me = requests.get(f"{front.url}/api/v1/auth/session", timeout=30).json()
    assert me["user_name"] == "anon/anon" and me["anonymous"] is True
    anonymous = requests.get(f"{front.url}/api/v1/datasets", timeout=30).json()
    assert {i["name"] for i in anonymous["items"]} == {"mx0001_run0", "mx0001_run1"}
    panosc = requests.get(f"{front.url}/panosc/Datasets/count", timeout=30).json()
    assert panosc == {"count": 2}
