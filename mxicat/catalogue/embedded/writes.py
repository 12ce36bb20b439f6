"""ICAT write semantics on the embedded store: create (nested trees), createMany, update, delete.

One :class:`Writer` lives for one write transaction (``BEGIN IMMEDIATE`` on one connection, see
:mod:`mxicat.catalogue.embedded.store`). It turns ICAT REST JSON objects into rows and applies ICAT's rules:

* create: nested 1:N children are created with their parent (cascade), N:1 references are ``{"id": n}``;
  the parent link of an embedded child is implied. Rows of a whole batch are grouped by table and tree level
  and inserted with one SQLAlchemy Core ``executemany`` per (level, table) -- this is what makes createMany
  fast; ids are allocated by the writer (``SEQUENCE`` table + ``MAX(ID)``), never reused.
* errors: unknown entity/field, bad value or date -> ``BAD_PARAMETER``; missing NOT NULL field, enforced
  ParameterType violation, over-long string -> ``VALIDATION``; unique clash -> ``OBJECT_ALREADY_EXISTS``;
  reference to a missing object -> ``NO_SUCH_OBJECT_FOUND``. Errors from a batch carry the index of the
  failing top-level object as ``offset``.
* meta fields: ``createId/modId`` = session user, times = now; supplied meta values are kept only when the
  writer is told to (dump import by root, ICAT ``attributes=ALL``).
* Dataset/Investigation ``fileSize``/``fileCount``: recomputed at the end of the transaction for every
  Dataset whose Datafiles changed and every Investigation whose Datasets changed or were deleted -- the
  effect of ICAT 5's optional triggers, computed as sums so a dump that carries the sums stays consistent.
* authorization: after the inserts, ``authorizer.check(conn, user, "C", bean, ids)`` for every created
  object (REST write semantics); updates and deletes call ``before_update``/``after_update`` and
  ``check_delete`` with the full cascade (see :mod:`mxicat.catalogue.embedded.authz`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mxicat.errors import (
    BadParameterError,
    MxicatError,
    NoSuchObjectFoundError,
    ObjectAlreadyExistsError,
    ValidationError,
)

from .ptypecache import PTYPE_TABLES, ParameterTypeCache, PTypeFacts
from .rowplan import RowPlan, plan
from .schema import ENTITIES, META_FIELDS, PARAMETER_ENTITIES, TABLES, EntityInfo, RelationInfo, to_db_datetime
from .values import DT_BIND, unwrap

#: ParameterTypeCache is imported from here by the store
__all__ = ["SEQUENCE", "ParameterTypeCache", "Writer", "classify_integrity_error"]

SEQUENCE = sa.Table(
    "SEQUENCE",  # EclipseLink's TableGenerator table name; one row per entity table
    sa.MetaData(),
    sa.Column("SEQ_NAME", sa.String(50), primary_key=True),
    sa.Column("SEQ_COUNT", sa.Integer, nullable=False),
)


_UNIQUE_RE = re.compile(r"UNIQUE constraint failed: (\w+)\.")
_NOTNULL_RE = re.compile(r"NOT NULL constraint failed: (\w+)\.(\w+)")
_TABLE_TO_ENTITY = {t.name: n for n, t in TABLES.items()}


def classify_integrity_error(err: sa.exc.IntegrityError) -> MxicatError:
    """An SQLite integrity error as the ICAT error it means."""
    text = str(err.orig)
    m = _UNIQUE_RE.search(text)
    if m:
        name = _TABLE_TO_ENTITY.get(m.group(1), m.group(1))
        key = ", ".join(ENTITIES[name].unique_key) if name in ENTITIES else "its key"
        return ObjectAlreadyExistsError(f"{name} exists with the same {key}")
    m = _NOTNULL_RE.search(text)
    if m:
        return ValidationError(f"{_TABLE_TO_ENTITY.get(m.group(1), m.group(1))}: {m.group(2)} cannot be null")
    if "FOREIGN KEY" in text:
        return NoSuchObjectFoundError("a referenced object does not exist")
    return ValidationError(f"constraint violated: {text}")



class Writer:
    """All writes of one transaction on ``conn`` by ``user``."""

    def __init__(
        self,
        conn: Connection,
        user: str,
        *,
        keep_meta: bool = False,
        now: datetime | None = None,
        ptype_cache: ParameterTypeCache | None = None,
    ) -> None:
        self.conn = conn
        self._shared_ptypes = ptype_cache
        self._shared_checked = False
        self.touched: set[str] = set()
        self.user = user
        self.keep_meta = keep_meta
        self.now_db = DT_BIND(to_db_datetime(now or datetime.now(UTC)))
        self._next_id: dict[str, int] = {}
        self._ptypes: dict[int, tuple[bool, str, float | None, float | None, frozenset[str]] | None] = {}
        self.dirty_datasets: set[int] = set()
        self.dirty_investigations: set[int] = set()
        self.created: dict[str, list[int]] = {}

    # ------------------------------------------------------------------------------ id allocation
    def allocate(self, table: str, n: int) -> int:
        """First of ``n`` fresh ids for ``table`` (ids are never reused, as ICAT's sequences)."""
        nxt = self._next_id.get(table)
        if nxt is None:
            seq, top = self.conn.exec_driver_sql(
                f'SELECT (SELECT "SEQ_COUNT" FROM "{SEQUENCE.name}" WHERE "SEQ_NAME" = ?), '
                f'(SELECT MAX("ID") FROM "{table}")',
                (table,),
            ).one()
            nxt = max(seq or 0, top or 0) + 1
        self._next_id[table] = nxt + n
        return nxt

    def _save_sequences(self) -> None:
        for table, nxt in self._next_id.items():
            self.conn.execute(
                sa.text(
                    'INSERT INTO "SEQUENCE" ("SEQ_NAME", "SEQ_COUNT") VALUES (:n, :c) '
                    'ON CONFLICT ("SEQ_NAME") DO UPDATE SET "SEQ_COUNT" = MAX("SEQ_COUNT", excluded."SEQ_COUNT")'
                ),
                {"n": table, "c": nxt - 1},
            )

    # ------------------------------------------------------------------------------ parameter types
    def _ptype(self, type_id: int) -> PTypeFacts | None:
        shared = self._shared_ptypes
        if shared is not None and PTYPE_TABLES & (self.touched | set(self.created)):
            shared = None  # this transaction changes types: read them as it sees them
        if type_id not in self._ptypes and shared is not None:
            if not self._shared_checked:
                shared.validate(self.conn)
                self._shared_checked = True
            known = shared.get(type_id)
            if known is not False:
                self._ptypes[type_id] = known  # type: ignore[assignment]
        if type_id not in self._ptypes:
            pt, psv = TABLES["ParameterType"], TABLES["PermissibleStringValue"]
            row = self.conn.execute(
                sa.select(pt.c.ENFORCED, pt.c.NAME, pt.c.MINIMUMNUMERICVALUE, pt.c.MAXIMUMNUMERICVALUE).where(
                    pt.c.ID == type_id
                )
            ).first()
            if row is None:
                self._ptypes[type_id] = None
            else:
                values = frozenset(
                    self.conn.execute(sa.select(psv.c.VALUE).where(psv.c.PARAMETERTYPE_ID == type_id)).scalars()
                )
                self._ptypes[type_id] = (bool(row[0]), row[1], row[2], row[3], values)
            if shared is not None:
                shared.put(type_id, self._ptypes[type_id])
        return self._ptypes[type_id]

    def check_parameter(self, name: str, row: Sequence[Any], p: RowPlan) -> None:
        """ICAT ``Parameter.check()``: enforced types -- numeric range, permissible string values."""
        type_id = row[p.pos["PARAMETER_TYPE_ID"]]
        if type_id is None:
            raise ValidationError("Type of parameter is not set")
        info = self._ptype(type_id)
        if info is None:
            raise NoSuchObjectFoundError(f"ParameterType[id:{type_id}] not found")
        enforced, ptname, lo, hi, values = info
        if not enforced:
            return
        num = row[p.pos["NUMERIC_VALUE"]]
        if num is not None:
            if (lo is not None and num < lo) or (hi is not None and num > hi):
                raise ValidationError(f"{name}: value {num} of {ptname} is outside the range [{lo}, {hi}]")
        text = row[p.pos["STRING_VALUE"]]
        if text is not None and values and text not in values:
            raise ValidationError(
                f"{name}: value {text!r} of {ptname} is not one of the permissible values {sorted(values)}"
            )

    # ------------------------------------------------------------------------------ create
    def _build(
        self,
        info: EntityInfo,
        content: Mapping[str, Any],
        index: int,
        level: int,
        levels: list[dict[str, list[list[Any]]]],
        parent: tuple[RelationInfo, int] | None,
        top_ids: list[int] | None,
    ) -> int:
        """Rows for one object (and its embedded children) appended to ``levels``; returns its id.

        This is the hot loop of createMany: plain dict/type checks, positions precomputed in :class:`RowPlan`.
        """
        p = plan(info.name)
        row: list[Any] = p.blank.copy()
        attrs, ones = p.attrs, p.ones
        children: list[tuple[RelationInfo, list[Any]]] = []
        for key, value in content.items():
            a = attrs.get(key)
            if a is not None:
                row[a[0]] = None if value is None else a[1](value)
                continue
            o = ones.get(key)
            if o is not None:
                if value is None:
                    continue
                ref = value.get("id") if isinstance(value, dict | Mapping) else None
                if type(ref) is not int:
                    raise BadParameterError(f'{info.name}.{key} must be a reference {{"id": n}}, got {value!r:.80}')
                row[o[0]] = ref
                continue
            rel = info.relations.get(key)
            if rel is not None:  # 1:N collection: embedded children
                if value is None:
                    continue
                if not isinstance(value, list):
                    raise BadParameterError(f"{info.name}.{key} must be a list of objects")
                children.append((rel, value))
                continue
            if key in META_FIELDS:
                if key == "id" and value is not None:
                    raise BadParameterError(f"a new {info.name} must not carry an id ({value})")
                if self.keep_meta and key != "id" and value is not None:
                    m = p.meta[key]
                    row[m[0]] = m[1](value)
                continue
            raise BadParameterError(f"Field {key} not found in {info.name}")
        if parent is not None:
            row[ones[parent[0].mapped_by or ""][0]] = parent[1]
        for pos, fname in p.required:
            if row[pos] is None:
                raise ValidationError(f"{info.name}: {fname} cannot be null")
        if p.is_parameter:
            self.check_parameter(info.name, row, p)
        ci, cti, mi, mti = p.meta_pos
        if row[ci] is None:
            row[ci] = self.user
        if row[cti] is None:
            row[cti] = self.now_db
        if row[mi] is None:
            row[mi] = self.user
        if row[mti] is None:
            row[mti] = self.now_db
        new_id = self.allocate(p.table_name, 1)
        row[0] = new_id
        if top_ids is not None:
            top_ids.append(new_id)
        while len(levels) <= level:
            levels.append({})
        bucket = levels[level].get(info.name)
        if bucket is None:
            bucket = levels[level][info.name] = []
        bucket.append(row)
        if p.dataset_pos is not None:
            self.dirty_datasets.add(row[p.dataset_pos])
        for rel, items in children:
            self._build_children(info, rel, items, index, level + 1, levels, new_id)
        return new_id

    def _build_children(
        self,
        info: EntityInfo,
        rel: RelationInfo,
        items: list[Any],
        index: int,
        level: int,
        levels: list[dict[str, list[list[Any]]]],
        parent_id: int,
    ) -> None:
        """Rows of the embedded children ``items`` of ``info.rel``: what :meth:`_build` does for each, with
        the per-relation lookups made once (a dataset's parameters are most rows of a createMany). A child
        with anything but plain fields and references (nested children, meta fields, errors) goes through
        :meth:`_build` itself."""
        target = ENTITIES[rel.target]
        p = plan(target.name)
        attrs, ones, blank, required = p.attrs, p.ones, p.blank, p.required
        parent_pos = ones[rel.mapped_by or ""][0]
        ci, cti, mi, mti = p.meta_pos
        user, now, table, next_ids = self.user, self.now_db, p.table_name, self._next_id
        link = (rel, parent_id)
        while len(levels) <= level:
            levels.append({})
        for item in items:
            if not isinstance(item, dict | Mapping):
                raise BadParameterError(f"{info.name}.{rel.name} items must be mappings")
            if item.get("id") is not None:
                raise BadParameterError(f"a nested {target.name} in {info.name}.{rel.name} must not carry an id")
            row = blank.copy()
            for key, value in item.items():
                a = attrs.get(key)
                if a is not None:
                    row[a[0]] = None if value is None else a[1](value)
                    continue
                o = ones.get(key)
                if o is None or type(value) is not dict or type(value.get("id")) is not int:
                    break
                row[o[0]] = value["id"]
            else:
                row[parent_pos] = parent_id
                for pos, fname in required:
                    if row[pos] is None:
                        raise ValidationError(f"{target.name}: {fname} cannot be null")
                if p.is_parameter:
                    self.check_parameter(target.name, row, p)
                if row[ci] is None:
                    row[ci] = user
                if row[cti] is None:
                    row[cti] = now
                if row[mi] is None:
                    row[mi] = user
                if row[mti] is None:
                    row[mti] = now
                new_id = next_ids.get(table)
                if new_id is None:
                    new_id = self.allocate(table, 1)
                else:
                    next_ids[table] = new_id + 1
                row[0] = new_id
                bucket = levels[level].get(target.name)
                if bucket is None:
                    bucket = levels[level][target.name] = []
                bucket.append(row)
                if p.dataset_pos is not None:
                    self.dirty_datasets.add(row[p.dataset_pos])
                continue
            self._build(target, item, index, level, levels, link, None)

    def create_many(self, objs: Sequence[Any]) -> list[int]:
        """Insert all objects (with nested children); errors carry the failing top-level ``offset``.

        The caller owns the transaction; on an integrity error from a bulk insert the caller re-runs the
        batch with :meth:`locate_failure` in a fresh transaction to find the offset.
        """
        levels: list[dict[str, list[list[Any]]]] = []
        ids: list[int] = []
        for index, obj in enumerate(objs):
            try:
                info, content = unwrap(obj, where=f"object {index}")
                self._build(info, content, index, 0, levels, None, ids)
            except MxicatError as err:
                err.offset = index
                raise
        self._insert_levels(levels)
        return ids

    def _insert_levels(self, levels: list[dict[str, list[list[Any]]]]) -> None:
        for level in levels:
            for name, rows in level.items():
                self.conn.exec_driver_sql(plan(name).insert_sql, [tuple(r) for r in rows])
                self.created.setdefault(name, []).extend(r[0] for r in rows)

    def locate_failure(self, objs: Sequence[Any]) -> MxicatError:
        """Insert objects one by one (caller rolls back) and return the first error with its offset."""
        for index, obj in enumerate(objs):
            try:
                info, content = unwrap(obj, where=f"object {index}")
                self._check_references(info, content)
                levels: list[dict[str, list[list[Any]]]] = []
                self._build(info, content, index, 0, levels, None, None)
                self._insert_levels(levels)
            except sa.exc.IntegrityError as err:
                found = classify_integrity_error(err)
                found.offset = index
                return found
            except MxicatError as err:
                err.offset = index
                return err
        return ValidationError("constraint violated")

    def _check_references(self, info: EntityInfo, content: Mapping[str, Any]) -> None:
        """NO_SUCH_OBJECT_FOUND naming the first N:1 reference (also in nested children) that is missing."""
        for key, value in content.items():
            rel = info.relations.get(key)
            if rel is None or value is None:
                continue
            if rel.many and isinstance(value, list):
                for item in value:
                    if isinstance(item, Mapping):
                        self._check_references(ENTITIES[rel.target], item)
            elif not rel.many and isinstance(value, Mapping) and isinstance(value.get("id"), int):
                t = TABLES[rel.target]
                if self.conn.execute(sa.select(t.c.ID).where(t.c.ID == value["id"])).first() is None:
                    raise NoSuchObjectFoundError(f"{rel.target}[id:{value['id']}] not found")

    # ------------------------------------------------------------------------------ update
    def _ref(self, info: EntityInfo, key: str, value: Any) -> int:
        ref = value.get("id") if isinstance(value, Mapping) else None
        if isinstance(ref, bool) or not isinstance(ref, int):
            raise BadParameterError(f'{info.name}.{key} must be a reference {{"id": n}}, got {value!r:.80}')
        return ref

    def update(self, obj: Any, *, authorizer: Any = None) -> int:
        """REST-write update: given fields only (explicit None clears); nested 1:N without id are created."""
        info, content = unwrap(obj)
        oid = content.get("id")
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise BadParameterError(f"an update of {info.name} needs its integer id")
        p = plan(info.name)
        name = p.table.name
        current = self.conn.exec_driver_sql(f'SELECT * FROM "{name}" WHERE "ID" = ?', (oid,)).first()
        if current is None:
            raise NoSuchObjectFoundError(f"{info.name}[id:{oid}] not found")
        old = dict(current._mapping)
        changes: dict[str, Any] = {}
        changed: list[str] = []
        children: list[tuple[RelationInfo, list[Any]]] = []
        for key, value in content.items():
            if key in META_FIELDS:
                continue
            if key in p.attrs:
                column = info.fields[key].column
                new = None if value is None else p.attrs[key][1](value)
            elif key in p.ones:
                column = p.ones[key][1].column or ""
                new = None if value is None else self._ref(info, key, value)
            elif key in info.relations:
                if value:
                    if not isinstance(value, list):
                        raise BadParameterError(f"{info.name}.{key} must be a list of objects")
                    children.append((info.relations[key], value))
                continue
            else:
                raise BadParameterError(f"Field {key} not found in {info.name}")
            if old[column] != new:
                changes[column] = new
                changed.append(key)
        row = {**old, **changes}
        for pos, fname in p.required:
            if row[p.columns[pos]] is None:
                raise ValidationError(f"{info.name}: {fname} cannot be null")
        if info.name in PARAMETER_ENTITIES and changes:
            self.check_parameter(info.name, [row[c] for c in p.columns], p)
        if authorizer is not None and changed:
            authorizer.before_update(self.conn, self.user, info.name, oid, changed)
        if changes:
            self.touched.add(info.name)
            changes["MOD_ID"] = self.user
            changes["MOD_TIME"] = self.now_db
            self.conn.exec_driver_sql(
                f'UPDATE "{name}" SET ' + ", ".join(f'"{c}" = ?' for c in changes) + ' WHERE "ID" = ?',
                (*changes.values(), oid),
            )
        if info.name == "Datafile" and {"fileSize", "dataset"} & set(changed):
            self.dirty_datasets.update(x for x in (old["DATASET_ID"], row["DATASET_ID"]) if x)
        if info.name == "Dataset" and {"fileSize", "fileCount", "investigation"} & set(changed):
            self.dirty_investigations.update(x for x in (old["INVESTIGATION_ID"], row["INVESTIGATION_ID"]) if x)
        if authorizer is not None and changed:
            authorizer.after_update(self.conn, self.user, info.name, oid, changed)
        for rel, items in children:
            for item in items:
                if not isinstance(item, Mapping) or item.get("id") is not None:
                    raise BadParameterError(f"a nested {rel.target} in {info.name}.{rel.name} must not carry an id")
                self.create_many([{rel.target: {**item, rel.mapped_by or "": {"id": oid}}}])
        return oid

    # ------------------------------------------------------------------------------ delete
    def delete(self, bean: str, ids: Sequence[int], cascade: Mapping[str, set[int]]) -> None:
        """Delete ``ids`` of ``bean``; SQLite's ON DELETE CASCADE removes the 1:N closure ``cascade``."""
        gone_files = cascade.get("Datafile", set())
        gone_sets = cascade.get("Dataset", set())
        if gone_files:
            df = TABLES["Datafile"]
            for chunk in _chunks(gone_files):
                self.dirty_datasets.update(
                    self.conn.execute(sa.select(df.c.DATASET_ID).where(df.c.ID.in_(chunk)).distinct()).scalars()
                )
        if gone_sets:
            ds = TABLES["Dataset"]
            for chunk in _chunks(gone_sets):
                self.dirty_investigations.update(
                    self.conn.execute(sa.select(ds.c.INVESTIGATION_ID).where(ds.c.ID.in_(chunk)).distinct()).scalars()
                )
        self.dirty_datasets -= gone_sets
        self.dirty_investigations -= cascade.get("Investigation", set())
        self.touched.add(bean)
        self.touched.update(name for name, gone in cascade.items() if gone)
        table = TABLES[bean]
        for chunk in _chunks(ids):
            self.conn.execute(sa.delete(table).where(table.c.ID.in_(chunk)))

    # ------------------------------------------------------------------------------ finish
    def finish(self) -> None:
        """Recompute fileSize/fileCount of touched Datasets and Investigations; persist id sequences."""
        ds, df, inv = TABLES["Dataset"], TABLES["Datafile"], TABLES["Investigation"]
        if self.dirty_datasets:
            for chunk in _chunks(self.dirty_datasets):
                self.conn.execute(
                    sa.update(ds)
                    .where(ds.c.ID.in_(chunk))
                    .values(
                        FILESIZE=sa.select(sa.func.coalesce(sa.func.sum(df.c.FILESIZE), 0))
                        .where(df.c.DATASET_ID == ds.c.ID)
                        .scalar_subquery(),
                        FILECOUNT=sa.select(sa.func.count(df.c.ID)).where(df.c.DATASET_ID == ds.c.ID).scalar_subquery(),
                    )
                )
                self.dirty_investigations.update(
                    self.conn.execute(sa.select(ds.c.INVESTIGATION_ID).where(ds.c.ID.in_(chunk)).distinct()).scalars()
                )
        if self.dirty_investigations:
            for chunk in _chunks(self.dirty_investigations):
                self.conn.execute(
                    sa.update(inv)
                    .where(inv.c.ID.in_(chunk))
                    .values(
                        FILESIZE=sa.select(sa.func.coalesce(sa.func.sum(ds.c.FILESIZE), 0))
                        .where(ds.c.INVESTIGATION_ID == inv.c.ID)
                        .scalar_subquery(),
                        FILECOUNT=sa.select(sa.func.coalesce(sa.func.sum(ds.c.FILECOUNT), 0))
                        .where(ds.c.INVESTIGATION_ID == inv.c.ID)
                        .scalar_subquery(),
                    )
                )
        self.dirty_datasets.clear()
        self.dirty_investigations.clear()
        self._save_sequences()


def _chunks(ids: Any, size: int = 500) -> list[list[int]]:
    seq = list(ids)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
