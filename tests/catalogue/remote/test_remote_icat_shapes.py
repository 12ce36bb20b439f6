"""RemoteCatalogue against recorded shapes of a real ICAT (which cannot run here).

``responses`` stands in for icat.server only for behaviours our own ``mxicat serve`` does not reproduce
or cannot show: error bodies of the Java mappers, the server zone in dates (``+02:00``), ``Z``, old 4.x
servers without some properties, proxies answering 502/503 in HTML, servers that ignore LIMIT. Everything
else runs over real HTTP in ``tests/contract``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from mxicat.catalogue.remote import RemoteCatalogue, RemoteIcat, TransportOptions
from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    InternalError,
    NoSuchObjectFoundError,
    NotImplementedYetError,
    ObjectAlreadyExistsError,
    SessionError,
    UnavailableError,
    ValidationError,
)

BASE = "https://icat.example.org"
URL = "icat+https://icat.example.org"
SID = "0d9a3706-80d4-4d29-9ff3-4d65d4308a24"
EM = f"{BASE}/icat/entityManager"
CEST = timezone(timedelta(hours=2))


def _query(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def _form(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body if isinstance(body, str) else body.decode())


@pytest.fixture
def mocked() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def session(mocked: responses.RequestsMock) -> RemoteCatalogue:
    mocked.post(f"{BASE}/icat/session", json={"sessionId": SID})
    opts = TransportOptions(retries=2, backoff=0)
    return RemoteIcat(URL, opts, batch_size=2).login("db", {"username": "root", "password": "pw"})


def test_login_sends_icat_form_and_session_calls(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/icat/session", json={"sessionId": SID})
    mocked.get(f"{BASE}/icat/session/{SID}", json={"userName": "db/root", "remainingMinutes": 117.87021666666666})
    mocked.put(f"{BASE}/icat/session/{SID}", status=204)
    mocked.delete(f"{BASE}/icat/session/{SID}", status=204)
    cat = RemoteIcat(URL).login("db", {"username": "root", "password": "secret"})
    assert cat.session_id == SID
    sent = json.loads(_form(mocked.calls[0])["json"][0])
    assert sent == {"plugin": "db", "credentials": [{"username": "root"}, {"password": "secret"}]}
    assert cat.user_name == "db/root"
    assert cat.remaining_minutes() == pytest.approx(117.87, abs=0.01)
    cat.refresh()
    cat.close()  # logs out the session it opened
    methods = [c.request.method for c in mocked.calls]
    assert methods == ["POST", "GET", "GET", "PUT", "DELETE"]


def test_failed_login_is_session_error(mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{BASE}/icat/session",
        status=403,
        json={"code": "SESSION", "message": "The username and password do not match"},
    )
    with pytest.raises(SessionError, match="do not match"):
        RemoteIcat(URL).login("db", {"username": "root", "password": "wrong"})


def test_search_decodes_dates_in_every_server_zone(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    recorded = [
        {
            "Dataset": {
                "id": 7,
                "createId": "db/root",
                "createTime": "2024-05-01T12:00:00.000+02:00",
                "modId": "db/root",
                "modTime": "2024-05-01T10:00:00.000Z",
                "name": "lyso_1",
                "complete": False,
                "startDate": "2024-05-01T12:00:00.123+0200",
                "investigation": {"id": 3, "createTime": "2024-01-01T00:00:00.000Z", "name": "mx2532"},
                "parameters": [
                    {"id": 9, "stringValue": "2024-05-01T12:00:00.000Z", "dateTimeValue": "2024-05-02T00:00:00.000Z"}
                ],
                "datafiles": [],
            }
        }
    ]
    mocked.get(EM, json=recorded)
    (ds,) = session.search("SELECT ds FROM Dataset ds INCLUDE ds.investigation, ds.parameters")
    fields = ds["Dataset"]
    assert fields["createTime"] == datetime(2024, 5, 1, 12, tzinfo=CEST)
    assert fields["createTime"] == fields["modTime"]  # same instant, two spellings
    assert fields["startDate"].utcoffset() == timedelta(hours=2)
    assert fields["startDate"].microsecond == 123000
    assert fields["investigation"]["createTime"] == datetime(2024, 1, 1, tzinfo=UTC)
    param = fields["parameters"][0]
    assert param["stringValue"] == "2024-05-01T12:00:00.000Z"  # a string field stays a string
    assert param["dateTimeValue"] == datetime(2024, 5, 2, tzinfo=UTC)
    assert fields["complete"] is False and fields["datafiles"] == []
    assert _query(mocked.calls[-1])["sessionId"] == [SID]


def test_selected_values_and_rows(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.get(EM, json=["2024-05-01T12:00:00.000+02:00", None, "2024-05-01T12:00:00Z"])
    assert session.search("SELECT ds.startDate FROM Dataset ds") == [
        datetime(2024, 5, 1, 12, tzinfo=CEST),
        None,
        datetime(2024, 5, 1, 12, tzinfo=UTC),
    ]
    # a selected string field stays a string even when it looks like a date; the query says which is which
    mocked.get(EM, json=[["2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00.000Z"]])
    query = "SELECT p.stringValue, MAX(p.dateTimeValue) FROM DatasetParameter p GROUP BY p.stringValue"
    assert session.search(query) == [
        ["2024-05-01T12:00:00.000Z", datetime(2024, 5, 1, 12, tzinfo=UTC)]
    ]
    # a query the client cannot parse falls back to ICAT's exact date form
    mocked.get(EM, json=["2024-05-01T12:00:00.000Z", "plain"])
    assert session.search("Dataset.startDate") == [datetime(2024, 5, 1, 12, tzinfo=UTC), "plain"]
    mocked.get(EM, json=[[126, "a fred", 1.5], [185, "b", None]])
    assert session.search("SELECT f.id, f.name, f.x FROM Facility f") == [[126, "a fred", 1.5], [185, "b", None]]


def test_get_with_include(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.get(EM, json={"Dataset": {"id": 5, "name": "d", "modTime": "2024-05-01T10:00:00.000Z", "datafiles": [
        {"id": 8, "name": "f.h5", "datafileCreateTime": "2024-05-01T10:00:01.000Z"}]}})
    obj = session.get("Dataset ds INCLUDE ds.datafiles", 5)
    assert obj["Dataset"]["datafiles"][0]["datafileCreateTime"] == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    assert _query(mocked.calls[-1])["id"] == ["5"]


@dataclass
class ErrorCase:
    status: int
    body: dict[str, object]
    error: type[Exception]
    offset: int = -1


ERROR_CASES = {
    "bad_parameter_with_offset": ErrorCase(
        400,
        {"code": "BAD_PARAMETER", "message": "Expected token from types [ENTITY] at token Datasetx", "offset": 14},
        BadParameterError,
        14,
    ),
    "session_expired": ErrorCase(
        403, {"code": "SESSION", "message": f"Unable to find user by sessionid: {SID}"}, SessionError
    ),
    "privileges": ErrorCase(
        403,
        {"code": "INSUFFICIENT_PRIVILEGES", "message": "CREATE access to this Dataset is not allowed."},
        InsufficientPrivilegesError,
    ),
    "no_such_object": ErrorCase(
        404, {"code": "NO_SUCH_OBJECT_FOUND", "message": "Dataset[id:99] not found."}, NoSuchObjectFoundError
    ),
    "exists_in_list": ErrorCase(
        412,
        {"code": "OBJECT_ALREADY_EXISTS", "message": "Dataset exists with name = 'x'", "offset": 1},
        ObjectAlreadyExistsError,
        1,
    ),
    "validation": ErrorCase(
        412,
        {"code": "VALIDATION", "message": "attempt to return more than 10000 entities"},
        ValidationError,
    ),
    "java_exception": ErrorCase(
        500, {"code": "INTERNAL", "message": "class java.lang.NullPointerException null"}, InternalError
    ),
    "unknown_call": ErrorCase(
        501,
        {"code": "NOT_IMPLEMENTED", "message": "Operation not implemented by this ICAT server."},
        NotImplementedYetError,
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_error_bodies_map_to_mxicat_errors(
    case: ErrorCase, session: RemoteCatalogue, mocked: responses.RequestsMock
) -> None:
    mocked.get(EM, status=case.status, json=case.body)
    with pytest.raises(case.error) as info:
        session.search("SELECT ds FROM Dataset ds")
    assert info.value.offset == case.offset
    assert info.value.message == case.body["message"]


def test_proxy_html_and_wrong_endpoint(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.post(EM, status=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html")
    with pytest.raises(UnavailableError, match="HTTP 502"):
        session.create({"Facility": {"name": "x"}})
    mocked.get(f"{BASE}/icat/version", status=404, body="<html>Not Found</html>", content_type="text/html")
    with pytest.raises(NotImplementedYetError, match="HTTP 404"):
        session.version()


def test_too_long_search_url_is_a_clear_bad_parameter(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    """Payara/Grizzly in front of icat.server refuse request lines over its header limit (about 8 KB)."""
    mocked.get(EM, status=414, body="Request-URI Too Long", content_type="text/plain")
    ids = ",".join(str(i) for i in range(3000))
    with pytest.raises(BadParameterError, match="split long IN"):
        session.search(f"SELECT d FROM Dataset d WHERE d.id IN ({ids})")


def test_reads_are_retried_writes_are_not(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.get(EM, status=503, body="busy")
    mocked.get(EM, json=[1])
    assert session.search("SELECT COUNT(d) FROM Dataset d") == [1]
    assert [c.request.method for c in mocked.calls[1:]].count("GET") == 2
    before = len(mocked.calls)
    mocked.post(EM, status=503, body="busy")
    with pytest.raises(UnavailableError):
        session.create({"Facility": {"name": "x"}})
    assert len(mocked.calls) - before == 1


def test_unreachable_server_names_the_url(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/icat/version", body=requests.exceptions.ConnectionError("refused"))
    server = RemoteIcat(URL, TransportOptions(retries=0))
    with pytest.raises(UnavailableError, match="icat.example.org"):
        server.version()


def test_old_server_without_max_entities_pages_at_default(mocked: responses.RequestsMock) -> None:
    """ICAT 4.4-era properties carry no maxEntities/containerType: the client assumes ICAT's default."""
    mocked.get(f"{BASE}/icat/properties", json={"lifetimeMinutes": 120, "authenticators": []})
    mocked.get(f"{BASE}/icat/version", json={"version": "4.4.0"})
    server = RemoteIcat(URL)
    assert server.max_entities == 10000
    assert server.version() == "4.4.0"


