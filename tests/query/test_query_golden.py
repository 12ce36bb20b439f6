"""A small golden set of compiled SQL (the exact text is an implementation detail: results are tested
elsewhere). These pin the shapes that matter for speed and safety: the foreign-key shortcut for
``x.rel.id``, joins instead of sub-selects, bound LIMIT/OFFSET, ESCAPE through SQLite's ``like()``."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import sqlite

from mxicat.catalogue.embedded.sql import compile_query

DS_COLS = ", ".join(f'"DATASET_1"."{c}"' for c in (
    "ID", "CREATE_ID", "CREATE_TIME", "MOD_ID", "MOD_TIME", "COMPLETE", "DESCRIPTION", "DOI", "END_DATE", "FILECOUNT",
    "FILESIZE", "LOCATION", "NAME", "STARTDATE", "INVESTIGATION_ID", "SAMPLE_ID", "TYPE_ID"))

GOLDEN = [
    ("SELECT ds FROM Dataset ds JOIN ds.parameters p WHERE ds.investigation.id = 42 AND p.type.name = 'A' "
     "ORDER BY ds.name LIMIT 0, 50",
     f'SELECT {DS_COLS} \nFROM "DATASET" AS "DATASET_1" JOIN "DATASETPARAMETER" AS "DATASETPARAMETER_1" ON '
     '"DATASETPARAMETER_1"."DATASET_ID" = "DATASET_1"."ID" JOIN "PARAMETERTYPE" AS "PARAMETERTYPE_1" ON '
     '"PARAMETERTYPE_1"."ID" = "DATASETPARAMETER_1"."PARAMETER_TYPE_ID" \nWHERE "DATASET_1"."INVESTIGATION_ID" = ? '
     'AND "PARAMETERTYPE_1"."NAME" = ? ORDER BY "DATASET_1"."NAME" ASC\n LIMIT ? OFFSET ?'),
    ("SELECT COUNT(DISTINCT ds.name) FROM Dataset ds WHERE ds.name LIKE 'a!_%' ESCAPE '!' OR ds.datafiles IS EMPTY",
     'SELECT count(DISTINCT "DATASET_1"."NAME") AS c0 \nFROM "DATASET" AS "DATASET_1" \nWHERE like(?, '
     '"DATASET_1"."NAME", ?) OR NOT (EXISTS (SELECT "DATAFILE_1"."ID" \nFROM "DATAFILE" AS "DATAFILE_1" \nWHERE '
     '"DATAFILE_1"."DATASET_ID" = "DATASET_1"."ID"))'),
    ("Grouping.id <-> UserGroup <-> User [name = :user]",
     'SELECT "GROUPING_1"."ID" AS c0 \nFROM "GROUPING" AS "GROUPING_1" JOIN "USERGROUP" AS "USERGROUP_1" ON '
     '"USERGROUP_1"."GROUP_ID" = "GROUPING_1"."ID" JOIN "USER_" AS "USER__1" ON "USER__1"."ID" = '
     '"USERGROUP_1"."USER_ID" \nWHERE "USER__1"."NAME" = ?'),
]


@pytest.mark.parametrize(("query", "sql"), GOLDEN, ids=["portal", "like-escape-empty", "concise-chain"])
def test_golden_sql(query: str, sql: str) -> None:
    assert str(compile_query(query, params={"user": "db/x"}).select.compile(dialect=sqlite.dialect())) == sql
