"""python-icat YAML dump files (icat.md §8.2): reader and writer.

A file is ``%YAML 1.1`` with comment headers, then one YAML document per chunk; a document maps the entity
type in lowerCamelCase to ``{key: object}``; an object maps attributes to values, N:1 relations to keys and
1:N relations to lists of embedded objects. The writer uses PyYAML exactly as python-icat's ``icatdump``
does (``default_flow_style=False, explicit_start=True``, sorted mapping keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import yaml

from mxicat import __version__
from mxicat.errors import BadParameterError

from .dump import ENTITY_ORDER, DumpObject, ExportObject, Ref, bean_of, canonical
from .dumpcompat import HeadRecorder, check_name, check_object
from .schema import ENTITIES, ICAT_VERSION


def _objectify(bean: str, data: Any, where: str) -> dict[str, Any]:
    """Mark N:1 values as :class:`Ref` (recursively through embedded children)."""
    if not isinstance(data, dict):
        raise BadParameterError(f"{where}: object must be a mapping, got {type(data).__name__}")
    info = ENTITIES[bean]
    out: dict[str, Any] = {}
    for raw_name, value in data.items():
        name = canonical(bean, str(raw_name))
        rel = info.relations.get(name)
        if rel is not None and not rel.many and value is not None:
            out[raw_name] = Ref(key=str(value))
        elif rel is not None and rel.many:
            if not isinstance(value, list):
                raise BadParameterError(f"{where}: {bean}.{name} must be a list")
            out[raw_name] = [_objectify(rel.target, child, where) for child in value]
        else:
            out[raw_name] = value
    return out


def read_yaml(stream: IO[str], source: str = "dump") -> Iterator[list[DumpObject]]:
    """Chunks of a YAML dump, objects in python-icat's creation order (type order, then sorted keys)."""
    recorder = HeadRecorder(stream)  # keeps the "# ICAT-API:" header comment for version-aware errors
    try:
        for number, doc in enumerate(yaml.safe_load_all(recorder), start=1):
            if doc is None:
                continue
            where = f"{source}: chunk {number}"
            if not isinstance(doc, dict):
                raise BadParameterError(f"{where}: a chunk must map entity types to objects")
            for name in doc:
                if name not in ENTITY_ORDER:
                    check_name("", str(name), where, recorder.version)
                    raise BadParameterError(f"{where}: unknown entry {name!r}")
            chunk: list[DumpObject] = []
            for name in ENTITY_ORDER:
                objects = doc.get(name)
                if not objects:
                    continue
                bean = bean_of(name, where)
                for key in sorted(objects):
                    obj = _objectify(bean, objects[key], f"{where}, {key}")
                    check_object(bean, obj, f"{where}, {key}", recorder.version)
                    chunk.append(DumpObject(bean, str(key), obj))
            yield chunk
    except yaml.YAMLError as err:
        raise BadParameterError(f"{source}: not a valid YAML dump: {err}") from err


def write_yaml(chunks: Iterable[list[ExportObject]], out: IO[str], *, service: str = "") -> None:
    """Write chunks as python-icat's ``icatdump`` YAML backend does."""
    date = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S %z")
    out.write(
        f"%YAML 1.1\n# Date: {date}\n# Service: {service}\n# ICAT-API: {ICAT_VERSION}\n"
        f"# Generator: mxicat {__version__}\n"
    )
    for chunk in chunks:
        data: dict[str, dict[str, Any]] = {}
        for obj in chunk:
            tag = obj.bean[0].lower() + obj.bean[1:]
            data.setdefault(tag, {})[obj.key] = obj.data
        yaml.dump(data, out, default_flow_style=False, explicit_start=True)