def test_search_chunked_pages_under_max_entities(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/icat/properties", json={"maxEntities": 3, "lifetimeMinutes": 120, "authenticators": []})
    pages = {"0, 3": [1, 2, 3], "3, 3": [4, 5, 6], "6, 3": [7]}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)["query"][0]
        assert query.startswith("SELECT ds.id FROM Dataset ds WHERE ds.name <> 'LIMIT 9' ORDER BY ds.id LIMIT ")
        return 200, {}, json.dumps(pages[query.rsplit("LIMIT ", 1)[1]])

    mocked.add_callback(responses.GET, EM, callback=answer)
    query = "SELECT ds.id FROM Dataset ds WHERE ds.name <> 'LIMIT 9' ORDER BY ds.id"
    assert list(session.search_chunked(query, chunk=100)) == [1, 2, 3, 4, 5, 6, 7]


def test_search_chunked_keeps_a_given_limit_and_halves_on_validation(
    session: RemoteCatalogue, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/icat/properties", json={"maxEntities": 100})
    seen: list[str] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)["query"][0]
        seen.append(query)
        skip, count = (int(x) for x in query.rsplit("LIMIT ", 1)[1].split(","))
        if count > 2:  # INCLUDEd children push this page over maxEntities
            return 412, {}, json.dumps({"code": "VALIDATION", "message": "attempt to return more than 100 entities"})
        return 200, {}, json.dumps(list(range(skip, skip + count)))

    mocked.add_callback(responses.GET, EM, callback=answer)
    query = "SELECT ds FROM Dataset ds ORDER BY ds.id LIMIT 10, 5 INCLUDE ds.datafiles"
    got = list(session.search_chunked(query, chunk=4))
    assert got == [10, 11, 12, 13, 14]
    assert seen[0] == "SELECT ds FROM Dataset ds ORDER BY ds.id INCLUDE ds.datafiles LIMIT 10, 4"


