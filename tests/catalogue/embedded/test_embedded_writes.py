"""ICAT write semantics of the embedded store, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mxicat.catalogue.base import Catalogue
from mxicat.catalogue.embedded.migrations import MIGRATIONS, SCHEMA_VERSION
from mxicat.catalogue.embedded.store import EmbeddedCatalogue, EmbeddedStore
from mxicat.errors import (
    BadParameterError,
    ConfigurationError,
    InsufficientPrivilegesError,
    NoSuchObjectFoundError,
    ObjectAlreadyExistsError,
    ValidationError,
)


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    s = EmbeddedStore(tmp_path / "cat.db", create=True, max_entities=50)
    yield s
    s.close()


@pytest.fixture()
def cat(store: EmbeddedStore) -> EmbeddedCatalogue:
    return store.admin()


@pytest.fixture()
def base(cat: EmbeddedCatalogue) -> dict[str, int]:
    """Facility with types, an enforced and a free ParameterType, one Investigation."""
    fid = cat.create({"Facility": {"name": "ESRF", "fullName": "European Synchrotron"}})
    ids = dict(
        facility=fid,
        itype=cat.create({"InvestigationType": {"name": "MX", "facility": {"id": fid}}}),
        dtype=cat.create({"DatasetType": {"name": "raw", "facility": {"id": fid}}}),
        wavelength=cat.create(
            {
                "ParameterType": {
                    "name": "wavelength",
                    "units": "angstrom",
                    "valueType": "NUMERIC",
                    "facility": {"id": fid},
                    "enforced": True,
                    "minimumNumericValue": 0.5,
                    "maximumNumericValue": 2.5,
                }
            }
        ),
        detector=cat.create(
            {
                "ParameterType": {
                    "name": "detector",
                    "units": "N/A",
                    "valueType": "STRING",
                    "facility": {"id": fid},
                    "enforced": True,
                    "permissibleStringValues": [{"value": "EIGER"}, {"value": "PILATUS"}],
                }
            }
        ),
        comment=cat.create(
            {"ParameterType": {"name": "comment", "units": "N/A", "valueType": "STRING", "facility": {"id": fid}}}
        ),
    )
    ids["inv"] = cat.create(
        {
            "Investigation": {
                "name": "mx1234",
                "visitId": "1",
                "title": "Lysozyme",
                "facility": {"id": fid},
                "type": {"id": ids["itype"]},
            }
        }
    )
    return ids


def _dataset(base: dict[str, int], name: str, **extra: object) -> dict[str, object]:
    return {"Dataset": {"name": name, "investigation": {"id": base["inv"]}, "type": {"id": base["dtype"]}, **extra}}


def test_catalogue_protocol_and_meta_fields(cat, base) -> None:
    assert isinstance(cat, Catalogue) and cat.kind == "embedded" and cat.user_name == "simple/root"
    (ds,) = cat.search("SELECT d FROM Facility d")
    f = ds["Facility"]
    assert f["createId"] == f["modId"] == "simple/root"
    assert abs((datetime.now(UTC) - f["createTime"]).total_seconds()) < 60
    assert f["instruments"] == [] and f["fullName"] == "European Synchrotron" and "url" not in f


def test_create_nested_tree_and_get_with_include(cat, base) -> None:
    did = cat.create(
        _dataset(
            base,
            "d1",
            startDate="2024-05-01T12:00:00.000+02:00",
            parameters=[
                {"type": {"id": base["wavelength"]}, "numericValue": 0.97},
                {"type": {"id": base["detector"]}, "stringValue": "EIGER"},
            ],
            datafiles=[
                {
                    "name": "a.h5",
                    "fileSize": 100,
                    "parameters": [{"type": {"id": base["comment"]}, "stringValue": "first"}],
                }
            ],
        )
    )
    got = cat.get("Dataset ds INCLUDE ds.parameters, ds.datafiles.parameters, ds.investigation", did)["Dataset"]
    assert got["startDate"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert {str(p.get("numericValue", p.get("stringValue"))) for p in got["parameters"]} == {"0.97", "EIGER"}
    assert got["datafiles"][0]["parameters"][0]["stringValue"] == "first"
    assert got["investigation"]["name"] == "mx1234"
    assert cat.get("Dataset INCLUDE 1", did)["Dataset"]["type"]["name"] == "raw"


def test_create_many_all_or_nothing_with_offset(cat, base) -> None:
    cat.create(_dataset(base, "taken"))
    with pytest.raises(ObjectAlreadyExistsError) as err:
        cat.create_many([_dataset(base, "n1"), _dataset(base, "n2"), _dataset(base, "taken")])
    assert err.value.offset == 2 and "Dataset" in str(err.value)
    with pytest.raises(ObjectAlreadyExistsError) as err:  # duplicate inside the batch
        cat.create_many([_dataset(base, "n1"), _dataset(base, "n1")])
    assert err.value.offset == 1
    with pytest.raises(NoSuchObjectFoundError, match="Investigation\\[id:999\\]") as err:
        cat.create_many(
            [
                _dataset(base, "n1"),
                {"Dataset": {"name": "n3", "investigation": {"id": 999}, "type": {"id": base["dtype"]}}},
            ]
        )
    assert err.value.offset == 1
    assert cat.search("SELECT d.name FROM Dataset d") == ["taken"]
    ids = cat.create_many([_dataset(base, "n1"), _dataset(base, "n2")])
    assert len(ids) == 2 and ids[1] > ids[0]


@pytest.mark.parametrize(
    ("obj", "error", "text"),
    [
        ({"Dataset": {"name": "x", "type": {"id": 1}}}, ValidationError, "investigation cannot be null"),
        ({"Nonsense": {"name": "x"}}, BadParameterError, "Nonsense"),
        ({"Facility": {"name": "x", "colour": "red"}}, BadParameterError, "Field colour not found in Facility"),
        ({"Facility": {"name": "x", "daysUntilRelease": "soon"}}, BadParameterError, "integer"),
        (
            {"FacilityCycle": {"name": "c", "facility": {"id": 1}, "startDate": "yesterday"}},
            BadParameterError,
            "Badly formatted date",
        ),
        ({"Facility": {"name": "x" * 300}}, ValidationError, "longer than 255"),
        ({"Facility": {"id": 77, "name": "x"}}, BadParameterError, "must not carry an id"),
        ({"Study": {"name": "s", "status": "DONE"}}, BadParameterError, "status"),
        ({"Dataset": {"name": "x", "investigation": 1}}, BadParameterError, "reference"),
    ],
)
def test_create_errors(cat, base, obj, error, text) -> None:
    with pytest.raises(error, match=text):
        cat.create(obj)


def test_enforced_parameter_types(cat, base) -> None:
    did = cat.create(_dataset(base, "d1"))
    wl, det = base["wavelength"], base["detector"]
    with pytest.raises(ValidationError, match="outside the range"):
        cat.create({"DatasetParameter": {"dataset": {"id": did}, "type": {"id": wl}, "numericValue": 3.0}})
    with pytest.raises(ValidationError, match="permissible"):
        cat.create({"DatasetParameter": {"dataset": {"id": did}, "type": {"id": det}, "stringValue": "MAR"}})
    with pytest.raises(ValidationError, match="type cannot be null"):
        cat.create({"DatasetParameter": {"dataset": {"id": did}, "numericValue": 1.0}})
    pid = cat.create({"DatasetParameter": {"dataset": {"id": did}, "type": {"id": wl}, "numericValue": 1.0}})
    with pytest.raises(ValidationError, match="outside the range"):
        cat.update({"DatasetParameter": {"id": pid, "numericValue": 0.1}})
    with pytest.raises(ObjectAlreadyExistsError):  # one value per type per parent
        cat.create({"DatasetParameter": {"dataset": {"id": did}, "type": {"id": wl}, "numericValue": 1.1}})
    # not enforced: anything goes, even the "wrong" value column (ICAT does not check valueType)
    cat.create({"DatasetParameter": {"dataset": {"id": did}, "type": {"id": base["comment"]}, "numericValue": 9}})


@pytest.mark.parametrize(
    ("child", "error", "text"),
    [
        ({"type": 7, "numericValue": 1.0}, BadParameterError, "DatasetParameter.type must be a reference"),
        ({"type": {"id": "7"}, "numericValue": 1.0}, BadParameterError, "must be a reference"),
        ({"numericValue": 1.0}, ValidationError, "DatasetParameter: type cannot be null"),
        ({"type": "wavelength", "numericValue": 3.0}, ValidationError, "outside the range"),
        ({"type": "detector", "stringValue": "MAR"}, ValidationError, "permissible"),
        ({"type": "comment", "colour": "red"}, BadParameterError, "Field colour not found in DatasetParameter"),
        ({"type": "comment", "numericValue": "many"}, BadParameterError, "numericValue"),
        ({"id": 5, "type": "comment"}, BadParameterError, "must not carry an id"),
    ],
)
def test_nested_parameter_errors(cat, base, child, error, text) -> None:
    """Embedded children (a dataset's parameters: most rows of a createMany) are checked as top-level ones."""
    if isinstance(child.get("type"), str):
        child = {**child, "type": {"id": base[child["type"]]}}
    good = {"type": {"id": base["comment"]}, "stringValue": "fine"}
    with pytest.raises(error, match=text) as err:
        cat.create_many([_dataset(base, "ok"), _dataset(base, "bad", parameters=[good, child])])
    assert err.value.offset == 1
    assert cat.search("SELECT COUNT(d) FROM Dataset d") == [0]


def test_nested_children_of_every_shape(cat, base) -> None:
    """Plain children, children with their own children, and root-supplied meta fields land alike."""
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    did = cat.create(
        _dataset(
            base,
            "d1",
            parameters=[
                {"type": {"id": base["wavelength"]}, "numericValue": 0.98},
                {"type": {"id": base["comment"]}, "stringValue": "kept", "createId": "someone", "createTime": when},
            ],
            datafiles=[
                {
                    "name": "a.h5",
                    "fileSize": 3,
                    "parameters": [{"type": {"id": base["comment"]}, "stringValue": "per file"}],
                }
            ],
        )
    )
    rows = cat.search(f"SELECT p FROM DatasetParameter p WHERE p.dataset.id = {did} ORDER BY p.id")
    values = [(r["DatasetParameter"].get("numericValue"), r["DatasetParameter"].get("stringValue")) for r in rows]
    assert values == [(0.98, None), (None, "kept")]
    assert all(r["DatasetParameter"]["createId"] == "simple/root" for r in rows)  # meta ignored without ALL
    assert cat.search("SELECT p.stringValue FROM DatafileParameter p") == ["per file"]
    assert cat.search(f"SELECT d.fileSize, d.fileCount FROM Dataset d WHERE d.id = {did}") == [[3, 1]]


def test_file_size_and_count_kept_current(cat, base) -> None:
    did = cat.create(_dataset(base, "d1", datafiles=[{"name": "a", "fileSize": 10}, {"name": "b", "fileSize": 5}]))
    d2 = cat.create(_dataset(base, "d2"))
    sizes = "SELECT x.fileSize, x.fileCount FROM {} x WHERE x.id = {}"
    assert cat.search(sizes.format("Dataset", did)) == [[15, 2]]
    assert cat.search(sizes.format("Investigation", base["inv"])) == [[15, 2]]
    (fid,) = cat.search("SELECT f.id FROM Datafile f WHERE f.name = 'b'")
    cat.update({"Datafile": {"id": fid, "fileSize": 50}})
    assert cat.search(sizes.format("Dataset", did)) == [[60, 2]]
    cat.update({"Datafile": {"id": fid, "dataset": {"id": d2}}})
    assert cat.search(sizes.format("Dataset", did)) == [[10, 1]]
    assert cat.search(sizes.format("Dataset", d2)) == [[50, 1]]
    assert cat.search(sizes.format("Investigation", base["inv"])) == [[60, 2]]
    cat.delete([{"Dataset": {"id": d2}}])
    assert cat.search(sizes.format("Investigation", base["inv"])) == [[10, 1]]
    cat.create({"Datafile": {"name": "c", "fileSize": 1, "dataset": {"id": did}}})
    assert cat.search(sizes.format("Investigation", base["inv"])) == [[11, 2]]


def test_update_given_fields_only(cat, base) -> None:
    did = cat.create(_dataset(base, "d1", description="old", location="/data/d1"))
    before = cat.get("Dataset", did)["Dataset"]
    cat.update({"Dataset": {"id": did, "description": None, "complete": True}})
    after = cat.get("Dataset", did)["Dataset"]
    assert "description" not in after and after["complete"] is True and after["location"] == "/data/d1"
    assert after["modTime"] >= before["modTime"] and after["createTime"] == before["createTime"]
    with pytest.raises(ValidationError, match="name cannot be null"):
        cat.update({"Dataset": {"id": did, "name": None}})
    with pytest.raises(NoSuchObjectFoundError):
        cat.update({"Dataset": {"id": 4242, "name": "x"}})
    # REST write: objects with id are updated, nested children without id created
    ids = cat.write([{"Dataset": {"id": did, "datafiles": [{"name": "new.h5"}]}}, _dataset(base, "d2")])
    assert ids[0] == did and cat.search(f"SELECT COUNT(f) FROM Datafile f WHERE f.dataset.id = {did}") == [1]


def test_delete_cascades_through_collections(cat, base) -> None:
    comment = {"id": base["comment"]}
    cat.create(
        _dataset(
            base,
            "d1",
            parameters=[{"type": comment, "stringValue": "x"}],
            datafiles=[{"name": "a", "parameters": [{"type": comment, "stringValue": "y"}]}],
        )
    )
    cat.delete([{"Investigation": {"id": base["inv"]}}])
    for name in ("Investigation", "Dataset", "Datafile", "DatasetParameter", "DatafileParameter"):
        assert cat.search(f"SELECT COUNT(x) FROM {name} x") == [0]
    with pytest.raises(NoSuchObjectFoundError):
        cat.delete([{"Investigation": {"id": base["inv"]}}])
    cat.delete([{"ParameterType": {"id": base["detector"]}}])  # cascades to its PermissibleStringValues
    assert cat.search("SELECT COUNT(p) FROM PermissibleStringValue p") == [0]


def test_ids_never_reused(cat, base) -> None:
    a = cat.create(_dataset(base, "a"))
    cat.delete([{"Dataset": {"id": a}}])
    assert cat.create(_dataset(base, "b")) > a


def test_get_errors_and_max_entities(store, cat, base) -> None:
    with pytest.raises(NoSuchObjectFoundError):
        cat.get("Dataset", 999)
    with pytest.raises(BadParameterError):
        cat.get("Dataset INCLUDE ds.datafiles", 1)
    cat.create_many([_dataset(base, f"d{i:03d}") for i in range(60)])  # store fixture: max_entities=50
    with pytest.raises(ValidationError, match="more than 50"):
        cat.search("SELECT d FROM Dataset d")
    assert cat.search("SELECT COUNT(d) FROM Dataset d") == [60]
    assert len(list(cat.search_chunked("SELECT d.name FROM Dataset d ORDER BY d.name", chunk=25))) == 60


def test_impersonation_uses_the_authorizer(store, cat, base) -> None:
    jdoe = store.as_user("db/jdoe")
    assert jdoe.search("SELECT COUNT(d) FROM Dataset d") == [0]
    with pytest.raises(InsufficientPrivilegesError):
        jdoe.create(_dataset(base, "sneaky"))
    assert cat.search("SELECT COUNT(d) FROM Dataset d") == [0]
    with pytest.raises(InsufficientPrivilegesError):
        jdoe.get("Investigation", base["inv"])
    assert cat.is_access_allowed({"Investigation": {"id": base["inv"]}}, "DELETE")
    assert not jdoe.is_access_allowed({"Investigation": {"id": base["inv"]}}, "READ")
    assert cat.is_access_allowed(_dataset(base, "x"), "CREATE")
    assert cat.search("SELECT COUNT(d) FROM Dataset d") == [0]  # CREATE check rolled back


def test_rules_are_validated_on_store(cat) -> None:
    cat.create({"Rule": {"crudFlags": " cr ", "what": "SELECT d FROM Dataset d WHERE d.complete = FALSE"}})
    (rule,) = cat.search("SELECT r FROM Rule r")
    assert rule["Rule"]["crudFlags"] == "CR"
    with pytest.raises(BadParameterError):
        cat.create({"Rule": {"crudFlags": "X", "what": "Dataset"}})


def test_schema_version_errors(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    EmbeddedStore(path, create=True).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO MXICAT_MIGRATIONS VALUES (?, 'future', '2030-01-01 00:00:00')", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(ConfigurationError, match="newer than this mxicat"):
        EmbeddedStore(path)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(ConfigurationError, match="not an mxicat catalogue"):
        EmbeddedStore(other)
    with pytest.raises(BadParameterError, match="mxicat init"):
        EmbeddedStore(tmp_path / "missing.db")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a database at all, " * 100)
    with pytest.raises(ConfigurationError, match="cannot be opened"):
        EmbeddedStore(garbage)


def test_file_is_wal_with_foreign_keys_and_durable_commits(store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: on disk when commit returns


def test_older_file_is_upgraded_by_init(tmp_path: Path) -> None:
    from mxicat.catalogue.embedded.store import init_catalogue

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)  # a catalogue file from before the first migration
    con.execute(
        "CREATE TABLE MXICAT_MIGRATIONS (VERSION INTEGER PRIMARY KEY, NAME VARCHAR(255) NOT NULL, "
        "APPLIED DATETIME NOT NULL)"
    )
    con.close()
    with pytest.raises(ConfigurationError, match="older than this mxicat.*mxicat init"):
        EmbeddedStore(path)
    result = init_catalogue(path, bare=True)
    assert result["migrations"] == [m.name for m in MIGRATIONS] and not result["created"]
    store = EmbeddedStore(path)
    assert store.admin().search("SELECT COUNT(f) FROM Facility f") == [0]
    store.close()


def test_update_constraint_violations(cat, base) -> None:
    a = cat.create(_dataset(base, "a"))
    cat.create(_dataset(base, "b"))
    with pytest.raises(ObjectAlreadyExistsError):
        cat.update({"Dataset": {"id": a, "name": "b"}})
    with pytest.raises(NoSuchObjectFoundError):
        cat.update({"Dataset": {"id": a, "investigation": {"id": 999}}})
    with pytest.raises(BadParameterError, match="Field colour"):
        cat.update({"Dataset": {"id": a, "colour": "red"}})
    assert cat.search("SELECT d.name FROM Dataset d ORDER BY d.name") == ["a", "b"]


def test_real_login_session_lifecycle(store, cat, base) -> None:
    from mxicat.errors import SessionError

    store.sessions.authenticators["db"].set_password("jdoe", "secret")
    session = store.login("db", {"username": "jdoe", "password": "secret"})
    assert session.user_name == "db/jdoe" and 0 < session.remaining_minutes() <= 120
    assert session.search("SELECT COUNT(i) FROM Investigation i") == [0]  # no rules: nothing readable
    again = store.session(session.session_id)
    assert again.user_name == "db/jdoe"
    session.logout()
    with pytest.raises(SessionError):
        again.search("SELECT COUNT(i) FROM Investigation i")
    with pytest.raises(SessionError):
        store.login("db", {"username": "jdoe", "password": "wrong"})
    assert cat.remaining_minutes() == 120.0  # the owner's direct session does not expire


def test_locked_file_is_reported_as_unavailable(tmp_path: Path) -> None:
    from mxicat.errors import UnavailableError

    path = tmp_path / "busy.db"
    EmbeddedStore(path, create=True).close()
    store = EmbeddedStore(path)
    store.engine.dispose()
    from mxicat.catalogue.embedded.migrations import make_engine

    store.engine = make_engine(path, busy_timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(UnavailableError, match="locked"):
            store.admin().create({"Facility": {"name": "x"}})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()


def test_concurrent_writers_and_readers(store, cat, base) -> None:
    import threading

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                cat.create(
                    _dataset(base, f"t{n}-{i}", parameters=[{"type": {"id": base["comment"]}, "stringValue": str(i)}])
                )
                cat.search("SELECT COUNT(d) FROM Dataset d")
        except BaseException as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cat.search("SELECT COUNT(d) FROM Dataset d") == [60]
    assert cat.search("SELECT COUNT(p) FROM DatasetParameter p") == [60]
    assert cat.search("SELECT MAX(d.id) FROM Dataset d") == [60]  # ids allocated without gaps or clashes


def test_enforcement_follows_type_changes_across_transactions_and_stores(store, cat, base, tmp_path) -> None:
    """Parameter checks use the current ParameterType, whoever changed it (cached facts are re-validated)."""
    wl = base["wavelength"]
    first = cat.create(_dataset(base, "d1", parameters=[{"type": {"id": wl}, "numericValue": 2.0}]))
    assert first
    other = EmbeddedStore(tmp_path / "cat.db")  # another process's view of the same file
    try:
        other.admin().update({"ParameterType": {"id": wl, "maximumNumericValue": 1.5}})
    finally:
        other.close()
    with pytest.raises(ValidationError, match="outside the range"):
        cat.create(_dataset(base, "d2", parameters=[{"type": {"id": wl}, "numericValue": 2.0}]))
    cat.update({"ParameterType": {"id": wl, "enforced": False}})  # changed through this store
    cat.create(_dataset(base, "d3", parameters=[{"type": {"id": wl}, "numericValue": 2.0}]))
    det = base["detector"]
    cat.create({"PermissibleStringValue": {"type": {"id": det}, "value": "JUNGFRAU"}})
    cat.create(_dataset(base, "d4", parameters=[{"type": {"id": det}, "stringValue": "JUNGFRAU"}]))


def test_planner_statistics_are_refreshed_after_bulk_inserts(store, cat, base, monkeypatch) -> None:
    import mxicat.catalogue.embedded.store as store_module

    monkeypatch.setattr(store_module, "ANALYZE_EVERY", 50)
    cat.create_many([_dataset(base, f"bulk{i}") for i in range(60)])
    with sqlite3.connect(store.path) as conn:
        tables = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert "DATASET" in tables
