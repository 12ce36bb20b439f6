"""python-icat dump object keys and sort order (icat.md §8.3), computed from the embedded schema.

* :func:`simpleqp_quote` / :func:`simpleqp_unquote` / :func:`parse_attr_val` -- python-icat's
  ``helper`` encoding of key values (bytes outside ``[0-9A-Za-z]`` become ``=XX``).
* :class:`KeyResolver` -- key -> id in the catalogue (python-icat ``searchUniqueKey``: the key is parsed into
  the constraint fields and looked up, recursively for relations), with a cache.
* :class:`KeyMaker` -- (entity, id) -> unique key from the database (python-icat ``getUniqueKey``), with
  numbered keys (``Rule_00000001``) for entities without a uniqueness constraint.
* :func:`sort_key` -- python-icat ``Entity.__sortkey__`` over REST-shaped object dicts in which only the
  loaded (INCLUDEd) relations are present; dump writers order 1:N lists and chunk objects by it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mxicat.errors import BadParameterError, NoSuchObjectFoundError

from .schema import ENTITIES, TABLES, RelationInfo, from_db_datetime, physical_column, to_db_datetime
from .values import DT_BIND, parse_datetime

_ASCII = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = "0123456789ABCDEF"

#: python-icat ``entities._extra_attrs`` SortAttrs (sort order differing from the uniqueness constraint)
SORT_ATTRS: dict[str, tuple[str, ...]] = {
    "DataCollection": ("dataCollectionDatasets", "dataCollectionDatafiles"),
    "DataCollectionDatafile": ("datafile",),
    "DataCollectionDataset": ("dataset",),
    "DataPublicationDate": ("publication", "date", "dateType"),
    "DataPublicationUser": ("publication", "contributorType", "orderKey", "user"),
    "InvestigationType": ("facility", "name"),
    "Job": ("application", "arguments", "inputDataCollection", "outputDataCollection"),
    "Publication": ("investigation", "fullReference"),
    "Rule": ("grouping", "what"),
    "Study": ("name",),
}


def simpleqp_quote(value: Any) -> str:
    """Quote a key value: UTF-8 bytes outside ``[0-9A-Za-z]`` as ``=XX``."""
    out = []
    for byte in str(value).encode("utf-8"):
        ch = chr(byte)
        out.append(ch if ch in _ASCII else f"={_HEX[byte // 16]}{_HEX[byte % 16]}")
    return "".join(out)


def simpleqp_unquote(text: str) -> str:
    """Inverse of :func:`simpleqp_quote`; ``BadParameterError`` for a malformed string."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "=":
            pair = text[i + 1:i + 3]
            if len(pair) != 2 or any(c not in _HEX for c in pair):
                raise BadParameterError(f"invalid quoted string {text!r}")
            out.append(int(pair, 16))
            i += 3
        else:
            out.extend(text[i].encode("utf-8"))
            i += 1
    return out.decode("utf-8")


def parse_attr_val(text: str) -> dict[str, str]:
    """``name-x_facility-(name-y)`` -> ``{"name": "x", "facility": "name-y"}`` (python-icat grammar)."""
    res: dict[str, str] = {}
    rest = text
    while rest:
        hyphen = rest.find("-")
        if hyphen <= 0:
            raise BadParameterError(f"malformed key part {text!r}")
        attr, rest = rest[:hyphen], rest[hyphen + 1:]
        if rest.startswith("("):
            depth, i = 0, 0
            for i, ch in enumerate(rest):  # noqa: B007 - i is the closing position
                depth += (ch == "(") - (ch == ")")
                if depth == 0:
                    break
            if depth:
                raise BadParameterError(f"unbalanced parentheses in key {text!r}")
            value, rest = rest[1:i], rest[i + 1:]
        else:
            m = re.match(r"[0-9A-Za-z=]*", rest)
            value = m.group(0) if m else ""
            rest = rest[len(value):]
        res[attr] = value
        if rest.startswith("_"):
            rest = rest[1:]
        elif rest:
            raise BadParameterError(f"malformed key {text!r} near {rest!r}")
    return res


def attr_value_to_db(entity: str, field: str, raw: str) -> Any:
    """A text value of ``entity.field`` (from a key or an XML attribute) as stored, for comparisons."""
    f = ENTITIES[entity].fields[field]
    if f.type == "datetime":
        return DT_BIND(to_db_datetime(parse_datetime(raw.replace(" ", "T", 1), f"{entity}.{field}")))
    if f.type == "int":
        return int(raw)
    if f.type == "float":
        return float(raw)
    if f.type == "bool":
        return raw.lower() == "true"
    return raw


