"""Permission matrix of the MX default policy on a real embedded catalogue file: R, C, U, D per kind of user.

Investigation ``inv1`` (beamline BL1, embargoed) has an InvestigationUser (alice), owner/writer/reader
groupings (olga, wendy, rita); ``inv2`` (BL2) is released. sam is instrument scientist of BL1, bob is in a
beamline group for BL2, ingo is in the ``ingest`` grouping, eve is nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mxicat.catalogue.embedded.rules_default import beamline_group_rules, default_rules, install_policy
from mxicat.catalogue.embedded.store import EmbeddedStore
from mxicat.errors import InsufficientPrivilegesError, NoSuchObjectFoundError

NOW = datetime.now(UTC)
PEOPLE = ["alice", "olga", "wendy", "rita", "sam", "bob", "ingo", "eve"]


def ref(i: int) -> dict[str, int]:
    return {"id": i}


class World:
    """The scenario's store, ids and user sessions."""

    def __init__(self, path: Path) -> None:
        self.store = EmbeddedStore(path, create=True)
        self.root = self.store.admin()
        install_policy(self.root, default_rules() + beamline_group_rules("bl2staff", "BL2"))
        c = self.root.create
        self.fac = c({"Facility": {"name": "F"}})
        itype = c({"InvestigationType": {"name": "proposal", "facility": ref(self.fac)}})
        self.raw = c({"DatasetType": {"name": "raw", "facility": ref(self.fac)}})
        self.proc = c({"DatasetType": {"name": "processed", "facility": ref(self.fac)}})
        self.ptype = c({"ParameterType": {"name": "wavelength", "units": "angstrom", "valueType": "NUMERIC",
                                          "facility": ref(self.fac)}})
        bl1 = c({"Instrument": {"name": "BL1", "facility": ref(self.fac)}})
        bl2 = c({"Instrument": {"name": "BL2", "facility": ref(self.fac)}})
        self.user = {n: c({"User": {"name": f"db/{n}"}}) for n in PEOPLE}
        groups = {g["Grouping"]["name"]: g["Grouping"]["id"] for g in self.root.search("SELECT g FROM Grouping g")}
        self.inv1 = c({"Investigation": {
            "name": "inv1", "visitId": "1", "title": "t", "facility": ref(self.fac), "type": ref(itype),
            "releaseDate": NOW + timedelta(days=1000),
            "investigationInstruments": [{"instrument": ref(bl1)}],
            "investigationUsers": [{"user": ref(self.user["alice"]), "role": "principal_investigator"}]}})
        self.inv2 = c({"Investigation": {
            "name": "inv2", "visitId": "1", "title": "t", "facility": ref(self.fac), "type": ref(itype),
            "releaseDate": NOW - timedelta(days=1000),
            "investigationInstruments": [{"instrument": ref(bl2)}]}})
        for role, who in (("owner", "olga"), ("writer", "wendy"), ("reader", "rita")):
            c({"Grouping": {"name": f"inv1_{role}",
                            "userGroups": [{"user": ref(self.user[who])}],
                            "investigationGroups": [{"investigation": ref(self.inv1), "role": role}]}})
        c({"InstrumentScientist": {"user": ref(self.user["sam"]), "instrument": ref(bl1)}})
        c({"UserGroup": {"user": ref(self.user["bob"]), "grouping": ref(groups["bl2staff"])}})
        c({"UserGroup": {"user": ref(self.user["ingo"]), "grouping": ref(groups["ingest"])}})
        self.sample1 = c({"Sample": {"name": "lyso", "investigation": ref(self.inv1)}})
        self.sample2 = c({"Sample": {"name": "thau", "investigation": ref(self.inv2)}})
        self.ds_open = self.dataset(self.inv1, "open", complete=False, sample=self.sample1)
        self.ds_done = self.dataset(self.inv1, "done", complete=True, sample=self.sample1)
        self.ds_raw2 = self.dataset(self.inv2, "raw2", complete=True, sample=self.sample2)
        self.ds_proc2 = self.dataset(self.inv2, "proc2", complete=True, kind=self.proc, sample=self.sample2)

    def dataset(self, inv: int, name: str, *, complete: bool, kind: int | None = None,
                sample: int | None = None) -> int:
        body: dict[str, Any] = {
            "name": name, "complete": complete, "investigation": ref(inv), "type": ref(kind or self.raw),
            "parameters": [{"type": ref(self.ptype), "numericValue": 0.98}],
            "datafiles": [{"name": f"{name}_{i}.h5",
                           "parameters": [{"type": ref(self.ptype), "numericValue": 1.0}]} for i in range(2)],
        }
        if sample:
            body["sample"] = ref(sample)
        return self.root.create({"Dataset": body})

    def as_(self, who: str) -> Any:
        return self.store.as_user(f"db/{who}")

    def names(self, who: str, query: str) -> list[Any]:
        return sorted(self.as_(who).search(query))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("matrix") / "cat.db")


