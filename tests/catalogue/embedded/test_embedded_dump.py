"""python-icat dump files: import, export, round trips (own small files + python-icat's example dump)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mxicat.catalogue.embedded.dump import export_chunks, import_dump
from mxicat.catalogue.embedded.dump_xml import read_xml, write_xml
from mxicat.catalogue.embedded.dump_yaml import read_yaml, write_yaml
from mxicat.catalogue.embedded.dumpkeys import parse_attr_val, simpleqp_quote, simpleqp_unquote
from mxicat.catalogue.embedded.schema import ENTITIES
from mxicat.catalogue.embedded.store import EmbeddedStore, entity_counts, summary_text
from mxicat.errors import BadParameterError, NoSuchObjectFoundError, ObjectAlreadyExistsError

SMALL = """\
%YAML 1.1
# Generator: hand-written test
---
grouping:
  Grouping_name-mx=5Freaders:
    name: mx_readers
    userGroups:
    - user: User_name-db=2Fjdoe
rule:
  Rule_00000001:
    crudFlags: R
    grouping: Grouping_name-mx=5Freaders
    what: SELECT o FROM Dataset o
publicStep:
  PublicStep_origin-Dataset_field-datafiles:
    field: datafiles
    origin: Dataset
user:
  User_name-db=2Fjdoe:
    fullName: Jane Doé
    name: db/jdoe
---
datasetType:
  DatasetType_facility-(name-ESRF)_name-raw:
    facility: Facility_name-ESRF
    name: raw
facility:
  Facility_name-ESRF:
    name: ESRF
investigationType:
  InvestigationType_name-MX_facility-(name-ESRF):
    facility: Facility_name-ESRF
    name: MX
parameterType:
  ParameterType_facility-(name-ESRF)_name-wavelength_units-angstrom:
    applicableToDataset: true
    enforced: false
    facility: Facility_name-ESRF
    name: wavelength
    units: angstrom
    valueType: NUMERIC
---
dataset:
  Dataset_investigation-(facility-(name-ESRF)_name-mx1_visitId-1=2E1)_name-d1:
    complete: false
    investigation: Investigation_facility-(name-ESRF)_name-mx1_visitId-1=2E1
    name: d1
    parameters:
    - numericValue: '0.9763'
      type: ParameterType_facility-(name-ESRF)_name-wavelength_units-angstrom
    startDate: '2024-05-01T10:00:00+00:00'
    type: DatasetType_facility-(name-ESRF)_name-raw
datafile:
  Datafile_dataset-(investigation-(facility-(name-ESRF)_name-mx1_visitId-1=2E1)_name-d1)_name-a=2Eh5:
    dataset: Dataset_investigation-(facility-(name-ESRF)_name-mx1_visitId-1=2E1)_name-d1
    fileSize: 1024
    name: a.h5
investigation:
  Investigation_facility-(name-ESRF)_name-mx1_visitId-1=2E1:
    facility: Facility_name-ESRF
    investigationUsers:
    - role: PI
      user: User_name-db=2Fjdoe
    keywords:
    - name: lysozyme
    name: mx1
    title: Lysozyme
    type: InvestigationType_name-MX_facility-(name-ESRF)
    visitId: '1.1'
---
dataCollection:
  DataCollection_00000001:
    dataCollectionDatasets:
    - dataset: Dataset_investigation-(facility-(name-ESRF)_name-mx1_visitId-1=2E1)_name-d1
---
job:
  Job_00000001:
    application: Application_facility-(name-ESRF)_name-xds_version-1
    inputDataCollection: DataCollection_00000001
application:
  Application_facility-(name-ESRF)_name-xds_version-1:
    facility: Facility_name-ESRF
    name: xds
    version: '1'
