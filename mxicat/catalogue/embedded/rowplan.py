"""Per-entity row layouts for the embedded store's writes: column order, converters, required and default
positions, meta-field positions and the INSERT statement, computed once per entity.

:class:`~mxicat.catalogue.embedded.writes.Writer` builds every row of a createMany from a copy of
:attr:`RowPlan.blank` with the positions here (its hot loop does no per-field schema lookups); the dump
reader uses the same layouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .schema import ENTITIES, META_FIELDS, PARAMETER_ENTITIES, TABLES, EntityInfo, RelationInfo
from .values import converter


class RowPlan:
    """Per-entity precomputed row layout: column order, converters, required positions."""

    def __init__(self, info: EntityInfo) -> None:
        self.info = info
        self.table = TABLES[info.name]
        self.columns: list[str] = [c.name for c in self.table.columns if c.name in self._icat_columns(info)]
        self.pos = {c: i for i, c in enumerate(self.columns)}
        self.attrs: dict[str, tuple[int, Callable[[Any], Any]]] = {
            f.name: (self.pos[f.column], converter(info, f)) for f in info.fields.values() if f.name not in META_FIELDS
        }
        self.meta: dict[str, tuple[int, Callable[[Any], Any]]] = {
            f.name: (self.pos[f.column], converter(info, f)) for f in info.fields.values() if f.name != "id"
        }
        self.ones: dict[str, tuple[int, RelationInfo]] = {
            r.name: (self.pos[r.column or ""], r) for r in info.one.values()
        }
        self.required: list[tuple[int, str]] = [
            (self.pos[f.column], f.name) for f in info.attributes.values() if f.not_null
        ] + [(self.pos[r.column or ""], r.name) for r in info.one.values() if r.not_null]
        self.defaults: list[tuple[int, Any]] = [
            (self.pos[f.column], f.default) for f in info.attributes.values() if f.default is not None
        ]
        self.blank: list[Any] = [None] * len(self.columns)
        for pos, default in self.defaults:
            self.blank[pos] = default
        self.meta_pos = tuple(self.pos[c] for c in ("CREATE_ID", "CREATE_TIME", "MOD_ID", "MOD_TIME"))
        self.table_name = self.table.name
        self.is_parameter = info.name in PARAMETER_ENTITIES
        self.dataset_pos = self.pos["DATASET_ID"] if info.name == "Datafile" else None
        cols = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self.insert_sql = f'INSERT INTO "{self.table.name}" ({cols}) VALUES ({marks})'

    @staticmethod
    def _icat_columns(info: EntityInfo) -> set[str]:
        cols = {f.column for f in info.fields.values()}
        cols |= {r.column for r in info.one.values() if r.column}
        return cols


_PLANS: dict[str, RowPlan] = {}


def plan(name: str) -> RowPlan:
    """The cached row layout of an entity."""
    p = _PLANS.get(name)
    if p is None:
        p = _PLANS[name] = RowPlan(ENTITIES[name])
    return p