@pytest.fixture()
def fresh(tmp_path: Path) -> World:
    return World(tmp_path / "cat.db")


READ_DATASETS = {
    "alice": ["done", "open", "raw2"],  # InvestigationUser + released raw
    "olga": ["done", "open", "raw2"],
    "wendy": ["done", "open", "raw2"],
    "rita": ["done", "open", "raw2"],
    "sam": ["done", "open", "raw2"],  # instrument scientist of BL1
    "bob": ["proc2", "raw2"],  # beamline group of BL2
    "ingo": ["done", "open", "proc2", "raw2"],  # ingest reads all datasets
    "eve": ["raw2"],  # released raw data only
}


@pytest.mark.parametrize("who", PEOPLE)
def test_read_datasets_and_investigations(world: World, who: str) -> None:
    assert world.names(who, "SELECT ds.name FROM Dataset ds") == READ_DATASETS[who]
    invs = world.names(who, "SELECT i.name FROM Investigation i")
    assert invs == (["inv2"] if who in ("bob", "eve") else ["inv1", "inv2"])
    n_files = 2 * len(READ_DATASETS[who])
    assert world.as_(who).search("SELECT COUNT(df) FROM Datafile df") == [n_files]
    assert world.as_(who).search("SELECT COUNT(p) FROM DatafileParameter p") == [n_files]
    # reference tables are public
    assert world.as_(who).search("SELECT COUNT(t) FROM DatasetType t") == [2]


def test_only_selected_entity_is_restricted(world: World) -> None:
    # eve cannot read inv1, but may filter by it: the result holds nothing eve cannot read
    assert world.names("eve", "SELECT ds.name FROM Dataset ds JOIN ds.investigation i WHERE i.name = 'inv1'") == []
    # filtering datasets of inv2 by an unreadable sibling's attributes is allowed (only ds is checked)
    q = "SELECT ds.name FROM Dataset ds JOIN ds.investigation i JOIN i.datasets other WHERE other.name = 'proc2'"
    assert world.names("eve", q) == ["raw2"]
    # no rule at all for a type: empty, not an error; COUNT gives 0
    assert world.as_("eve").search("SELECT r FROM Rule r") == []
    assert world.as_("eve").search("SELECT COUNT(r) FROM Rule r") == [0]


def test_get_errors(world: World) -> None:
    with pytest.raises(InsufficientPrivilegesError):
        world.as_("eve").get("Dataset", world.ds_open)
    with pytest.raises(NoSuchObjectFoundError):
        world.as_("eve").get("Dataset", 999999)
    assert world.as_("eve").get("Dataset", world.ds_raw2)["Dataset"]["name"] == "raw2"


def test_include_public_steps_and_filtering(world: World) -> None:
    [ds] = world.as_("eve").search(
        "SELECT ds FROM Dataset ds INCLUDE ds.investigation, ds.datafiles df, df.parameters, ds.sample s")
    body = ds["Dataset"]
    assert body["investigation"]["name"] == "inv2"  # PublicStep (Dataset, investigation)
    assert len(body["datafiles"]) == 2 and all(len(df["parameters"]) == 1 for df in body["datafiles"])
    # (Sample, datasets) is not a public step: unreadable datasets are dropped silently
    [s] = world.as_("eve").search("SELECT s FROM Sample s INCLUDE s.datasets")
    assert [d["name"] for d in s["Sample"]["datasets"]] == ["raw2"]
    [s] = world.as_("bob").search("SELECT s FROM Sample s INCLUDE s.datasets")
    assert sorted(d["name"] for d in s["Sample"]["datasets"]) == ["proc2", "raw2"]