"""


def _store(tmp_path: Path, name: str) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / name, create=True)


def _export_yaml(store: EmbeddedStore) -> str:
    buf = io.StringIO()
    write_yaml(export_chunks(store), buf)
    return "".join(line for line in buf.getvalue().splitlines(keepends=True) if not line.startswith("# Date"))


def _export_xml(store: EmbeddedStore) -> bytes:
    buf = io.BytesIO()
    write_xml(export_chunks(store), buf)
    text = buf.getvalue()
    return text[text.index(b"</head>"):]


def test_simpleqp_quoting() -> None:
    assert simpleqp_quote("10100601-ST") == "10100601=2DST"
    assert simpleqp_quote("db/jdoe") == "db=2Fjdoe"
    assert simpleqp_quote("é") == "=C3=A9"
    assert simpleqp_unquote("Universit=C3=A9 x") == "Université x"
    assert parse_attr_val("facility-(name-ESNF)_name-e208339") == {"facility": "name-ESNF", "name": "e208339"}
    with pytest.raises(BadParameterError):
        parse_attr_val("facility-(name-ESNF")


def test_import_small_dump_and_round_trip(tmp_path: Path) -> None:
    first = _store(tmp_path, "a.db")
    counts = import_dump(first, read_yaml(io.StringIO(SMALL)))
    assert counts["Dataset"] == 1 and counts["UserGroup"] == 1 and counts["Job"] == 1
    cat = first.admin()
    (ds,) = cat.search("SELECT d FROM Dataset d INCLUDE d.parameters, d.investigation")
    assert ds["Dataset"]["parameters"][0]["numericValue"] == pytest.approx(0.9763)
    assert ds["Dataset"]["fileSize"] == 1024 and ds["Dataset"]["investigation"]["fileCount"] == 1
    (rule,) = cat.search("SELECT r FROM Rule r")
    assert rule["Rule"]["what"] == "SELECT o FROM Dataset o"
    assert cat.search("SELECT u.fullName FROM User u") == ["Jane Doé"]
    # export -> import -> export is identical (YAML and XML)
    once = _export_yaml(first)
    second = _store(tmp_path, "b.db")
    import_dump(second, read_yaml(io.StringIO(once)))
    assert _export_yaml(second) == once
    xml = _export_xml(first)
    third = _store(tmp_path, "c.db")
    full = io.BytesIO()
    write_xml(export_chunks(first), full)
    import_dump(third, read_xml(io.BytesIO(full.getvalue())))
    assert _export_xml(third) == xml and _export_yaml(third) == once
    assert "Job_00000001" in once and "DataCollection_00000001" in once


def test_import_is_all_or_nothing_and_names_the_place(tmp_path: Path) -> None:
    store = _store(tmp_path, "a.db")
    broken = SMALL.replace("name: d1\n", "name: d1\n    colour: red\n", 1)
    with pytest.raises(BadParameterError, match=r"chunk 3, Dataset_.*colour"):
        import_dump(store, read_yaml(io.StringIO(broken), "small.yaml"), source="small.yaml")
    assert store.admin().search("SELECT COUNT(u) FROM User u") == [0]
    dangling = SMALL.replace("inputDataCollection: DataCollection_00000001",
                             "inputDataCollection: DataCollection_00000009")
    with pytest.raises(NoSuchObjectFoundError, match="DataCollection_00000009"):
        import_dump(store, read_yaml(io.StringIO(dangling)))


def test_xml_references_by_attributes(tmp_path: Path) -> None:
    store = _store(tmp_path, "a.db")
    import_dump(store, read_yaml(io.StringIO(SMALL)))
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
<icatdata>
<data>
  <investigationRef id="inv_1" name="mx1" visitId="1.1"/>
  <dataset id="ds_2">
    <complete>true</complete>
    <name>d2</name>
    <investigation ref="inv_1"/>
    <type name="raw"/>
    <parameters><numericValue>1.5</numericValue><type name="wavelength" units="angstrom"/></parameters>
  </dataset>
  <datafile>
    <name>b.h5</name>
    <dataset name="d2" investigation.ref="inv_1"/>
  </datafile>
</data>
<data>
  <datasetRef id="ds" name="d2" investigation.name="mx1" investigation.visitId="1.1"/>
  <datafile>
    <name>c.h5</name>
    <dataset ref="ds"/>
  </datafile>
</data>
</icatdata>
"""
    import_dump(store, read_xml(io.BytesIO(xml)))
    cat = store.admin()
    assert cat.search("SELECT d.complete FROM Dataset d WHERE d.name = 'd2'") == [True]
    assert cat.search("SELECT f.dataset.name FROM Datafile f WHERE f.name = 'b.h5'") == ["d2"]
    assert cat.search("SELECT f.dataset.name FROM Datafile f WHERE f.name = 'c.h5'") == ["d2"]
    missing = xml.replace(b'investigation.name="mx1"', b'investigation.name="mx9"').replace(b"d2", b"d3", 2)
    with pytest.raises(NoSuchObjectFoundError, match="0 Dataset objects match"):
        import_dump(store, read_xml(io.BytesIO(missing)))


