"""No input makes the served ICAT REST API answer 500: every refusal is an ICAT error body with a 4xx status.

Hypothesis sends arbitrary query texts, ids and entity JSON (derandomized, so runs are reproducible).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxicat.catalogue.embedded.auth import write_simple_user
from mxicat.http.app import create_app
from mxicat.settings import Settings

ICAT_CODES = {"BAD_PARAMETER", "SESSION", "INSUFFICIENT_PRIVILEGES", "NO_SUCH_OBJECT_FOUND",
              "OBJECT_ALREADY_EXISTS", "VALIDATION", "NOT_IMPLEMENTED"}

QUERIES = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        "SELECT ds FROM Dataset ds WHERE ds.id = 99999999999999999999999",
        "SELECT f FROM Facility f LIMIT 0, 99999999999999999999",
        "SELECT COUNT(x) FROM Dataset x WHERE x.name LIKE '%' ESCAPE 'ab'",
        "SELECT i FROM Investigation i WHERE i.startDate > {ts 2024-13-45 99:99:99}",
        "Facility INCLUDE 1",
        "SELECT ds FROM Dataset ds INCLUDE ds.nothing",
    ]),
)
KEYS = st.sampled_from(["Facility", "Dataset", "Investigation", "name", "id", "investigation", "datafiles",
                        "startDate", "fileSize", "complete", "x"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, str]:
    root = tmp_path_factory.mktemp("fuzz")
    auth = root / "users.yaml"
    write_simple_user(auth, "root", "pw")
    app = create_app(Settings(catalogue=f"sqlite:///{root / 'cat.db'}", auth_file=auth, outbox=root / "o.db"))
    client = TestClient(app, raise_server_exceptions=False)
    login = {"plugin": "simple", "credentials": [{"username": "root"}, {"password": "pw"}]}
    sid = client.post("/icat/session", data={"json": json.dumps(login)}).json()["sessionId"]
    client.post("/icat/entityManager", data={"sessionId": sid, "entities": json.dumps({"Facility": {"name": "F"}})})
    return client, sid


def _check(resp: Any) -> None:
    assert resp.status_code < 500, (resp.request.method, resp.request.url, resp.text)
    if resp.status_code >= 400:
        body = resp.json()
        assert body["code"] in ICAT_CODES and isinstance(body["message"], str)


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERIES, ident=st.none() | st.text(max_size=25) | st.integers().map(str), entities=JSON)
def test_no_input_gives_a_server_error(api: tuple[TestClient, str], query: str, ident: str | None,
                                       entities: Any) -> None:
    client, sid = api
    params = {"sessionId": sid, "query": query} | ({"id": ident} if ident is not None else {})
    _check(client.get("/icat/entityManager", params=params))
    _check(client.post("/icat/entityManager", data={"sessionId": sid, "entities": json.dumps(entities)}))
    _check(client.delete("/icat/entityManager", params={"sessionId": sid, "entities": json.dumps(entities)}))
    _check(client.post("/icat/session", data={"json": json.dumps(entities)}))

