"""python-icat XML dump files (icat.md §8.4): reader and writer (standard library ElementTree).

``<icatdata>`` holds an optional ``<head>`` and one ``<data>`` per chunk. An object is an element named by
the entity type in lowerCamelCase with ``id`` = its key; attributes are child elements with text; an N:1
reference is an empty child with ``ref="key"`` or with the referenced object's attributes (``name="raw"``,
``investigation.ref="inv_1"``); 1:N children are child elements named after the relation. ``<fooRef id=...
attr=.../>`` under ``<data>`` defines a local key for an existing object. Objects are created in document order
(as python-icat's XML reader does).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from mxicat import __version__
from mxicat.errors import BadParameterError

from .dump import DumpObject, ExportObject, Ref, bean_of, canonical
from .dumpcompat import check_name, check_object
from .schema import ENTITIES, ICAT_VERSION


def _element_data(bean: str, elem: ET.Element, where: str, version: str | None) -> dict[str, Any]:
    info = ENTITIES[bean]
    out: dict[str, Any] = {}
    for sub in elem:
        name = canonical(bean, sub.tag)
        rel = info.relations.get(name)
        if rel is None:
            if name not in info.fields:
                check_name(bean, name, where, version)
                raise BadParameterError(f"{where}: invalid subelement {sub.tag!r} in {elem.tag!r}")
            out[name] = sub.text
        elif rel.many:
            out.setdefault(name, []).append(_element_data(rel.target, sub, where, version))
        elif sub.get("ref"):
            out[name] = Ref(key=sub.get("ref"))
        else:
            out[name] = Ref(attrs={k: v for k, v in sub.attrib.items() if k != "id"})
    return out


def read_xml(stream: IO[bytes], source: str = "dump") -> Iterator[list[DumpObject]]:
    """Chunks of an XML dump, objects in document order."""
    number = 0
    version: str | None = None  # <head><apiversion>: the ICAT version the dump was written for
    try:
        for _event, data in ET.iterparse(stream, events=("end",)):
            if data.tag == "apiversion" and version is None:
                version = (data.text or "").strip() or None
            if data.tag != "data":
                continue
            number += 1
            where = f"{source}: chunk {number}"
            chunk: list[DumpObject] = []
            for elem in data:
                key = elem.get("id")
                entry = elem.tag[:-3] if elem.tag.endswith("Ref") else elem.tag
                check_name("", entry, f"{where}, {key}", version)
                if elem.tag.endswith("Ref"):
                    bean = bean_of(elem.tag[:-3], where)
                    attrs = {k: v for k, v in elem.attrib.items() if k != "id"}
                    chunk.append(DumpObject(bean, key, attrs, ref_only=True))
                else:
                    bean = bean_of(elem.tag, where)
                    obj = _element_data(bean, elem, f"{where}, {key}", version)
                    check_object(bean, obj, f"{where}, {key}", version)
                    chunk.append(DumpObject(bean, key, obj))
            data.clear()
            yield chunk
    except ET.ParseError as err:
        raise BadParameterError(f"{source}: not a valid XML dump: {err}") from err


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _element(tag: str, bean: str, data: dict[str, Any]) -> ET.Element:
    info = ENTITIES[bean]
    elem = ET.Element(tag)
    for name in sorted(n for n in data if n in info.fields):
        ET.SubElement(elem, name).text = _text(data[name])
    for name in sorted(n for n in data if n in info.relations and not info.relations[n].many):
        ET.SubElement(elem, name, ref=data[name])
    for name in sorted(n for n in data if n in info.relations and info.relations[n].many):
        for child in data[name]:
            elem.append(_element(name, info.relations[name].target, child))
    return elem


def _bytes(elem: ET.Element) -> bytes:
    """ASCII with character references and ``<x/>`` empty tags, as lxml writes them for python-icat."""
    text: bytes = ET.tostring(elem, encoding="us-ascii", xml_declaration=False)
    return text.replace(b" />", b"/>") + b"\n"


def write_xml(chunks: Iterable[list[ExportObject]], out: IO[bytes], *, service: str = "") -> None:
    """Write chunks in python-icat's ``icatdump`` XML layout."""
    out.write(b'<?xml version="1.0" encoding="utf-8"?>\n<icatdata>\n')
    head = ET.Element("head")
    ET.SubElement(head, "date").text = datetime.now(UTC).isoformat()
    ET.SubElement(head, "service").text = service
    ET.SubElement(head, "apiversion").text = ICAT_VERSION
    ET.SubElement(head, "generator").text = f"mxicat {__version__}"
    ET.indent(head)
    out.write(_bytes(head))
    for chunk in chunks:
        data = ET.Element("data")
        for obj in chunk:
            tag = obj.bean[0].lower() + obj.bean[1:]
            elem = _element(tag, obj.bean, obj.data)
            elem.set("id", obj.key)
            data.append(elem)
        ET.indent(data)
        out.write(_bytes(data))
    out.write(b"</icatdata>\n")