class KeyResolver:
    """Unique keys (and local keys registered by a dump reader) -> ids, in one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[str, tuple[str, int]] = {}

    def resolve(self, key: str, expected: str | None = None) -> int:
        """Id of the object a key names (``NoSuchObjectFoundError`` when it does not exist)."""
        hit = self.cache.get(key)
        if hit is None:
            hit = self._search(key)
            self.cache[key] = hit
        if expected is not None and hit[0] != expected:
            raise BadParameterError(f"reference {key!r} names a {hit[0]}, expected a {expected}")
        return hit[1]

    def _search(self, key: str) -> tuple[str, int]:
        bean, sep, rest = key.partition("_")
        info = ENTITIES.get(bean)
        if not sep or info is None:
            raise BadParameterError(f"invalid reference {key!r}")
        if not info.unique_key:
            raise NoSuchObjectFoundError(f"reference {key!r} is not defined in this chunk of the file")
        av = parse_attr_val(rest)
        table = TABLES[bean]
        conds = []
        for name in info.unique_key:
            if name not in av:
                raise BadParameterError(f"reference {key!r} lacks {name}")
            rel = info.relations.get(name)
            if isinstance(rel, RelationInfo):
                target = self.resolve(f"{rel.target}_{av[name]}", rel.target)
                conds.append(table.c[rel.column or ""] == target)
            else:
                value = attr_value_to_db(bean, name, simpleqp_unquote(av[name]))
                conds.append(table.c[physical_column(info, name)] == sa.literal(value))
        found = self.conn.execute(sa.select(table.c.ID).where(*conds)).scalars().all()
        if len(found) != 1:
            raise NoSuchObjectFoundError(f"no {bean} matches the reference {key!r}")
        return bean, int(found[0])

    def find_by_attributes(self, bean: str, attrs: Mapping[str, Any]) -> int:
        """Id of the single ``bean`` matching all ``attrs`` (python-icat XML references by attributes).

        Keys are field names, ``rel.id`` (an id), ``rel.ref`` (a key) or paths through N:1 relations
        (``investigation.name``); values are text as in the file, compared after conversion to the stored
        form, always as bound parameters.
        """
        base = TABLES[bean].alias()
        source: Any = base
        joined: dict[tuple[str, ...], tuple[Any, str]] = {(): (base, bean)}
        conds = []
        for key, value in attrs.items():
            *path, last = key.split(".")
            if last == "ref" and path:
                rel = ENTITIES[joined[()][1]].relations.get(path[-1]) if len(path) == 1 else None
                if rel is None or rel.many:
                    raise BadParameterError(f"{bean} has no relation {'.'.join(path)}")
                value, last = self.resolve(str(value), rel.target), "id"
            alias, here = joined[()]
            prefix: tuple[str, ...] = ()
            for rel_name in path:
                prefix += (rel_name,)
                if prefix not in joined:
                    rel = ENTITIES[here].relations.get(rel_name)
                    if rel is None or rel.many:
                        raise BadParameterError(f"{here} has no N:1 relation {rel_name} (in {key!r})")
                    target = TABLES[rel.target].alias()
                    source = source.join(target, target.c.ID == alias.c[rel.column or ""])
                    joined[prefix] = (target, rel.target)
                alias, here = joined[prefix]
            if last == "id":
                conds.append(alias.c.ID == sa.literal(int(value)))
                continue
            f = ENTITIES[here].fields.get(last)
            if f is None:
                raise BadParameterError(f"Field {last} not found in {here} (in {key!r})")
            conds.append(alias.c[f.column] == sa.literal(attr_value_to_db(here, last, str(value))))
        found = self.conn.execute(sa.select(base.c.ID).select_from(source).where(*conds)).scalars().all()
        if len(found) != 1:
            raise NoSuchObjectFoundError(f"{len(found)} {bean} objects match {dict(attrs)}; need exactly one")
        return int(found[0])


def _key_text(value: Any) -> str:
    """python-icat formats key attribute values with ``str()`` of the value it got from ICAT."""
    if isinstance(value, datetime):
        return str(value)
    return str(value)


class KeyMaker:
    """(entity, id) -> python-icat unique key, read from the catalogue (cached)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, int], str] = {}

    def assign(self, bean: str, oid: int, key: str) -> None:
        """Register a numbered key of an entity without uniqueness constraint."""
        self.cache[(bean, oid)] = key

    def key(self, bean: str, oid: int) -> str:
        hit = self.cache.get((bean, oid))
        if hit is not None:
            return hit
        info = ENTITIES[bean]
        if not info.unique_key:
            raise BadParameterError(f"{bean}[id:{oid}] has no unique key and was not written before")
        table = TABLES[bean]
        cols = [table.c[physical_column(info, n)] for n in info.unique_key]
        row = self.conn.execute(sa.select(*cols).where(table.c.ID == oid)).first()
        if row is None:
            raise NoSuchObjectFoundError(f"{bean}[id:{oid}] not found")
        parts = [bean]
        for name, value in zip(info.unique_key, row, strict=True):
            rel = info.relations.get(name)
            if rel is not None:
                sub = self.key(rel.target, int(value))
                parts.append(f"{name}-({re.sub(r'^[A-Za-z]+_', '', sub)})")
            else:
                f = info.fields[name]
                v = from_db_datetime(value) if f.type == "datetime" else value
                parts.append(f"{name}-{simpleqp_quote(_key_text(v))}")
        key = "_".join(parts)
        self.cache[(bean, oid)] = key
        return key


def sort_key(bean: str, obj: Mapping[str, Any] | None) -> list[Any]:
    """python-icat ``Entity.__sortkey__`` of a REST-shaped object (unloaded relations count as empty)."""
    if obj is None:
        return []
    info = ENTITIES[bean]
    out: list[Any] = [bean]
    for attr in SORT_ATTRS.get(bean) or info.unique_key:
        rel = info.relations.get(attr)
        if rel is None:
            v = obj.get(attr)
            out.append("" if v is None else _key_text(v))
        elif rel.many:
            out.append(sorted(sort_key(rel.target, c) for c in obj.get(attr) or []))
        else:
            out.append(sort_key(rel.target, obj.get(attr)))
    return out