def new_ds(w: World, name: str, *, complete: bool = False, inv: int | None = None) -> dict[str, Any]:
    return {"Dataset": {"name": name, "complete": complete, "investigation": ref(inv or w.inv1),
                        "type": ref(w.raw)}}


@pytest.mark.parametrize(
    ("who", "complete", "allowed"),
    [
        ("wendy", False, True),  # writer grouping
        ("olga", False, True),  # owner grouping
        ("alice", False, True),  # InvestigationUser
        ("wendy", True, False),  # members cannot create complete (frozen) datasets
        ("rita", False, False),  # reader
        ("sam", False, False),  # instrument scientists read only
        ("bob", False, False),
        ("eve", False, False),
        ("ingo", True, True),  # ingest
    ],
)
def test_create_dataset(fresh: World, who: str, complete: bool, allowed: bool) -> None:
    obj = new_ds(fresh, f"new_{who}", complete=complete)
    cat = fresh.as_(who)
    if allowed:
        new_id = cat.create(obj)
        assert fresh.root.get("Dataset", new_id)["Dataset"]["createId"] == f"db/{who}"
    else:
        with pytest.raises(InsufficientPrivilegesError):
            cat.create(obj)
        # rolled back: nothing was written
        assert fresh.root.search(f"SELECT COUNT(ds) FROM Dataset ds WHERE ds.name = 'new_{who}'") == [0]
    assert cat.is_access_allowed(new_ds(fresh, f"probe_{who}", complete=complete), "CREATE") is allowed


def test_create_datafile_in_frozen_dataset(fresh: World) -> None:
    alice = fresh.as_("alice")
    alice.create({"Datafile": {"name": "extra.h5", "dataset": ref(fresh.ds_open)}})
    with pytest.raises(InsufficientPrivilegesError):
        alice.create({"Datafile": {"name": "extra.h5", "dataset": ref(fresh.ds_done)}})


def test_update_rules(fresh: World) -> None:
    wendy, rita, ingo = fresh.as_("wendy"), fresh.as_("rita"), fresh.as_("ingo")
    wendy.update({"Dataset": {"id": fresh.ds_open, "description": "edited"}})
    with pytest.raises(InsufficientPrivilegesError):
        wendy.update({"Dataset": {"id": fresh.ds_done, "description": "edited"}})
    with pytest.raises(InsufficientPrivilegesError):
        rita.update({"Dataset": {"id": fresh.ds_open, "description": "x"}})
    ingo.update({"Dataset": {"id": fresh.ds_done, "description": "by ingest"}})
    # key change (name is in the key): D before and C after -- fine for a writer on an open dataset
    wendy.update({"Dataset": {"id": fresh.ds_open, "name": "renamed"}})
    # ingest has no D: a key change is refused even though U is granted
    with pytest.raises(InsufficientPrivilegesError):
        ingo.update({"Dataset": {"id": fresh.ds_done, "name": "renamed_done"}})
    # moving a dataset into an investigation where the writer cannot create: C after fails, rolled back
    with pytest.raises(InsufficientPrivilegesError):
        wendy.update({"Dataset": {"id": fresh.ds_open, "investigation": ref(fresh.inv2)}})
    assert fresh.root.get("Dataset ds INCLUDE ds.investigation", fresh.ds_open)["Dataset"]["investigation"][
        "name"] == "inv1"
    # freezing: allowed while open, then further writes are refused
    wendy.update({"Dataset": {"id": fresh.ds_open, "complete": True}})
    with pytest.raises(InsufficientPrivilegesError):
        wendy.update({"Dataset": {"id": fresh.ds_open, "description": "too late"}})


