"""The ICAT 6.2 schema as data and as SQLite tables (icat.md §1.4, §2)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mxicat.catalogue.embedded.schema import ENTITIES, TABLES, entity, icat_entity_info, metadata, row_to_entity
from mxicat.errors import BadParameterError


def test_all_53_entities_of_icat_62() -> None:
    assert len(ENTITIES) == 53
    for name in ("Subject", "DataPublication", "FundingReference", "Study", "Affiliation", "Technique"):
        assert name in ENTITIES
    with pytest.raises(BadParameterError, match="Nonsense"):
        entity("Nonsense")


@pytest.mark.parametrize(("name", "table", "columns"), [
    ("Rule", "RULE_", {"CRUDFLAGS", "WHAT", "GROUPING_ID", "BEAN", "SEARCHJPQL"}),
    ("User", "USER_", {"NAME", "FULLNAME", "ORCIDID"}),
    ("Investigation", "INVESTIGATION", {"VISIT_ID", "FACILITY_ID", "TYPE_ID", "FILESIZE", "RELEASEDATE"}),
    ("Dataset", "DATASET", {"END_DATE", "STARTDATE", "INVESTIGATION_ID", "SAMPLE_ID", "TYPE_ID", "COMPLETE"}),
    ("DatasetParameter", "DATASETPARAMETER", {"STRING_VALUE", "NUMERIC_VALUE", "DATETIME_VALUE",
                                              "PARAMETER_TYPE_ID", "RANGETOP"}),
    ("PermissibleStringValue", "PERMISSIBLESTRINGVALUE", {"VALUE", "PARAMETERTYPE_ID"}),
    ("UserGroup", "USERGROUP", {"GROUP_ID", "USER_ID"}),
    ("InvestigationGroup", "INVESTIGATIONGROUP", {"GROUP_ID", "ROLE"}),
    ("Sample", "SAMPLE", {"SAMPLETYPE_ID", "PID"}),
    ("DataPublication", "DATAPUBLICATION", {"DATACOLLECTION_ID", "DATAPUBLICATIONTYPE_ID", "INTERNALID"}),
    ("DataPublicationDate", "DATAPUBLICATIONDATE", {"DATE_", "DATAPUBLICATION_ID"}),
    ("RelatedDatafile", "RELATEDDATAFILE", {"SOURCE_DATAFILE_ID", "DEST_DATAFILE_ID"}),
    ("Affiliation", "AFFILIATION", {"DATAPUBLICATIONUSER_ID"}),
    ("InvestigationFunding", "INVESTIGATIONFUNDING", {"FUNDING_ID"}),
    ("Job", "JOB", {"INPUTDATACOLLECTION_ID", "OUTPUTDATACOLLECTION_ID", "ARGUMENTS"}),
])
def test_physical_names(name: str, table: str, columns: set[str]) -> None:
    t = TABLES[name]
    assert t.name == table
    assert columns <= set(t.c.keys())
    assert {"ID", "CREATE_ID", "CREATE_TIME", "MOD_ID", "MOD_TIME"} <= set(t.c.keys())


@pytest.mark.parametrize(("name", "key", "columns"), [
    ("Dataset", ("investigation", "name"), ["INVESTIGATION_ID", "NAME"]),
    ("InvestigationType", ("name", "facility"), ["NAME", "FACILITY_ID"]),
    ("DatasetType", ("facility", "name"), ["FACILITY_ID", "NAME"]),
    ("Investigation", ("facility", "name", "visitId"), ["FACILITY_ID", "NAME", "VISIT_ID"]),
    ("InvestigationUser", ("user", "investigation", "role"), ["USER_ID", "INVESTIGATION_ID", "ROLE"]),
    ("PermissibleStringValue", ("value", "type"), ["VALUE", "PARAMETERTYPE_ID"]),
    ("ParameterType", ("facility", "name", "units"), ["FACILITY_ID", "NAME", "UNITS"]),
    ("Shift", ("investigation", "startDate", "endDate"), ["INVESTIGATION_ID", "STARTDATE", "ENDDATE"]),
])
def test_unique_keys_in_annotation_order(name: str, key: tuple[str, ...], columns: list[str]) -> None:
    assert ENTITIES[name].unique_key == key
    index = next(ix for ix in TABLES[name].indexes if ix.name == f"UNQ_{TABLES[name].name}_0")
    assert index.unique and [c.name for c in index.columns] == columns


def test_entities_without_constraint() -> None:
    assert {n for n, i in ENTITIES.items() if not i.unique_key} == {
        "DataCollection", "Job", "Rule", "Study", "Publication"}


def test_not_null_flags_and_relations() -> None:
    ds = ENTITIES["Dataset"]
    assert ds.fields["name"].not_null and ds.fields["complete"].not_null
    assert not ds.fields["description"].not_null
    assert ds.relations["investigation"].not_null and not ds.relations["sample"].not_null
    assert ds.relations["datafiles"].many and ds.relations["datafiles"].mapped_by == "dataset"
    assert ENTITIES["ParameterType"].fields["valueType"].enum_values == ("DATE_AND_TIME", "NUMERIC", "STRING")
    assert ENTITIES["Rule"].fields["what"].length == 1024
    assert ENTITIES["DatasetParameter"].fields["stringValue"].length == 4000
    # every 1:N collection has its N:1 counterpart on the target
    for info in ENTITIES.values():
        for rel in info.many.values():
            back = ENTITIES[rel.target].relations[rel.mapped_by or ""]
            assert back.target == info.name and not back.many


def test_indexes_on_foreign_keys_and_parameter_values(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    metadata.create_all(engine)
    insp = sa.inspect(engine)
    for name, table in TABLES.items():
        indexed = {tuple(ix["column_names"])[0] for ix in insp.get_indexes(table.name)}
        for rel in ENTITIES[name].one.values():
            assert rel.column in indexed, f"{name}.{rel.column} not indexed"
    cols = {tuple(ix["column_names"]) for ix in insp.get_indexes("DATASETPARAMETER")}
    assert {("PARAMETER_TYPE_ID", "NUMERIC_VALUE"), ("PARAMETER_TYPE_ID", "STRING_VALUE"),
            ("PARAMETER_TYPE_ID", "DATETIME_VALUE")} <= cols
    fks = insp.get_foreign_keys("DATASET")
    assert {fk["referred_table"] for fk in fks} == {"INVESTIGATION", "DATASETTYPE", "SAMPLE"}


def test_row_to_entity_rest_shape() -> None:
    info = ENTITIES["Dataset"]
    row = {"ID": 5, "CREATE_ID": "db/x", "NAME": "d", "COMPLETE": 0, "DESCRIPTION": None,
           "STARTDATE": "2024-05-01 10:00:00.000000"}
    out = row_to_entity(info, row)
    assert out["id"] == 5 and out["complete"] is False and "description" not in out
    assert out["startDate"].isoformat() == "2024-05-01T10:00:00+00:00"
    assert out["datafiles"] == [] and out["parameters"] == [] and "investigation" not in out


def test_icat_entity_info_shape() -> None:
    info = icat_entity_info("Dataset")
    assert info["constraints"] == [{"fieldNames": ["investigation", "name"]}]
    by_name = {f["name"]: f for f in info["fields"]}
    assert by_name["investigation"] == {"name": "investigation", "type": "Investigation", "relType": "ONE",
                                        "notNullable": True}
    assert by_name["datafiles"]["relType"] == "MANY" and by_name["name"]["stringLength"] == 255
    assert by_name["startDate"]["type"] == "Date" and by_name["complete"]["type"] == "Boolean"
    assert {f["type"] for f in icat_entity_info("ParameterType")["fields"] if f["name"] == "valueType"} == {
        "ParameterValueType"}
    assert "constraints" not in icat_entity_info("Rule")
    assert {f["name"] for f in icat_entity_info("Parameter")["fields"]} >= {"numericValue", "type", "id"}


def test_python_icat_renders_queries_offline_from_the_schema() -> None:
    entities = pytest.importorskip("icat.entities")
    query = pytest.importorskip("icat.query")
    from types import SimpleNamespace

    class SudsLike(dict):  # suds objects answer both obj["name"] and obj.name
        __getattr__ = dict.__getitem__

    class StubClient:
        apiversion = "6.2.0"

        def getEntityNames(self) -> list[str]:  # noqa: N802 - python-icat's name
            return sorted(ENTITIES)

        def getEntityInfo(self, name: str) -> SimpleNamespace:  # noqa: N802
            info = icat_entity_info(name)
            info["fields"] = [SudsLike(f) for f in info["fields"]]
            return SimpleNamespace(**info)

        def _has_wsdl_type(self, name: str) -> bool:
            return True

        def getEntityClass(self, name: str) -> type:  # noqa: N802
            return self.typemap[name[0].lower() + name[1:]]

    client = StubClient()
    client.typemap = entities.getTypeMap(client)
    q = query.Query(client, "Dataset", conditions={"investigation.name": "= 'mx1'"}, includes={"parameters.type"},
                    order=True, limit=(0, 10))
    text = str(q)
    assert text.startswith("SELECT o FROM Dataset o JOIN o.investigation AS i")
    assert " ORDER BY " in text
    assert text.endswith("INCLUDE o.parameters AS p, p.type LIMIT 0, 10")
