"""Rule storage and the finer points of ICAT's semantics: validation, public tables, attribute rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxicat.catalogue.embedded.authz import normalise_crud_flags, parse_rule_what, rule_hidden_columns
from mxicat.catalogue.embedded.rules_default import (
    default_public_steps,
    default_rules,
    policy_dump_yaml,
    policy_entities,
)
from mxicat.catalogue.embedded.store import EmbeddedStore
from mxicat.errors import BadParameterError, InsufficientPrivilegesError


@pytest.mark.parametrize(
    ("what", "bean", "restricted", "attribute"),
    [
        ("DatasetType", "DatasetType", False, None),
        ("Grouping <-> UserGroup <-> User [name=:user]", "Grouping", True, None),
        ("SELECT o FROM Dataset o JOIN o.investigation i", "Dataset", False, None),  # joins alone: unrestricted
        ("SELECT o FROM Dataset o WHERE o.complete = FALSE", "Dataset", True, None),
        ("SELECT o.doi FROM Investigation o", "Investigation", False, "doi"),
        ("Dataset [complete = TRUE]", "Dataset", True, None),
    ],
)
def test_parse_rule_what(what: str, bean: str, restricted: bool, attribute: str | None) -> None:
    rw = parse_rule_what(what, "U")
    assert (rw.bean, rw.restricted, rw.attribute) == (bean, restricted, attribute)


@pytest.mark.parametrize(
    ("flags", "what"),
    [
        ("CRUDX", "Dataset"),
        ("", "Dataset"),
        ("R", "NoSuchEntity"),
        ("R", "SELECT COUNT(o) FROM Dataset o"),
        ("R", "SELECT o FROM Dataset o ORDER BY o.name"),
        ("R", "SELECT o FROM Dataset o INCLUDE o.datafiles"),
        ("R", "SELECT o.doi FROM Investigation o"),  # attribute rules are U only
        ("U", "SELECT o.nope FROM Investigation o"),
        ("R", "SELECT o FROM Dataset o WHERE"),
    ],
)
def test_bad_rules_are_refused(flags: str, what: str) -> None:
    with pytest.raises(BadParameterError):
        rule_hidden_columns(flags, what)


def test_crud_flags_normalised() -> None:
    assert normalise_crud_flags(" cru ") == "CRU"
    cols = rule_hidden_columns(" rd", "Dataset")
    assert cols["CRUDFLAGS"] == "RD" and cols["R"] and cols["D"] and not cols["C"] and not cols["RESTRICTED"]


def test_default_policy_is_valid_icat() -> None:
    for rule in default_rules():
        parse_rule_what(rule.what, rule.crud_flags)
    entities = policy_entities()
    assert sum(len(e["Grouping"]["rules"]) for e in entities if "Grouping" in e) + sum(
        "Rule" in e for e in entities) == len(default_rules())
    assert sum("PublicStep" in e for e in entities) == len(default_public_steps())
    text = policy_dump_yaml()
    assert text.startswith("%YAML 1.1\n") and "Grouping_name-ingest" in text and "Rule_00000001" in text


@pytest.fixture()
def store(tmp_path: Path) -> EmbeddedStore:
    s = EmbeddedStore(tmp_path / "c.db", create=True)
    yield s
    s.close()


def test_rule_store_validates_and_fills_hidden_columns(store: EmbeddedStore) -> None:
    root = store.admin()
    with pytest.raises(BadParameterError):
        root.create({"Rule": {"crudFlags": "RX", "what": "Dataset"}})
    rid = root.create({"Rule": {"crudFlags": " r ", "what": "SELECT o FROM Dataset o WHERE o.complete = TRUE"}})
    assert root.get("Rule", rid)["Rule"]["crudFlags"] == "R"


def test_public_table_whatever_the_flags(store: EmbeddedStore) -> None:
    """icat.server's PublicQuery does not test the R flag: an unrestricted grouping-less rule makes a table public."""
    root = store.admin()
    fac = root.create({"Facility": {"name": "F"}})
    root.create({"SampleType": {"name": "protein", "molecularFormula": "x", "facility": {"id": fac}}})
    eve = store.as_user("db/eve")
    assert eve.search("SELECT COUNT(t) FROM SampleType t") == [0]
    root.create({"Rule": {"crudFlags": "C", "what": "SampleType"}})
    assert eve.search("SELECT COUNT(t) FROM SampleType t") == [1]


def test_attribute_update_rule(store: EmbeddedStore) -> None:
    root = store.admin()
    fac = root.create({"Facility": {"name": "F"}})
    itype = root.create({"InvestigationType": {"name": "p", "facility": {"id": fac}}})
    inv = root.create({"Investigation": {"name": "i", "visitId": "1", "title": "t", "facility": {"id": fac},
                                         "type": {"id": itype}}})
    root.create({"Rule": {"crudFlags": "U", "what": "SELECT o.doi FROM Investigation o WHERE o.name = 'i'"}})
    eve = store.as_user("db/eve")
    eve.update({"Investigation": {"id": inv, "doi": "10.1/abc"}})
    assert root.get("Investigation", inv)["Investigation"]["doi"] == "10.1/abc"
    with pytest.raises(InsufficientPrivilegesError):
        eve.update({"Investigation": {"id": inv, "title": "changed"}})
    with pytest.raises(InsufficientPrivilegesError):
        eve.update({"Investigation": {"id": inv, "doi": "10.1/x", "title": "changed"}})


def test_grouping_rules_apply_to_members_only(store: EmbeddedStore) -> None:
    root = store.admin()
    fac = root.create({"Facility": {"name": "F"}})
    root.create({"Grouping": {"name": "staff", "rules": [{"crudFlags": "R", "what": "Facility"}],
                              "userGroups": [{"user": {"id": root.create({"User": {"name": "db/sam"}})}}]}})
    assert store.as_user("db/sam").search("SELECT f.id FROM Facility f") == [fac]
    assert store.as_user("db/eve").search("SELECT f.id FROM Facility f") == []
