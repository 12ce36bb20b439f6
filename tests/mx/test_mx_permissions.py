"""Permissions through the facade: a member of investigation A never sees B's datasets, counts or groups.

Real ICAT rules (the MX default policy) on a real SQLite catalogue file; an ingest account registers
everything, investigation members read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from mxicat.catalogue.embedded.rules_default import install_policy
from mxicat.catalogue.open import open_embedded_store
from mxicat.errors import MxicatError, NoSuchObjectFoundError
from mxicat.mx import MxCatalogue

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def catalogue(mx: MxCatalogue, tmp_path: Path) -> dict[str, MxCatalogue]:
    root = mx.session
    install_policy(root)
    users = {n: root.create({"User": {"name": f"db/{n}"}}) for n in ("alice", "bob", "ingester")}
    ingest = root.search("SELECT g FROM Grouping g WHERE g.name = 'ingest'")[0]["Grouping"]["id"]
    root.create({"UserGroup": {"user": {"id": users["ingester"]}, "grouping": {"id": ingest}}})
    mx.bootstrap(beamlines=["id23eh2", "id29"])
    for name, member in (("mx1000", "alice"), ("mx2000", "bob")):
        inv = mx.registry.create_investigation(name, beamline="id23eh2")
        root.create({"InvestigationUser": {"investigation": {"id": inv["id"]},
                                           "user": {"id": users[member]}, "role": "principal_experimenter"}})
    store = open_embedded_store(f"sqlite:///{tmp_path / 'mx.db'}")
    sessions = {n: MxCatalogue(store.as_user(f"db/{n}")) for n in users}
    ingester = sessions["ingester"]
    for inv, sample in (("mx1000", "alpha"), ("mx2000", "beta")):
        ids = [ingester.register_collection(inv, f"{inv}_run{i}", {"Sample_name": sample,
                                                                   "wavelength": 0.9 + i / 10},
                                            beamline="id23eh2").id for i in range(2)]
        ingester.register_processed(f"{inv}_merged", inputs=ids, program="xia2",
                                    values={"resolution_high": 1.8, "space_group": "P 1"})
        ingester.group(f"group_{inv}", ids, kind="multi_sweep")
    return sessions


def test_member_sees_only_own_datasets_and_counts(catalogue: dict[str, MxCatalogue]) -> None:
    alice, bob, ingester = catalogue["alice"], catalogue["bob"], catalogue["ingester"]
    assert ingester.count_datasets() == 6
    assert alice.count_datasets() == 3
    assert {d["investigation"] for d in alice.search_datasets(None)} == {"mx1000"}
    assert {d["investigation"] for d in bob.search_datasets(None)} == {"mx2000"}
    assert alice.count_datasets("sample_name = beta") == 0
    assert alice.count_datasets("resolution_high < 2") == 1
    assert alice.count_datasets("investigation = mx2000") == 0


def test_member_cannot_reach_other_datasets_by_id_name_or_group(catalogue: dict[str, MxCatalogue]) -> None:
    alice, ingester = catalogue["alice"], catalogue["ingester"]
    b_id = ingester.dataset_id("mx2000_run0")
    with pytest.raises(NoSuchObjectFoundError):
        alice.dataset(b_id)
    with pytest.raises(NoSuchObjectFoundError):
        alice.dataset("mx2000_run0")
    assert alice.count_datasets('in_group("group_mx2000")') == 0
    assert "group_mx2000" not in [g["name"] for g in alice.groups()]
    # provenance links between datasets alice may read are visible to her (Jobs and DataCollections,
    # private to the ingest account under the default policy, are only joined, never selected)
    merged = alice.dataset("mx1000_merged")
    assert {d["name"] for d in merged["provenance"]["upstream"]} == {"mx1000_run0", "mx1000_run1"}
    assert merged["provenance"]["jobs"][0]["program"] == "xia2"
    assert [d["name"] for d in alice.dataset("mx1000_run0")["provenance"]["downstream"]] == ["mx1000_merged"]


def test_member_cannot_register_into_another_investigation(catalogue: dict[str, MxCatalogue]) -> None:
    alice = catalogue["alice"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MxicatError):
            alice.register_collection("mx2000", "sneaky", {"Sample_name": "beta"})
    assert catalogue["ingester"].count_datasets("name = sneaky") == 0


def test_member_can_filter_by_own_group(catalogue: dict[str, MxCatalogue]) -> None:
    alice = catalogue["alice"]
    assert alice.count_datasets('in_group("group_mx1000")') == 2


def test_unknown_keys_without_right_to_create_types_are_kept(catalogue: dict[str, MxCatalogue]) -> None:
    ingester = catalogue["ingester"]
    first = ingester.register_collection("mx1000", "odd", {"Sample_name": "alpha", "pump_delay": "5",
                                                          "chip_slot": "B7"})
    assert first.unverified == ["chip_slot", "pump_delay"]
    assert any("mxicat_unverified" in w for w in first.warnings)
    again = ingester.register_collection("mx1000", "odd", {"Sample_name": "alpha", "laser_power": 3})
    assert again.status == "updated"
    detail = catalogue["alice"].dataset("odd")
    assert detail["unverified"] == {"chip_slot": "B7", "laser_power": 3, "pump_delay": "5"}