def test_delete_checks_every_cascaded_object(fresh: World) -> None:
    wendy, rita, ingo = fresh.as_("wendy"), fresh.as_("rita"), fresh.as_("ingo")
    with pytest.raises(InsufficientPrivilegesError):
        rita.delete([{"Dataset": {"id": fresh.ds_open}}])
    with pytest.raises(InsufficientPrivilegesError):
        ingo.delete([{"Dataset": {"id": fresh.ds_open}}])
    # the sample cascades to ds_done, which is complete: D refused on it, nothing deleted
    with pytest.raises(InsufficientPrivilegesError):
        wendy.delete([{"Sample": {"id": fresh.sample1}}])
    assert fresh.root.search("SELECT COUNT(ds) FROM Dataset ds") == [4]
    wendy.delete([{"Dataset": {"id": fresh.ds_open}}])  # with its datafiles and parameters
    assert fresh.root.search("SELECT COUNT(df) FROM Datafile df") == [6]


def test_embargo_opens_and_cache_follows_policy_changes(fresh: World, tmp_path: Path) -> None:
    eve = fresh.as_("eve")
    assert fresh.names("eve", "SELECT ds.name FROM Dataset ds") == ["raw2"]
    fresh.root.update({"Investigation": {"id": fresh.inv1, "releaseDate": NOW - timedelta(days=1)}})
    assert fresh.names("eve", "SELECT ds.name FROM Dataset ds") == ["done", "open", "raw2"]
    # a new rule for everyone is seen at once (cache invalidated by the write)
    rid = fresh.root.create({"Rule": {"crudFlags": "R", "what": "SELECT o FROM Rule o WHERE o.crudFlags = 'CUD'"}})
    assert eve.search("SELECT COUNT(r) FROM Rule r") != [0]
    fresh.root.delete([{"Rule": {"id": rid}}])
    assert eve.search("SELECT COUNT(r) FROM Rule r") == [0]
    # a change made by another process (another store on the same file) is noticed too
    other = EmbeddedStore(fresh.store.path)
    try:
        ug = other.admin().search(
            "SELECT ug FROM UserGroup ug JOIN ug.user u WHERE u.name = 'db/bob'")[0]["UserGroup"]["id"]
        assert fresh.names("bob", "SELECT ds.name FROM Dataset ds") == ["done", "open", "proc2", "raw2"]
        other.admin().delete([{"UserGroup": {"id": ug}}])
        assert fresh.names("bob", "SELECT ds.name FROM Dataset ds") == ["done", "open", "raw2"]
    finally:
        other.close()


def test_groups_and_provenance_visible_to_members_only(fresh: World) -> None:
    """A group spanning two investigations: each side sees the group, its own links and the job, no more."""
    w = fresh
    app = w.root.create({"Application": {"name": "xia2", "version": "3.20", "facility": ref(w.fac)}})
    group = w.root.create({"DataCollection": {
        "dataCollectionDatasets": [{"dataset": ref(w.ds_open)}, {"dataset": ref(w.ds_raw2)}]}})
    out = w.root.create({"DataCollection": {"dataCollectionDatasets": [{"dataset": ref(w.ds_done)}]}})
    w.root.create({"Job": {"application": ref(app), "inputDataCollection": ref(group),
                           "outputDataCollection": ref(out)}})
    # restricting the selected entity: the links themselves (their dataset ids), not the datasets' names
    links = "SELECT dcd.id FROM DataCollectionDataset dcd"
    rows = w.root.search("SELECT dcd.id, dcd.dataset.name FROM DataCollectionDataset dcd")
    link_of = {row[1]: row[0] for row in rows}
    own = sorted([link_of["open"], link_of["done"]])
    assert w.names("alice", links) == own  # not raw2's link, although raw2 is in the group
    assert w.names("alice", "SELECT COUNT(dc) FROM DataCollection dc") == [2]
    assert w.names("alice", "SELECT COUNT(j) FROM Job j") == [1]
    assert w.names("rita", links) == own  # reader grouping
    assert w.names("sam", links) == own  # instrument scientist of BL1
    assert w.names("bob", links) == [link_of["raw2"]]  # beamline group of BL2
    assert w.names("eve", "SELECT COUNT(dc) FROM DataCollection dc") == [0]
    assert w.names("eve", "SELECT COUNT(j) FROM Job j") == [0]
    assert w.names("eve", links) == []
