"""The ICAT 6.2 schema as data and as SQLAlchemy Core tables (icat.md §1, §2).

Everything that knows about ICAT's entity model reads it from here: the store (writes), the query compiler
(``mxicat.catalogue.embedded.sql``), the dump reader/writer and the authorizer.

* :data:`ENTITIES` -- ``{"Dataset": EntityInfo, ...}`` for all 53 concrete entity types of ICAT 6.2, with
  ICAT's camelCase field names, NOT NULL flags, uniqueness keys (in the Java annotation order, which python-icat
  dump keys depend on) and the physical table/column names of ICAT's EclipseLink mapping (``RULE_``, ``USER_``,
  ``VISIT_ID``, ``END_DATE``, ``PARAMETER_TYPE_ID``, ``GROUP_ID``, ``UNQ_<TABLE>_0`` ...).
* :data:`metadata` / :data:`TABLES` -- the SQLAlchemy tables (entity name -> Table).
* :func:`row_to_entity` -- the ONE place where a table row becomes an ICAT REST JSON entity dict (§7.2).

Storage conventions (the query compiler must follow them when binding literals):

* ``datetime`` columns are SQLAlchemy ``DateTime`` (naive UTC in SQLite's text form); bind values with the
  column's type (``sa.literal(v, col.type)`` / ``bindparam(..., type_=col.type)``) after converting aware
  datetimes with :func:`to_db_datetime`. :func:`row_to_entity` returns aware UTC datetimes.
* ``bool`` columns are SQLAlchemy ``Boolean`` (0/1), ``enum`` columns plain strings holding the constant name
  (``"NUMERIC"``); ``int`` columns are SQLite integers (ICAT ``Long``/``Integer``), ``float`` are REAL.
* Every N:1 relation is a foreign key ``<TABLE>.<COLUMN> -> <TARGET>.ID`` with ``ON DELETE CASCADE`` (ICAT's
  1:N collections are all ``cascade=ALL``); each such column is indexed.
* The ``RULE_`` table also has ICAT's hidden columns (``BEAN, C, R, U, D, RESTRICTED, CRUDJPQL, SEARCHJPQL,
  INCLUDEJPQL, ATTRIBUTE``; icat.md §6.2), which are not ICAT fields; the authorizer may fill and use them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mxicat.errors import BadParameterError

#: ICAT API version this schema reproduces
ICAT_VERSION = "6.2.0"

META_FIELDS: tuple[str, ...] = ("id", "createId", "createTime", "modId", "modTime")

#: Java enum classes of ICAT's enum-typed fields (for ``org.icatproject.ParameterValueType.NUMERIC`` literals)
ENUMS: dict[str, tuple[str, ...]] = {
    "ParameterValueType": ("DATE_AND_TIME", "NUMERIC", "STRING"),
    "StudyStatus": ("NEW", "IN_PROGRESS", "COMPLETE", "CANCELLED"),
}


@dataclass(frozen=True)
class FieldInfo:
    """One ICAT attribute (including the meta fields)."""

    name: str
    column: str
    type: str  # 'str' | 'int' | 'float' | 'bool' | 'datetime' | 'enum'
    not_null: bool = False
    length: int | None = None
    enum_values: tuple[str, ...] = ()
    enum_class: str | None = None  # e.g. 'ParameterValueType'
    default: Any = None  # value when a create omits the field (Java primitives: False)


@dataclass(frozen=True)
class RelationInfo:
    """One ICAT relation: N:1 (``many=False``, FK ``column`` on this table) or 1:N (``many=True``)."""

    name: str
    target: str
    many: bool
    column: str | None = None
    mapped_by: str | None = None
    not_null: bool = False


@dataclass(frozen=True)
class EntityInfo:
    """One ICAT entity type."""

    name: str
    table: str
    fields: dict[str, FieldInfo]
    relations: dict[str, RelationInfo]
    unique_key: tuple[str, ...] = ()

    @property
    def one(self) -> dict[str, RelationInfo]:
        """The N:1 relations."""
        return {n: r for n, r in self.relations.items() if not r.many}

    @property
    def many(self) -> dict[str, RelationInfo]:
        """The 1:N collections."""
        return {n: r for n, r in self.relations.items() if r.many}

    @property
    def attributes(self) -> dict[str, FieldInfo]:
        """Fields without the meta fields."""
        return {n: f for n, f in self.fields.items() if n not in META_FIELDS}

    def member(self, name: str) -> FieldInfo | RelationInfo:
        """A field or relation by name; :class:`BadParameterError` naming it when unknown."""
        found = self.fields.get(name) or self.relations.get(name)
        if found is None:
            raise BadParameterError(f"Field {name} not found in {self.name}")
        return found


# --------------------------------------------------------------------------------------------- spec
# Compact transcription of icat.md §2. Attributes: ``name[!][:type][(len)][=COLUMN]`` where type is one of
# s(tr, default) i(nt) f(loat) b(ool) d(atetime) e:<EnumClass>; ``!`` = NOT NULL. N:1:
# ``name[!]>Target[=COLUMN]``. 1:N: ``name>Target.mappedBy``. Key: field/relation names in annotation order.
_PARAM_ATTRS = (
    "stringValue(4000)=STRING_VALUE numericValue:f=NUMERIC_VALUE dateTimeValue:d=DATETIME_VALUE "
    "rangeTop:f rangeBottom:f error:f"
)
_PT = "type!>ParameterType=PARAMETER_TYPE_ID"

_SPEC: dict[str, tuple[str, str, str, str, str]] = {
    # entity: (table, attributes, N:1, 1:N, unique key)
    "Affiliation": ("AFFILIATION", "name! fullReference(1023) pid",
                    "user!>DataPublicationUser=DATAPUBLICATIONUSER_ID", "", "user name"),
    "Application": ("APPLICATION", "name! version!", "facility!>Facility", "jobs>Job.application",
                    "facility name version"),
    "DataCollection": ("DATACOLLECTION", "doi", "",
                       "dataCollectionDatafiles>DataCollectionDatafile.dataCollection "
                       "dataCollectionDatasets>DataCollectionDataset.dataCollection "
                       "dataCollectionInvestigations>DataCollectionInvestigation.dataCollection "
                       "parameters>DataCollectionParameter.dataCollection "
                       "jobsAsInput>Job.inputDataCollection jobsAsOutput>Job.outputDataCollection "
                       "dataPublications>DataPublication.content", ""),
    "DataCollectionDatafile": ("DATACOLLECTIONDATAFILE", "",
                               "dataCollection!>DataCollection datafile!>Datafile", "", "dataCollection datafile"),
    "DataCollectionDataset": ("DATACOLLECTIONDATASET", "",
                              "dataCollection!>DataCollection dataset!>Dataset", "", "dataCollection dataset"),
    "DataCollectionInvestigation": ("DATACOLLECTIONINVESTIGATION", "",
                                    "dataCollection!>DataCollection investigation!>Investigation", "",
                                    "dataCollection investigation"),
    "DataCollectionParameter": ("DATACOLLECTIONPARAMETER", _PARAM_ATTRS,
                                f"{_PT} dataCollection!>DataCollection", "", "dataCollection type"),
    "DataPublication": ("DATAPUBLICATION",
                        "pid! title! publicationDate:d subject(1023) description(4000) internalId",
                        "facility!>Facility content!>DataCollection=DATACOLLECTION_ID "
                        "type>DataPublicationType=DATAPUBLICATIONTYPE_ID",
                        "users>DataPublicationUser.publication dates>DataPublicationDate.publication "
                        "relatedItems>RelatedItem.publication "
                        "fundingReferences>DataPublicationFunding.dataPublication "
                        "subjects>Subject.dataPublication", "facility pid"),
    "DataPublicationDate": ("DATAPUBLICATIONDATE", "dateType! date!=DATE_",
                            "publication!>DataPublication=DATAPUBLICATION_ID", "", "publication dateType"),
    "DataPublicationFunding": ("DATAPUBLICATIONFUNDING", "",
                               "dataPublication!>DataPublication=DATAPUBLICATION_ID "
                               "funding!>FundingReference=FUNDING_ID", "", "dataPublication funding"),
    "DataPublicationType": ("DATAPUBLICATIONTYPE", "name! description", "facility!>Facility",
                            "dataPublications>DataPublication.type", "facility name"),
    "DataPublicationUser": ("DATAPUBLICATIONUSER",
                            "contributorType! orderKey fullName givenName familyName email",
                            "publication!>DataPublication=DATAPUBLICATION_ID user!>User",
                            "affiliations>Affiliation.user", "publication user contributorType"),
    "Datafile": ("DATAFILE",
                 "name! location(511) fileSize:i checksum datafileCreateTime:d datafileModTime:d description doi",
                 "dataset!>Dataset datafileFormat>DatafileFormat",
                 "parameters>DatafileParameter.datafile dataCollectionDatafiles>DataCollectionDatafile.datafile "
                 "sourceDatafiles>RelatedDatafile.sourceDatafile destDatafiles>RelatedDatafile.destDatafile",
                 "dataset name"),
    "DatafileFormat": ("DATAFILEFORMAT", "name! version! type description", "facility!>Facility",
                       "datafiles>Datafile.datafileFormat", "facility name version"),
    "DatafileParameter": ("DATAFILEPARAMETER", _PARAM_ATTRS, f"{_PT} datafile!>Datafile", "", "datafile type"),
    "Dataset": ("DATASET",
                "name! complete!:b location(511) startDate:d endDate:d=END_DATE description doi "
                "fileSize:i fileCount:i",
                "investigation!>Investigation type!>DatasetType sample>Sample",
                "datafiles>Datafile.dataset parameters>DatasetParameter.dataset "
                "dataCollectionDatasets>DataCollectionDataset.dataset datasetInstruments>DatasetInstrument.dataset "
                "datasetTechniques>DatasetTechnique.dataset", "investigation name"),
    "DatasetInstrument": ("DATASETINSTRUMENT", "", "dataset!>Dataset instrument!>Instrument", "",
                          "dataset instrument"),
    "DatasetParameter": ("DATASETPARAMETER", _PARAM_ATTRS, f"{_PT} dataset!>Dataset", "", "dataset type"),
    "DatasetTechnique": ("DATASETTECHNIQUE", "", "dataset!>Dataset technique!>Technique", "",
                         "dataset technique"),
    "DatasetType": ("DATASETTYPE", "name! description", "facility!>Facility", "datasets>Dataset.type",
                    "facility name"),
    "Facility": ("FACILITY", "name! fullName description(1023) url daysUntilRelease:i", "",
                 "instruments>Instrument.facility investigations>Investigation.facility "
                 "investigationTypes>InvestigationType.facility datasetTypes>DatasetType.facility "
                 "datafileFormats>DatafileFormat.facility parameterTypes>ParameterType.facility "
                 "sampleTypes>SampleType.facility applications>Application.facility "
                 "facilityCycles>FacilityCycle.facility dataPublications>DataPublication.facility "
                 "dataPublicationTypes>DataPublicationType.facility", "name"),
    "FacilityCycle": ("FACILITYCYCLE", "name! startDate:d endDate:d description", "facility!>Facility",
                      "investigationFacilityCycles>InvestigationFacilityCycle.facilityCycle", "facility name"),
    "FundingReference": ("FUNDINGREFERENCE",
                         "funderName! awardNumber! funderIdentifier awardTitle acknowledgement(1023)", "",
                         "investigations>InvestigationFunding.funding publications>DataPublicationFunding.funding",
                         "funderName awardNumber"),
    "Grouping": ("GROUPING", "name!", "",
                 "userGroups>UserGroup.grouping investigationGroups>InvestigationGroup.grouping rules>Rule.grouping",
                 "name"),
    "Instrument": ("INSTRUMENT", "name! fullName description(4000) type url pid startDate:d endDate:d",
                   "facility!>Facility",
                   "instrumentScientists>InstrumentScientist.instrument "
                   "investigationInstruments>InvestigationInstrument.instrument "
                   "datasetInstruments>DatasetInstrument.instrument shifts>Shift.instrument", "facility name"),
    "InstrumentScientist": ("INSTRUMENTSCIENTIST", "", "instrument!>Instrument user!>User", "",
                            "user instrument"),
    "Investigation": ("INVESTIGATION",
                      "name! visitId!=VISIT_ID title! summary(4000) doi startDate:d endDate:d releaseDate:d "
                      "fileSize:i fileCount:i",
                      "facility!>Facility type!>InvestigationType",
                      "datasets>Dataset.investigation samples>Sample.investigation "
                      "parameters>InvestigationParameter.investigation "
                      "investigationUsers>InvestigationUser.investigation "
                      "investigationGroups>InvestigationGroup.investigation "
                      "investigationInstruments>InvestigationInstrument.investigation "
                      "keywords>Keyword.investigation publications>Publication.investigation "
                      "shifts>Shift.investigation studyInvestigations>StudyInvestigation.investigation "
                      "investigationFacilityCycles>InvestigationFacilityCycle.investigation "
                      "fundingReferences>InvestigationFunding.investigation "
                      "dataCollectionInvestigations>DataCollectionInvestigation.investigation",
                      "facility name visitId"),
    "InvestigationFacilityCycle": ("INVESTIGATIONFACILITYCYCLE", "",
                                   "facilityCycle!>FacilityCycle investigation!>Investigation", "",
                                   "facilityCycle investigation"),
    "InvestigationFunding": ("INVESTIGATIONFUNDING", "",
                             "investigation!>Investigation funding!>FundingReference=FUNDING_ID", "",
                             "investigation funding"),
    "InvestigationGroup": ("INVESTIGATIONGROUP", "role!",
                           "grouping!>Grouping=GROUP_ID investigation!>Investigation", "",
                           "grouping investigation role"),
    "InvestigationInstrument": ("INVESTIGATIONINSTRUMENT", "",
                                "investigation!>Investigation instrument!>Instrument", "",
                                "investigation instrument"),
    "InvestigationParameter": ("INVESTIGATIONPARAMETER", _PARAM_ATTRS,
                               f"{_PT} investigation!>Investigation", "", "investigation type"),
    "InvestigationType": ("INVESTIGATIONTYPE", "name! description", "facility!>Facility",
                          "investigations>Investigation.type", "name facility"),
    "InvestigationUser": ("INVESTIGATIONUSER", "role!", "user!>User investigation!>Investigation", "",
                          "user investigation role"),
    "Job": ("JOB", "arguments",
            "application!>Application inputDataCollection>DataCollection outputDataCollection>DataCollection",
            "", ""),
    "Keyword": ("KEYWORD", "name!", "investigation!>Investigation", "", "name investigation"),
    "ParameterType": ("PARAMETERTYPE",
                      "name! units! valueType!:e:ParameterValueType unitsFullName description pid "
                      "enforced:b verified:b minimumNumericValue:f maximumNumericValue:f "
                      "applicableToInvestigation:b applicableToDataset:b applicableToDatafile:b "
                      "applicableToSample:b applicableToDataCollection:b",
                      "facility!>Facility",
                      "permissibleStringValues>PermissibleStringValue.type "
                      "investigationParameters>InvestigationParameter.type datasetParameters>DatasetParameter.type "
                      "datafileParameters>DatafileParameter.type sampleParameters>SampleParameter.type "
                      "dataCollectionParameters>DataCollectionParameter.type", "facility name units"),
    "PermissibleStringValue": ("PERMISSIBLESTRINGVALUE", "value!", "type!>ParameterType=PARAMETERTYPE_ID", "",
                               "value type"),
    "PublicStep": ("PUBLICSTEP", "origin!(32) field!(32)", "", "", "origin field"),
    "Publication": ("PUBLICATION", "fullReference!(511) doi repository repositoryId url",
                    "investigation!>Investigation", "", ""),
    "RelatedDatafile": ("RELATEDDATAFILE", "relation!",
                        "sourceDatafile!>Datafile=SOURCE_DATAFILE_ID destDatafile!>Datafile=DEST_DATAFILE_ID", "",
                        "sourceDatafile destDatafile"),
    "RelatedItem": ("RELATEDITEM", "identifier! relationType! fullReference(1023) relatedItemType title",
                    "publication!>DataPublication=DATAPUBLICATION_ID", "", "publication identifier"),
    "Rule": ("RULE_", "crudFlags!(4) what!(1024)", "grouping>Grouping", "", ""),
    "Sample": ("SAMPLE", "name! pid", "investigation!>Investigation type>SampleType=SAMPLETYPE_ID",
               "datasets>Dataset.sample parameters>SampleParameter.sample", "investigation name"),
    "SampleParameter": ("SAMPLEPARAMETER", _PARAM_ATTRS, f"{_PT} sample!>Sample", "", "sample type"),
    "SampleType": ("SAMPLETYPE", "name! molecularFormula! safetyInformation(4000)", "facility!>Facility",
                   "samples>Sample.type", "facility name molecularFormula"),
    "Shift": ("SHIFT", "startDate!:d endDate!:d comment", "investigation!>Investigation instrument>Instrument",
              "", "investigation startDate endDate"),
    "Study": ("STUDY", "name! description(4000) startDate:d endDate:d status:e:StudyStatus pid", "user>User",
              "studyInvestigations>StudyInvestigation.study", ""),
    "StudyInvestigation": ("STUDYINVESTIGATION", "", "study!>Study investigation!>Investigation", "",
                           "study investigation"),
    "Subject": ("SUBJECT", "name! pid subjectScheme schemeURI valueURI classificationCode",
                "dataPublication!>DataPublication=DATAPUBLICATION_ID", "", "dataPublication name"),
    "Technique": ("TECHNIQUE", "name! pid description", "", "datasetTechniques>DatasetTechnique.technique",
                  "name"),
    "User": ("USER_", "name! fullName givenName familyName affiliation email orcidId", "",
             "userGroups>UserGroup.user investigationUsers>InvestigationUser.user "
             "instrumentScientists>InstrumentScientist.user studies>Study.user "
             "dataPublicationUsers>DataPublicationUser.user", "name"),
    "UserGroup": ("USERGROUP", "", "grouping!>Grouping=GROUP_ID user!>User", "", "user grouping"),
}

#: Java primitives (``boolean``) in ICAT: never null, ``false`` when a create omits them
_PRIMITIVE_BOOLS = frozenset({
    ("Dataset", "complete"), ("ParameterType", "enforced"), ("ParameterType", "verified"),
    ("ParameterType", "applicableToInvestigation"), ("ParameterType", "applicableToDataset"),
    ("ParameterType", "applicableToDatafile"), ("ParameterType", "applicableToSample"),
    ("ParameterType", "applicableToDataCollection"),
})

#: ICAT 5 size columns: default 0 (kept current from the Datafiles, icat.md §3)
_ZERO_DEFAULTS = {("Dataset", "fileSize"): 0, ("Dataset", "fileCount"): 0,
                  ("Investigation", "fileSize"): 0, ("Investigation", "fileCount"): 0}

#: parameter entities: entity -> name of the parent relation
PARAMETER_ENTITIES: dict[str, str] = {
    "DataCollectionParameter": "dataCollection", "DatafileParameter": "datafile",
    "DatasetParameter": "dataset", "InvestigationParameter": "investigation", "SampleParameter": "sample",
}

#: value columns of every parameter table, each indexed as (PARAMETER_TYPE_ID, value) for portal queries
PARAMETER_VALUE_COLUMNS = ("NUMERIC_VALUE", "STRING_VALUE", "DATETIME_VALUE")
#: the (type, value) indexes holding only the rows where the value is set: a parameter row has one kind of
#: value, so full indexes would store every row three times (two of them NULL entries no query reads); the
#: numeric index stays full as the one index leading with PARAMETER_TYPE_ID (type-only lookups, FK cascades)
PARTIAL_VALUE_COLUMNS = ("STRING_VALUE", "DATETIME_VALUE")

_TYPES = {"s": "str", "i": "int", "f": "float", "b": "bool", "d": "datetime"}
_ATTR_RE = re.compile(r"^(\w+)(!)?(?::(\w)(?::(\w+))?)?(?:\((\d+)\))?(?:=(\w+))?$")
_ONE_RE = re.compile(r"^(\w+)(!)?>(\w+)(?:=(\w+))?$")
_MANY_RE = re.compile(r"^(\w+)>(\w+)\.(\w+)$")


def _parse_entity(name: str, spec: tuple[str, str, str, str, str]) -> EntityInfo:
    table, attrs, ones, manys, key = spec
    fields: dict[str, FieldInfo] = {
        "id": FieldInfo("id", "ID", "int", True),
        "createId": FieldInfo("createId", "CREATE_ID", "str", True, 255),
        "createTime": FieldInfo("createTime", "CREATE_TIME", "datetime", True),
        "modId": FieldInfo("modId", "MOD_ID", "str", True, 255),
        "modTime": FieldInfo("modTime", "MOD_TIME", "datetime", True),
    }
    parsed: list[FieldInfo] = []
    for token in attrs.split():
        m = _ATTR_RE.match(token)
        assert m, f"bad attribute spec {name}.{token}"
        fname, bang, tcode, enum_class, length, column = m.groups()
        ftype = "enum" if tcode == "e" else _TYPES[tcode or "s"]
        primitive = (name, fname) in _PRIMITIVE_BOOLS
        default: Any = False if primitive else _ZERO_DEFAULTS.get((name, fname))
        parsed.append(FieldInfo(
            name=fname,
            column=column or fname.upper(),
            type=ftype,
            not_null=bool(bang) or primitive,
            length=(int(length) if length else 255) if ftype == "str" else None,
            enum_values=ENUMS[enum_class] if enum_class else (),
            enum_class=enum_class,
            default=default,
        ))
    for f in sorted(parsed, key=lambda f: f.name):
        fields[f.name] = f
    relations: list[RelationInfo] = []
    for token in ones.split():
        m = _ONE_RE.match(token)
        assert m, f"bad relation spec {name}.{token}"
        rname, bang, target, column = m.groups()
        relations.append(RelationInfo(rname, target, False, column or f"{rname.upper()}_ID", None, bool(bang)))
    for token in manys.split():
        m = _MANY_RE.match(token)
        assert m, f"bad collection spec {name}.{token}"
        rname, target, mapped_by = m.groups()
        relations.append(RelationInfo(rname, target, True, None, mapped_by, False))
    rels = {r.name: r for r in sorted(relations, key=lambda r: r.name)}
    return EntityInfo(name, table, fields, rels, tuple(key.split()))


ENTITIES: dict[str, EntityInfo] = {name: _parse_entity(name, spec) for name, spec in sorted(_SPEC.items())}
"""All 53 concrete entity types of ICAT 6.2, by bean name."""

#: lowerCamelCase name -> bean name (``dataset`` -> ``Dataset``), as in python-icat dumps
INSTANCE_NAMES: dict[str, str] = {n[0].lower() + n[1:]: n for n in ENTITIES}


def entity(name: str) -> EntityInfo:
    """The :class:`EntityInfo` of a bean name; :class:`BadParameterError` naming it when unknown."""
    try:
        return ENTITIES[name]
    except (KeyError, TypeError):
        raise BadParameterError(f"Unknown entity type {name!r}") from None


def _check_consistency() -> None:
    for info in ENTITIES.values():
        for rel in info.relations.values():
            target = ENTITIES[rel.target]
            if rel.many:
                back = target.relations.get(rel.mapped_by or "")
                assert back and not back.many and back.target == info.name, f"{info.name}.{rel.name}"
        for k in info.unique_key:
            assert k in info.fields or k in info.relations, f"{info.name} key {k}"


_check_consistency()

# --------------------------------------------------------------------------------------------- tables
metadata = sa.MetaData()

_SA_TYPES: dict[str, Any] = {
    "int": sa.Integer, "float": sa.Float, "bool": sa.Boolean, "datetime": sa.DateTime,
}


def _column_type(f: FieldInfo) -> Any:
    if f.type in ("str", "enum"):
        return sa.String(f.length or 255)
    return _SA_TYPES[f.type]()


def _build_table(info: EntityInfo) -> sa.Table:
    cols: list[Any] = [sa.Column("ID", sa.Integer, primary_key=True, autoincrement=False)]
    for f in info.fields.values():
        if f.name != "id":
            cols.append(sa.Column(f.column, _column_type(f), nullable=not f.not_null))
    for rel in info.one.values():
        target = ENTITIES[rel.target].table
        assert rel.column
        cols.append(sa.Column(rel.column, sa.Integer,
                              sa.ForeignKey(f"{target}.ID", ondelete="CASCADE"), nullable=not rel.not_null))
    if info.name == "Rule":  # hidden columns written by the server (icat.md §6.2)
        cols += [sa.Column("BEAN", sa.String(255)), sa.Column("ATTRIBUTE", sa.String(255))]
        cols += [sa.Column(c, sa.Boolean) for c in ("C", "R", "U", "D", "RESTRICTED")]
        cols += [sa.Column(c, sa.String(4000)) for c in ("CRUDJPQL", "SEARCHJPQL", "INCLUDEJPQL")]
    table = sa.Table(info.table, metadata, *cols)
    key_columns = [physical_column(info, k) for k in info.unique_key]
    if key_columns:
        sa.Index(f"UNQ_{info.table}_0", *(table.c[c] for c in key_columns), unique=True)
    leading = {key_columns[0]} if key_columns else set()
    if info.name in PARAMETER_ENTITIES:
        leading.add("PARAMETER_TYPE_ID")  # the (type, value) indexes below lead with it
    for rel in info.one.values():
        assert rel.column
        if rel.column not in leading:  # an index leading with the column already serves the FK
            sa.Index(f"IX_{info.table}_{rel.column}", table.c[rel.column])
    if info.name in PARAMETER_ENTITIES:
        for value_col in PARAMETER_VALUE_COLUMNS:
            partial = value_col in PARTIAL_VALUE_COLUMNS
            sa.Index(
                f"IX_{info.table}_TYPE_{value_col}",
                table.c.PARAMETER_TYPE_ID,
                table.c[value_col],
                sqlite_where=table.c[value_col].is_not(None) if partial else None,
            )
    if info.name == "Datafile":
        sa.Index("IX_DATAFILE_LOCATION", table.c.LOCATION)  # @Index(columnList="location") in Datafile.java
    if info.name == "Rule":
        sa.Index("IX_RULE__BEAN", table.c.BEAN)
    return table


def physical_column(info: EntityInfo, name: str) -> str:
    """The column holding field or N:1 relation ``name`` of ``info``."""
    member = info.member(name)
    if isinstance(member, RelationInfo):
        if member.many or member.column is None:
            raise BadParameterError(f"{info.name}.{name} is a 1:N collection, not a column")
        return member.column
    return member.column


TABLES: dict[str, sa.Table] = {name: _build_table(info) for name, info in ENTITIES.items()}
"""Entity name -> SQLAlchemy table."""


# --------------------------------------------------------------------------------------------- values
def to_db_datetime(value: datetime) -> datetime:
    """The stored form of a datetime: naive UTC (naive input is taken as UTC, the embedded server zone)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def from_db_datetime(value: datetime | str | None) -> datetime | None:
    """Stored naive UTC -> aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def value_from_db(f: FieldInfo, value: Any) -> Any:
    """A stored column value as ICAT returns it (aware datetimes, Python bools, NaN -> None)."""
    if value is None:
        return None
    if f.type == "datetime":
        return from_db_datetime(value)
    if f.type == "bool":
        return bool(value)
    if f.type == "float":
        value = float(value)
        return None if math.isnan(value) else value
    return value


def row_to_entity(info: EntityInfo, row: Mapping[str, Any]) -> dict[str, Any]:
    """One row (keys = physical column names, e.g. ``row._mapping``) as ICAT REST JSON content (§7.2).

    Meta fields, then every non-null attribute, then every 1:N collection as ``[]`` (callers fill INCLUDEd
    ones). N:1 relations are absent (ICAT shows them only when INCLUDEd). The ``{"Dataset": ...}`` wrapper is
    the caller's.
    """
    out: dict[str, Any] = {}
    for f in info.fields.values():
        value = value_from_db(f, row.get(f.column))
        if value is not None:
            out[f.name] = value
    for name in info.many:
        out[name] = []
    return out


_JAVA_TYPES = {"str": "String", "int": "Long", "float": "Double", "bool": "Boolean", "datetime": "Date"}
_JAVA_INTEGER = frozenset({("Facility", "daysUntilRelease")})


def icat_entity_info(name: str) -> dict[str, Any]:
    """ICAT ``getEntityInfo(name)`` as data: ``{"classComment", "constraints": [{"fieldNames"}], "fields": [...]}``
    (``constraints`` absent when the entity has none, as ICAT sends it).

    Each field has ``name``, ``type`` (Java type or related bean), ``relType`` (ATTRIBUTE/ONE/MANY),
    ``notNullable`` and, for strings, ``stringLength`` -- what python-icat reads to build its entity classes,
    so its ``icat.query.Query`` can render queries offline from this schema (``"Parameter"`` is accepted):
    a stub client answering ``getEntityInfo`` with a namespace of this dict whose fields allow both ``f["name"]``
    and ``f.name`` (as suds objects do).
    """
    if name == "Parameter":  # the abstract parent python-icat asks for first
        base = ENTITIES["DatasetParameter"]
        keep = {*META_FIELDS, "stringValue", "numericValue", "dateTimeValue", "rangeTop", "rangeBottom", "error",
                "type"}
        fields = [_field_info(base, n) for n in sorted(keep)]
        return {"classComment": "", "fields": fields}
    info = entity(name)
    names = sorted([*info.fields, *info.relations])
    out: dict[str, Any] = {"classComment": "", "fields": [_field_info(info, n) for n in names]}
    if info.unique_key:  # ICAT sends no constraints element for entities without one
        out["constraints"] = [{"fieldNames": list(info.unique_key)}]
    return out


def _field_info(info: EntityInfo, name: str) -> dict[str, Any]:
    rel = info.relations.get(name)
    if rel is not None:
        return {"name": name, "type": rel.target, "relType": "MANY" if rel.many else "ONE",
                "notNullable": rel.not_null}
    f = info.fields[name]
    java = f.enum_class or ("Integer" if (info.name, name) in _JAVA_INTEGER else _JAVA_TYPES[f.type])
    out: dict[str, Any] = {"name": name, "type": java, "relType": "ATTRIBUTE", "notNullable": f.not_null}
    if f.length is not None:
        out["stringLength"] = f.length
    return out


__all__ = [
    "ENTITIES", "ENUMS", "EntityInfo", "FieldInfo", "ICAT_VERSION", "INSTANCE_NAMES", "META_FIELDS",
    "icat_entity_info",
    "PARAMETER_ENTITIES", "RelationInfo", "TABLES", "entity", "from_db_datetime", "metadata",
    "physical_column", "row_to_entity", "to_db_datetime", "value_from_db",
]
