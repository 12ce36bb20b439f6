"""Dumps written for an ICAT schema newer than the embedded one (ICAT 6.2): recognise them, refuse them clearly.

python-icat publishes example dumps of ICAT 4.4, 4.7, 4.10, 5.0, 6.2 and 7.0. Everything up to 6.2 is a subset of
the embedded schema and imports as it is. ICAT 7.0 (``upgrade_*_7_0.sql`` of icat.server) changes the sample
model: a Sample no longer belongs to one Investigation but is linked to any number of them through the new
``InvestigationSample`` entity, Sample is keyed by ``pid`` (NOT NULL), and SampleType loses its facility and is
keyed by a NOT NULL ``pid``. None of that fits the ICAT 6.2 tables (Sample keyed by investigation and name,
SampleType by facility, name and molecular formula), and the Sample model is shared with the MX layer, so such
content is refused with one error that names the object, the ICAT 7.0 construct and the version the dump
declares, instead of the generic "invalid attribute" it would otherwise meet somewhere later in the file.
The readers call :func:`check_object` on every top-level object (and :func:`check_name` where they meet a name
the embedded schema lacks); the import is one transaction, so nothing of the file stays in the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

from mxicat.errors import BadParameterError

from .schema import ENTITIES, ICAT_VERSION

#: ICAT 7.0 names that the embedded schema lacks: (entity, field) -> what it is in ICAT 7.0; entity "" = an
#: entity type (instance name as it appears in dumps)
ICAT7_NAMES: dict[tuple[str, str], str] = {
    ("", "investigationSample"): "the entity InvestigationSample",
    ("SampleType", "pid"): "SampleType.pid (ICAT 7.0 keys SampleType by pid, without facility)",
    ("Sample", "sample"): "Investigation.samples holding InvestigationSample objects",
    ("Sample", "investigationSamples"): "Sample.investigationSamples",
}

#: the same names inside rule texts (``Rule.what``) and public steps
_ICAT7_WORDS = re.compile(r"\b(InvestigationSample|investigationSamples)\b")

_SCHEMA_NOTE = (
    f"the embedded catalogue has the ICAT {ICAT_VERSION.rsplit('.', 1)[0]} schema, where a Sample "
    "belongs to one Investigation and is keyed by (investigation, name), SampleType is keyed by "
    "(facility, name, molecularFormula) and there is no InvestigationSample; ICAT 7.0 sample data "
    "cannot be imported (nothing of this file was imported)"
)


def icat7_error(where: str, what: str, version: str | None) -> BadParameterError:
    """The one error for ICAT 7.0 content: place, construct, declared dump version, why it cannot be held."""
    declared = f"the dump declares ICAT-API {version}" if version else "the dump declares no ICAT version"
    return BadParameterError(f"{where}: {what} belongs to the ICAT 7.0 schema ({declared}); {_SCHEMA_NOTE}")


def check_name(bean: str, name: str, where: str, version: str | None) -> None:
    """Raise :func:`icat7_error` if ``name`` (a field of ``bean``, or an entry when ``bean`` is "") is ICAT 7.0."""
    what = ICAT7_NAMES.get((bean, name))
    if what is not None:
        raise icat7_error(where, what, version)


def check_object(bean: str, data: Mapping[str, Any], where: str, version: str | None, *, top: bool = True) -> None:
    """Refuse a dump object (with its embedded children) that uses ICAT 7.0 schema."""
    info = ENTITIES[bean]
    for name, value in data.items():
        check_name(bean, str(name), where, version)
        rel = info.relations.get(str(name))
        if rel is not None and rel.many and isinstance(value, list):
            for child in value:
                if isinstance(child, Mapping):
                    check_object(rel.target, child, where, version, top=False)
    if bean == "Rule" and isinstance(data.get("what"), str) and (m := _ICAT7_WORDS.search(data["what"])):
        raise icat7_error(where, f"a rule on {m.group(1)}", version)
    if bean == "PublicStep":
        for part in ("origin", "field"):
            if isinstance(data.get(part), str) and (m := _ICAT7_WORDS.fullmatch(data[part])):
                raise icat7_error(where, f"a public step on {m.group(1)}", version)
    if top and bean == "Sample" and "investigation" not in data and _major(version) >= 7:
        raise icat7_error(where, "a Sample without investigation (linked through InvestigationSample)", version)


def _major(version: str | None) -> int:
    m = re.match(r"\s*(\d+)", version or "")
    return int(m.group(1)) if m else 0


class HeadRecorder:
    """A text stream that keeps its first few kB, so the YAML reader can tell the ``# ICAT-API:`` header."""

    def __init__(self, stream: IO[str], keep: int = 4096) -> None:
        self._stream = stream
        self._keep = keep
        self.head = ""

    def read(self, size: int = -1) -> str:
        """Read as the wrapped stream does, remembering the beginning."""
        text = self._stream.read(size)
        if len(self.head) < self._keep and isinstance(text, str):
            self.head += text[: self._keep - len(self.head)]
        return text

    @property
    def version(self) -> str | None:
        """The ICAT version the dump's header comment declares, if any."""
        m = re.search(r"^# ICAT-API:\s*(\S+)", self.head, re.MULTILINE)
        return m.group(1) if m else None