def test_entity_names_in_dump_are_known() -> None:
    from mxicat.catalogue.embedded.dump import ENTITY_ORDER, INSTANCE_NAMES

    assert set(ENTITY_ORDER) == set(INSTANCE_NAMES) and len(ENTITY_ORDER) == len(set(ENTITY_ORDER))
    assert len(ENTITIES) == 53


@pytest.mark.parametrize("suffix", ["yaml", "xml"])
def test_python_icat_example_dump(tmp_path: Path, suffix: str, shared) -> None:
    dump = shared.file("icat", f"icatdump-5.0.{suffix}")
    summary = shared.file("icat", "summary-5").read_text()
    store = _store(tmp_path, "a.db")
    if suffix == "xml":
        with dump.open("rb") as fb:
            import_dump(store, read_xml(fb))
    else:
        with dump.open() as ft:
            import_dump(store, read_yaml(ft))
    cat = store.admin()
    ours = summary_text(cat.user_name, entity_counts(cat))
    # ICAT 6.2 adds Subject; every ICAT 5 line of the root summary is reproduced exactly
    assert [line for line in ours.splitlines() if not line.startswith("Subject ")] == summary.splitlines()
    # the export is byte-identical to python-icat's icatdump output (apart from the header comments)
    original = shared.file("icat", "icatdump-5.0.yaml").read_text()
    strip = lambda text: [ln for ln in text.splitlines() if not ln.startswith(("#", "%"))]  # noqa: E731
    assert strip(_export_yaml(store)) == strip(original)
    original_xml = shared.file("icat", "icatdump-5.0.xml").read_bytes()
    assert _export_xml(store) == original_xml[original_xml.index(b"</head>"):]


def test_duplicate_modes(tmp_path: Path) -> None:
    store = _store(tmp_path, "a.db")
    import_dump(store, read_yaml(io.StringIO(SMALL)))
    cat = store.admin()
    facility_only = "---\nfacility:\n  Facility_name-ESRF:\n    name: ESRF\n    fullName: {}\n"
    with pytest.raises(ObjectAlreadyExistsError):
        import_dump(store, read_yaml(io.StringIO(facility_only.format("x"))))
    import_dump(store, read_yaml(io.StringIO(facility_only.format("x"))), duplicate="ignore")
    assert cat.search("SELECT f.fullName FROM Facility f") == [None]
    import_dump(store, read_yaml(io.StringIO(facility_only.format("European"))), duplicate="OVERWRITE")
    assert cat.search("SELECT f.fullName FROM Facility f") == ["European"]
    import_dump(store, read_yaml(io.StringIO(facility_only.format("European"))), duplicate="CHECK")
    with pytest.raises(ObjectAlreadyExistsError, match="fullName"):
        import_dump(store, read_yaml(io.StringIO(facility_only.format("Other"))), duplicate="CHECK")
    with pytest.raises(BadParameterError, match="Cannot IGNORE duplicate on Grouping if userGroups"):
        import_dump(store, read_yaml(io.StringIO(SMALL)), duplicate="IGNORE")
    assert cat.search("SELECT COUNT(f) FROM Facility f") == [1]


def test_older_attribute_names_are_accepted(tmp_path: Path) -> None:
    store = _store(tmp_path, "a.db")
    import_dump(store, read_yaml(io.StringIO(SMALL)))
    old = """\
---
rule:
  Rule_00000001:
    crudFlags: R
    group: Grouping_name-mx=5Freaders
    what: Investigation
dataCollection:
  DataCollection_00000001:
    dataCollectionParameters:
    - numericValue: '1.0'
      type: ParameterType_facility-(name-ESRF)_name-wavelength_units-angstrom
"""
    counts = import_dump(store, read_yaml(io.StringIO(old)))
    assert counts == {"Rule": 1, "DataCollection": 1, "DataCollectionParameter": 1}
    cat = store.admin()
    assert cat.search("SELECT r.grouping.name FROM Rule r WHERE r.what = 'Investigation'") == ["mx_readers"]
