"""The served ICAT REST API at the HTTP level: exact paths, inputs, JSON shapes, statuses, as icat.server.

One app per test (``create_app`` on a fresh catalogue file), driven with Starlette's TestClient; the
contract suite covers the same calls over a real socket through RemoteCatalogue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mxicat.catalogue.embedded.auth import write_simple_user
from mxicat.http.app import create_app
from mxicat.settings import Settings

ICAT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    auth_file = tmp_path / "users.yaml"
    write_simple_user(auth_file, "root", "pw")
    write_simple_user(auth_file, "jdoe", "pw2")
    return Settings(
        catalogue=f"sqlite:///{tmp_path / 'cat.db'}",
        auth_file=auth_file,
        root_user_names=["simple/root"],
        max_entities=50,
        lifetime_minutes=60,
        cors_origins=["https://portal.example.org"],
        outbox=tmp_path / "outbox.db",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def login(client: TestClient, user: str = "root", password: str = "pw") -> str:
    payload = {"plugin": "simple", "credentials": [{"username": user}, {"password": password}]}
    resp = client.post("/icat/session", data={"json": json.dumps(payload)})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["sessionId"])


def test_version_and_properties(client: TestClient) -> None:
    assert client.get("/icat/version").json()["version"] == "6.2.0"
    props = client.get("/icat/properties").json()
    assert props["maxEntities"] == 50 and props["lifetimeMinutes"] == 60
    assert props["containerType"] == "UNKNOWN"
    simple = next(a for a in props["authenticators"] if a["mnemonic"] == "simple")
    assert {"name": "password", "hide": True} in simple["keys"]


def test_session_calls(client: TestClient) -> None:
    sid = login(client)
    info = client.get(f"/icat/session/{sid}").json()
    assert info["userName"] == "simple/root" and 59 < info["remainingMinutes"] <= 60
    assert client.get("/icat/user/simple/root").json() == {"loggedIn": True}
    assert client.get("/icat/user/simple/jdoe").json() == {"loggedIn": False}
    resp = client.put(f"/icat/session/{sid}")
    assert resp.status_code == 204 and resp.content == b""
    assert client.delete(f"/icat/session/{sid}").status_code == 204
    gone = client.get(f"/icat/session/{sid}")
    assert gone.status_code == 403 and gone.json()["code"] == "SESSION"


@pytest.mark.parametrize(
    ("form", "code", "status"),
    [
        ({}, "BAD_PARAMETER", 400),
        ({"json": "{not json"}, "BAD_PARAMETER", 400),
        ({"json": json.dumps({"plugin": "ldap", "credentials": []})}, "SESSION", 403),
        ({"json": json.dumps({"plugin": "simple", "credentials": [{"username": "root"}, {"password": "x"}]})},
         "SESSION", 403),
        ({"json": "[" * 100000 + "]" * 100000}, "BAD_PARAMETER", 400),
    ],
    ids=["no-json", "bad-json", "unknown-plugin", "wrong-password", "deep-json"],
)
def test_login_errors(client: TestClient, form: dict[str, str], code: str, status: int) -> None:
    resp = client.post("/icat/session", data=form)
    assert resp.status_code == status
    assert resp.json()["code"] == code and resp.json()["message"]


def test_entity_manager_write_search_get_delete(client: TestClient) -> None:
    sid = login(client)
    entities = [{"Facility": {"name": "ESRF", "datasetTypes": [{"name": "raw"}],
                              "investigationTypes": [{"name": "MX"}]}}]
    resp = client.post("/icat/entityManager", data={"sessionId": sid, "entities": json.dumps(entities)})
    assert resp.status_code == 200, resp.text
    (fid,) = resp.json()
    # one object (not a list) is accepted too
    one = {"Investigation": {"name": "mx2532", "visitId": "1", "title": "t", "facility": {"id": fid},
                             "type": {"id": client.get("/icat/entityManager", params={
                                 "sessionId": sid, "query": "SELECT t.id FROM InvestigationType t"}).json()[0]},
                             "startDate": "2024-05-01T12:00:00.000+02:00"}}
    resp = client.post("/icat/entityManager", data={"sessionId": sid, "entities": json.dumps(one)})
    assert resp.status_code == 200, resp.text
    (inv,) = resp.json()

    found = client.get("/icat/entityManager", params={"sessionId": sid, "query": "SELECT f FROM Facility f"}).json()
    assert isinstance(found, list) and set(found[0]) == {"Facility"}
    fac = found[0]["Facility"]
    assert fac["id"] == fid and fac["createId"] == "simple/root"
    assert ICAT_DATE.match(fac["createTime"]) and ICAT_DATE.match(fac["modTime"])
    assert fac["datasetTypes"] == [] and "description" not in fac  # null omitted, 1:N empty unless INCLUDEd

    got = client.get("/icat/entityManager",
                     params={"sessionId": sid, "query": "Investigation i INCLUDE i.facility", "id": inv}).json()
    assert set(got) == {"Investigation"}  # get: one object, no outer array
    assert got["Investigation"]["startDate"] == "2024-05-01T10:00:00.000Z"
    assert got["Investigation"]["facility"]["name"] == "ESRF"

    rows = client.get("/icat/entityManager",
                      params={"sessionId": sid, "query": "SELECT f.id, f.name FROM Facility f"}).json()
    assert rows == [[fid, "ESRF"]]

    resp = client.delete("/icat/entityManager",
                         params={"sessionId": sid, "entities": json.dumps({"Facility": {"id": fid}})})
    assert resp.status_code == 204
    count = client.get("/icat/entityManager",
                       params={"sessionId": sid, "query": "SELECT COUNT(i) FROM Investigation i"}).json()
    assert count == [0]


def error_of(resp: object) -> tuple[int, str, int | None]:
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) <= {"code", "message", "offset"} and body["message"]
    return resp.status_code, body["code"], body.get("offset")  # type: ignore[attr-defined]


def test_entity_manager_errors(client: TestClient) -> None:
    sid = login(client)
    em = "/icat/entityManager"
    assert error_of(client.get(em, params={"sessionId": sid})) == (400, "BAD_PARAMETER", None)
    assert error_of(client.get(em, params={"query": "SELECT f FROM Facility f"}))[:2] == (403, "SESSION")
    assert error_of(client.get(em, params={"sessionId": "nope", "query": "SELECT f FROM Facility f"}))[:2] == (
        403, "SESSION")
    status, code, offset = error_of(client.get(em, params={"sessionId": sid, "query": "SELECT f FROM Nothing f"}))
    assert (status, code) == (400, "BAD_PARAMETER")
    assert error_of(client.get(em, params={"sessionId": sid, "query": "Facility", "id": "x"}))[:2] == (
        400, "BAD_PARAMETER")
    assert error_of(client.get(em, params={"sessionId": sid, "query": "Facility", "id": 424242}))[:2] == (
        404, "NO_SUCH_OBJECT_FOUND")
    objs = [{"Facility": {"name": "a"}}, {"Facility": {"name": "a"}}]
    assert error_of(client.post(em, data={"sessionId": sid, "entities": json.dumps(objs)})) == (
        412, "OBJECT_ALREADY_EXISTS", 1)
    bad_date = [{"Facility": {"name": "b"}}, {"FacilityCycle": {"name": "c", "startDate": "2024-05-01"}}]
    assert error_of(client.post(em, data={"sessionId": sid, "entities": json.dumps(bad_date)})) == (
        400, "BAD_PARAMETER", 1)
    assert error_of(client.post(em, data={"sessionId": sid}))[:2] == (400, "BAD_PARAMETER")
    assert error_of(client.post(em, data={"sessionId": sid, "entities": json.dumps([{"A": {}, "B": {}}])}))[:2] == (
        400, "BAD_PARAMETER")
    with_name = json.dumps([{"Facility": {"id": 1, "name": "x"}}])
    assert error_of(client.delete(em, params={"sessionId": sid, "entities": with_name})) == (400, "BAD_PARAMETER", 0)
    jdoe = login(client, "jdoe", "pw2")
    assert error_of(client.post(em, data={"sessionId": jdoe, "entities": json.dumps({"Facility": {"name": "z"}})}))[
        :2] == (403, "INSUFFICIENT_PRIVILEGES")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_icat_calls_are_not_implemented(client: TestClient, method: str) -> None:
    resp = client.request(method, "/icat/lucene/data")
    assert resp.status_code == 501
    assert resp.json() == {"code": "NOT_IMPLEMENTED", "message": "Operation not implemented by this ICAT server."}
    assert client.patch("/icat/session").status_code == 501


def test_last_resort_handler_logs_and_hides(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings)

    def explode() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    app.add_api_route("/boom", explode)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        resp = test_client.get("/boom")
    assert resp.status_code == 500
    assert resp.json()["code"] == "INTERNAL" and "secret" not in resp.text
    assert "secret detail" in caplog.text


def test_cors_from_settings(client: TestClient) -> None:
    resp = client.options(
        "/icat/version",
        headers={"Origin": "https://portal.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert resp.headers["access-control-allow-origin"] == "https://portal.example.org"
    other = client.get("/icat/version", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_apps_are_independent(tmp_path: Path, settings: Settings) -> None:
    other = settings.model_copy(update={"catalogue": f"sqlite:///{tmp_path / 'other.db'}", "max_entities": 7})
    with TestClient(create_app(settings)) as a, TestClient(create_app(other)) as b:
        assert a.get("/icat/properties").json()["maxEntities"] == 50
        assert b.get("/icat/properties").json()["maxEntities"] == 7


def test_in_front_of_a_remote_icat_no_icat_routes_are_served(settings: Settings) -> None:
    remote = settings.model_copy(update={"catalogue": "icat+https://icat.example.org"})
    app = create_app(remote)  # opens nothing: the ICAT is reached by the routes that need it
    assert app.state.icat_backend is None
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/icat")]