def test_server_ignoring_limit_is_detected(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    """icat.server #128 made python-icat's searchChunked loop forever; we stop with an error."""
    mocked.get(f"{BASE}/icat/properties", json={"maxEntities": 2})
    mocked.get(EM, json=[1, 2, 3, 4, 5])
    with pytest.raises(InternalError, match="ignores LIMIT"):
        list(session.search_chunked("SELECT x.id FROM Facility x"))


def test_create_many_batches_offsets_and_compensates(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    objs = [{"Facility": {"name": f"f{i}"}} for i in range(5)]
    mocked.post(EM, json=[11, 12])
    mocked.post(EM, json=[13, 14])
    mocked.post(EM, status=412, json={"code": "OBJECT_ALREADY_EXISTS", "message": "Facility exists", "offset": 0})
    mocked.delete(EM, status=204)
    with pytest.raises(ObjectAlreadyExistsError) as info:
        session.create_many(objs)
    assert info.value.offset == 4  # index in the whole list, not in the third batch
    posts = [c for c in mocked.calls if c.request.method == "POST" and c.request.url.startswith(EM)]
    assert [len(json.loads(_form(c)["entities"][0])) for c in posts] == [2, 2, 1]
    (undo,) = [c for c in mocked.calls if c.request.method == "DELETE"]
    assert json.loads(_query(undo)["entities"][0]) == [{"Facility": {"id": i}} for i in (14, 13, 12, 11)]


def test_create_many_success_and_date_encoding(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.post(EM, json=[1, 2])
    mocked.post(EM, json=[3])
    start = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=CEST)
    objs = [
        {"Investigation": {"name": "a", "startDate": start}},
        {"Investigation": {"name": "b", "startDate": datetime(2024, 5, 1, 10)}},
        {"Investigation": {"name": "c", "endDate": start.astimezone(UTC)}},
    ]
    assert session.create_many(objs) == [1, 2, 3]
    first = json.loads(_form(mocked.calls[1])["entities"][0])
    assert first[0]["Investigation"]["startDate"] == "2024-05-01T12:00:00.250+02:00"
    assert first[1]["Investigation"]["startDate"] == "2024-05-01T10:00:00.000Z"
    second = json.loads(_form(mocked.calls[2])["entities"][0])
    assert second[0]["Investigation"]["endDate"] == "2024-05-01T10:00:00.250Z"


def test_update_and_delete_send_only_what_icat_accepts(
    session: RemoteCatalogue, mocked: responses.RequestsMock
) -> None:
    mocked.post(EM, json=[5])
    mocked.delete(EM, status=204)
    session.update({"Dataset": {"id": 5, "description": None}})
    assert json.loads(_form(mocked.calls[-1])["entities"][0]) == [{"Dataset": {"id": 5, "description": None}}]
    session.delete([{"Dataset": {"id": 5, "name": "ignored"}}])
    assert json.loads(_query(mocked.calls[-1])["entities"][0]) == [{"Dataset": {"id": 5}}]
    with pytest.raises(BadParameterError):
        session.create({"Dataset": {"id": 5}})


def test_is_access_allowed_read_only(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    mocked.get(EM, json=[1])
    assert session.is_access_allowed({"Dataset": {"id": 3}}, "READ") is True
    assert "x.id = 3" in _query(mocked.calls[-1])["query"][0]
    with pytest.raises(NotImplementedYetError, match="SOAP"):
        session.is_access_allowed({"Dataset": {"id": 3}}, "UPDATE")


def test_tls_options_reach_requests(tmp_path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used")
    opts = TransportOptions(verify=str(bundle), cert=("c.pem", "k.pem"), timeout=2.5, connect_timeout=0.5)
    server = RemoteIcat("icat+https://icat.example.org:8181/prefix", opts)
    http = server.transport._http
    assert http.verify == str(bundle)
    assert http.cert == ("c.pem", "k.pem")
    assert server.transport._timeout == (0.5, 2.5)
    assert server.transport.base_url == "https://icat.example.org:8181/prefix"
    with pytest.raises(BadParameterError, match="not an ICAT URL"):
        RemoteIcat("ftp://x")
    assert RemoteIcat("icat+https://icat.example.org/icat/").transport.base_url == BASE


def test_auto_refresh_keeps_a_long_running_session(session: RemoteCatalogue, mocked: responses.RequestsMock) -> None:
    now = [1000.0]
    session._clock = lambda: now[0]
    session._refreshed = now[0]
    mocked.get(EM, json=[0])
    mocked.put(f"{BASE}/icat/session/{SID}", status=204)
    session.search("SELECT COUNT(f) FROM Facility f")
    now[0] += 29 * 60
    session.search("SELECT COUNT(f) FROM Facility f")
    assert [c.request.method for c in mocked.calls[1:]] == ["GET", "GET"]
    now[0] += 2 * 60  # 31 minutes since the login: refresh first
    session.search("SELECT COUNT(f) FROM Facility f")
    assert [c.request.method for c in mocked.calls[1:]] == ["GET", "GET", "PUT", "GET"]


@pytest.mark.parametrize("key", ["loggedIn", "isLoggedIn"])  # the code writes loggedIn, the javadoc isLoggedIn
def test_is_logged_in_reads_both_spellings(mocked: responses.RequestsMock, key: str) -> None:
    mocked.get(f"{BASE}/icat/user/db/jdoe", json={key: True})
    assert RemoteIcat(URL).is_logged_in("db/jdoe") is True
