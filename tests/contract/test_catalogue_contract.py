"""One Catalogue contract, two backends: the embedded catalogue, and ``mxicat serve`` through RemoteCatalogue.

Every test runs on both (``backend`` fixture) and asserts the same results, shapes and error classes, so
what passes here behaves the same embedded and over ICAT's REST API. Objects are named per test (uuid) so
tests sharing the served catalogue never see each other's data.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from contract_backends import Backend

from mxicat.catalogue.base import Catalogue
from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    NoSuchObjectFoundError,
    ObjectAlreadyExistsError,
    SessionError,
    ValidationError,
)

CEST = timezone(timedelta(hours=2))


@pytest.fixture
def root(backend: Backend) -> Iterator[Catalogue]:
    with backend.login("root") as cat:
        yield cat


@dataclass
class World:
    """A fresh facility with its types and one investigation, unique to one test."""

    tag: str
    facility: int
    investigation_type: int
    dataset_type: int
    parameter_type: int
    investigation: int


@pytest.fixture
def world(root: Catalogue) -> Iterator[World]:
    tag = uuid.uuid4().hex[:12]
    fid = root.create(
        {
            "Facility": {
                "name": f"fac-{tag}",
                "investigationTypes": [{"name": "experiment"}],
                "datasetTypes": [{"name": "raw"}],
                "parameterTypes": [{"name": "wavelength", "units": "angstrom", "valueType": "NUMERIC"}],
            }
        }
    )
    where = f"x.facility.id = {fid}"
    (it,) = root.search(f"SELECT x.id FROM InvestigationType x WHERE {where}")
    (dt,) = root.search(f"SELECT x.id FROM DatasetType x WHERE {where}")
    (pt,) = root.search(f"SELECT x.id FROM ParameterType x WHERE {where}")
    inv = root.create(
        {
            "Investigation": {
                "name": f"mx{tag}",
                "visitId": "1",
                "title": "lysozyme",
                "facility": {"id": fid},
                "type": {"id": it},
                "startDate": datetime(2024, 5, 1, 12, tzinfo=CEST),
            }
        }
    )
    yield World(tag, fid, it, dt, pt, inv)
    root.delete([{"Facility": {"id": fid}}])  # cascades through everything the test made


def dataset(world: World, name: str, **fields: object) -> dict[str, dict[str, object]]:
    return {
        "Dataset": {
            "name": name,
            "investigation": {"id": world.investigation},
            "type": {"id": world.dataset_type},
            "complete": False,
            **fields,
        }
    }


# ------------------------------------------------------------------------------------------ sessions


def test_session_lifecycle(backend: Backend) -> None:
    cat = backend.login("root")
    assert cat.user_name == backend.user_name("root")
    assert cat.kind in ("embedded", "icat")
    first = cat.remaining_minutes()
    assert 0 < first <= backend.lifetime_minutes
    cat.refresh()
    assert first - 0.5 <= cat.remaining_minutes() <= backend.lifetime_minutes
    assert cat.search("SELECT COUNT(f) FROM Facility f WHERE f.name = 'none'") == [0]
    cat.logout()
    with pytest.raises(SessionError):
        cat.search("SELECT f FROM Facility f")
    cat.close()


def test_login_failures_are_session_errors(backend: Backend) -> None:
    with pytest.raises(SessionError):
        backend.login("root", password="wrong")
    with pytest.raises(SessionError):
        backend.login("root", plugin="nosuchplugin")


def test_bad_session_id(backend: Backend) -> None:
    with pytest.raises(SessionError):
        backend.session(str(uuid.uuid4())).search("SELECT f FROM Facility f")


def test_non_root_user_is_checked_by_rules(backend: Backend, world: World) -> None:
    with backend.login("jdoe") as cat:
        assert cat.user_name == backend.user_name("jdoe")
        assert cat.search(f"SELECT i FROM Investigation i WHERE i.id = {world.investigation}") == []
        with pytest.raises(InsufficientPrivilegesError):
            cat.create({"Facility": {"name": f"not-allowed-{world.tag}"}})


# ------------------------------------------------------------------------------------------- creates


def test_create_nested_cascade_and_get_with_include(backend: Backend, root: Catalogue, world: World) -> None:
    start = datetime(2024, 5, 1, 12, 30, 0, 125000, tzinfo=CEST)
    ds_id = root.create(
        dataset(
            world,
            "lyso_1",
            startDate=start,
            datafiles=[
                {"name": "lyso_1_master.h5", "fileSize": 1024, "parameters": []},
                {"name": "lyso_1_data_000001.h5", "fileSize": 2048},
            ],
            parameters=[{"type": {"id": world.parameter_type}, "numericValue": 0.9763}],
        )
    )
    plain = root.get("Dataset", ds_id)["Dataset"]
    assert plain["name"] == "lyso_1" and plain["complete"] is False
    assert plain["datafiles"] == [] and plain["parameters"] == []  # 1:N shown empty unless INCLUDEd
    assert "investigation" not in plain  # N:1 only when INCLUDEd
    assert plain["startDate"] == start and plain["startDate"].tzinfo is not None
    assert plain["createId"] == backend.user_name("root")
    assert isinstance(plain["createTime"], datetime) and plain["createTime"].tzinfo is not None

    full = root.get("Dataset ds INCLUDE ds.datafiles, ds.parameters.type, ds.investigation", ds_id)["Dataset"]
    assert sorted(df["name"] for df in full["datafiles"]) == ["lyso_1_data_000001.h5", "lyso_1_master.h5"]
    assert sorted(df["fileSize"] for df in full["datafiles"]) == [1024, 2048]
    assert full["investigation"]["id"] == world.investigation
    assert full["investigation"]["name"] == f"mx{world.tag}"
    (param,) = full["parameters"]
    assert param["numericValue"] == pytest.approx(0.9763)
    assert param["type"]["units"] == "angstrom"


def test_create_many_is_all_or_nothing_with_offset(root: Catalogue, world: World) -> None:
    root.create(dataset(world, "taken"))
    batch = [dataset(world, "m0"), dataset(world, "m1"), dataset(world, "taken"), dataset(world, "m3")]
    with pytest.raises(ObjectAlreadyExistsError) as info:
        root.create_many(batch)
    assert info.value.offset == 2
    names = root.search(f"SELECT ds.name FROM Dataset ds WHERE ds.investigation.id = {world.investigation}")
    assert names == ["taken"]  # nothing of the failed batch was kept
    ids = root.create_many([dataset(world, f"ok{i}") for i in range(3)])
    assert len(ids) == 3 and len(set(ids)) == 3
    inv = f"ds.investigation.id = {world.investigation}"
    got = root.search(f"SELECT ds.id FROM Dataset ds WHERE ds.name LIKE 'ok%' AND {inv} ORDER BY ds.name")
    assert got == ids


# -------------------------------------------------------------------------------------------- search


def test_search_entities_attributes_rows_and_count(root: Catalogue, world: World) -> None:
    ids = root.create_many([dataset(world, n, location=f"/data/{n}") for n in ("b", "a", "c")])
    inv = f"ds.investigation.id = {world.investigation}"
    entities = root.search(f"SELECT ds FROM Dataset ds WHERE {inv} ORDER BY ds.name")
    assert [e["Dataset"]["name"] for e in entities] == ["a", "b", "c"]
    assert all(set(e) == {"Dataset"} for e in entities)
    assert root.search(f"SELECT ds.name FROM Dataset ds WHERE {inv} ORDER BY ds.name DESC") == ["c", "b", "a"]
    rows = root.search(f"SELECT ds.id, ds.location FROM Dataset ds WHERE {inv} ORDER BY ds.id")
    assert rows == [[i, f"/data/{n}"] for i, n in sorted(zip(ids, ("b", "a", "c"), strict=True))]
    assert root.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE {inv}") == [3]
    assert root.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE {inv} AND ds.name = 'zz'") == [0]
    assert root.search(f"SELECT ds.name FROM Dataset ds WHERE {inv} ORDER BY ds.name LIMIT 1, 1") == ["b"]
    (start,) = root.search(f"SELECT i.startDate FROM Investigation i WHERE i.id = {world.investigation}")
    assert start == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_search_chunked_pages_under_max_entities(backend: Backend, root: Catalogue, world: World) -> None:
    small = backend.max_entities <= 100  # a live ICAT's 10000 is too many objects to make for a test
    count = backend.max_entities + 7 if small else 27
    root.create_many([dataset(world, f"s{i:03d}") for i in range(count)])
    query = f"SELECT ds.name FROM Dataset ds WHERE ds.investigation.id = {world.investigation} ORDER BY ds.name"
    if small:
        with pytest.raises(ValidationError):
            root.search(query)  # more than maxEntities at once is refused, as ICAT does
    expected = [f"s{i:03d}" for i in range(count)]
    assert list(root.search_chunked(query, chunk=7)) == expected
    assert list(root.search_chunked(query, chunk=1000)) == expected
    assert list(root.search_chunked(query + " LIMIT 5, 9", chunk=4)) == expected[5:14]


# ------------------------------------------------------------------------------------ write / update


def test_write_updates_given_fields_and_creates_others(root: Catalogue, world: World) -> None:
    ds_id = root.create(dataset(world, "w", description="first", location="/data/w"))
    ids = root.write([{"Dataset": {"id": ds_id, "description": "second"}}, dataset(world, "w2")])
    assert ids[0] == ds_id and len(ids) == 2
    fields = root.get("Dataset", ds_id)["Dataset"]
    assert fields["description"] == "second" and fields["location"] == "/data/w"
    root.update({"Dataset": {"id": ds_id, "description": None, "complete": True}})
    fields = root.get("Dataset", ds_id)["Dataset"]
    assert "description" not in fields and fields["complete"] is True and fields["location"] == "/data/w"
    assert fields["modTime"] >= fields["createTime"]


# -------------------------------------------------------------------------------------------- delete


def test_delete_cascades_through_one_to_many(root: Catalogue, world: World) -> None:
    ds_id = root.create(dataset(world, "d", datafiles=[{"name": "f1"}, {"name": "f2"}]))
    df_ids = root.search(f"SELECT df.id FROM Datafile df WHERE df.dataset.id = {ds_id}")
    assert len(df_ids) == 2
    root.delete([{"Investigation": {"id": world.investigation}}])
    assert root.search(f"SELECT COUNT(df) FROM Datafile df WHERE df.id IN ({df_ids[0]}, {df_ids[1]})") == [0]
    with pytest.raises(NoSuchObjectFoundError):
        root.get("Dataset", ds_id)
    # the facility and its types are untouched (N:1 never cascades)
    assert root.get("Facility", world.facility)["Facility"]["name"] == f"fac-{world.tag}"


# -------------------------------------------------------------------------------------------- errors


def test_error_codes(root: Catalogue, world: World) -> None:
    root.create(dataset(world, "dup"))
    with pytest.raises(ObjectAlreadyExistsError):
        root.create(dataset(world, "dup"))
    with pytest.raises(ValidationError):  # title is NOT NULL
        root.create({"Investigation": {"name": f"x{world.tag}", "visitId": "1", "facility": {"id": world.facility},
                                       "type": {"id": world.investigation_type}}})
    with pytest.raises(BadParameterError):
        root.create(dataset(world, "u", nosuchfield=1))
    with pytest.raises(NoSuchObjectFoundError):
        root.get("Dataset", 987654321)
    with pytest.raises(NoSuchObjectFoundError):
        root.delete([{"Dataset": {"id": 987654321}}])
    with pytest.raises(BadParameterError):
        root.search("SELECT ds FROM Datasetx ds")
    with pytest.raises(BadParameterError):
        root.search("SELECT ds FROM Dataset ds WHERE")


# ------------------------------------------------------------------------------------- values, access


def test_values_quotes_and_parameter_types_round_trip(root: Catalogue, world: World) -> None:
    text_type = root.create({"ParameterType": {"name": f"note-{world.tag}", "units": "N/A", "valueType": "STRING",
                                               "facility": {"id": world.facility}}})
    when_type = root.create({"ParameterType": {"name": f"when-{world.tag}", "units": "N/A",
                                               "valueType": "DATE_AND_TIME", "facility": {"id": world.facility}}})
    when = datetime(2024, 5, 1, 23, 59, 59, 999000, tzinfo=CEST)
    name = "it's ü \"quoted\" & more"
    ds_id = root.create(dataset(world, name, parameters=[
        {"type": {"id": text_type}, "stringValue": "2024-05-01T10:00:00.000Z"},  # looks like a date, is text
        {"type": {"id": when_type}, "dateTimeValue": when},
    ]))
    (found,) = root.search(
        "SELECT ds.id FROM Dataset ds WHERE ds.name = 'it''s ü \"quoted\" & more' "
        f"AND ds.investigation.id = {world.investigation}"
    )
    assert found == ds_id
    params = root.get("Dataset ds INCLUDE ds.parameters.type", ds_id)["Dataset"]["parameters"]
    by_type = {p["type"]["valueType"]: p for p in params}
    assert by_type["STRING"]["stringValue"] == "2024-05-01T10:00:00.000Z"
    assert by_type["DATE_AND_TIME"]["dateTimeValue"] == when
    assert root.get("Dataset", ds_id)["Dataset"]["name"] == name


def test_read_access(backend: Backend, root: Catalogue, world: World) -> None:
    assert root.is_access_allowed({"Investigation": {"id": world.investigation}}, "READ") is True
    with backend.login("jdoe") as jdoe:
        assert jdoe.is_access_allowed({"Investigation": {"id": world.investigation}}, "READ") is False


def test_concurrent_sessions_write_and_read(backend: Backend, root: Catalogue, world: World) -> None:
    """Several sessions at once (threads, each its own connection or HTTP client) lose nothing and fail nothing."""
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with backend.login("root") as cat:
                for b in range(5):
                    cat.create_many([dataset(world, f"t{k}-{b}-{i}") for i in range(5)])
                    cat.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE ds.investigation.id = {world.investigation}")
        except BaseException as err:  # collected and reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert root.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE ds.investigation.id = {world.investigation}") == [100]


def test_search_chunked_pages_a_limit_larger_than_max_entities(backend: Backend, root: Catalogue, world: World) -> None:
    if backend.max_entities > 100:
        pytest.skip("needs a small maxEntities")
    count = backend.max_entities + 7
    root.create_many([dataset(world, f"p{i:03d}") for i in range(count)])
    query = f"SELECT ds.name FROM Dataset ds WHERE ds.investigation.id = {world.investigation} ORDER BY ds.name"
    expected = [f"p{i:03d}" for i in range(count)]
    assert list(root.search_chunked(f"{query} LIMIT 2, {count}", chunk=1000)) == expected[2:]


def test_selected_fields_keep_their_types(root: Catalogue, world: World) -> None:
    """A string that looks like a date stays a string, a selected date field is a datetime, on every backend."""
    note = root.create({"ParameterType": {"name": f"stamp-{world.tag}", "units": "N/A", "valueType": "STRING",
                                          "facility": {"id": world.facility}}})
    root.create(dataset(world, "2024-05-01T10:00:00.000Z", startDate=datetime(2024, 5, 1, 10, tzinfo=UTC),
                        parameters=[{"type": {"id": note}, "stringValue": "2024-05-02T10:00:00.000Z"}]))
    inv = f"ds.investigation.id = {world.investigation}"
    rows = root.search(f"SELECT ds.name, ds.startDate FROM Dataset ds WHERE {inv}")
    assert rows == [["2024-05-01T10:00:00.000Z", datetime(2024, 5, 1, 10, tzinfo=UTC)]]
    latest = root.search(f"SELECT MAX(ds.startDate) FROM Dataset ds WHERE {inv}")
    assert latest == [datetime(2024, 5, 1, 10, tzinfo=UTC)]
    assert root.search(f"SELECT p.stringValue FROM DatasetParameter p WHERE p.type.id = {note}") == [
        "2024-05-02T10:00:00.000Z"]
