"""Facility, instrument, investigation and type helpers: find-or-create the static ICAT objects MX needs.

Naming follows what sites use. A beamline is an ICAT ``Instrument`` named in lower case (``id23eh2``,
``i04``) and looked up case-insensitively. A proposal (``mx2532``) is an ``Investigation.name``; sites spell
it ``mx2532``, ``MX2532`` or ``MX-2532``, so lookups try those spellings. A visit is ``Investigation.visitId``;
Diamond-style visit references ``mx2532-1`` are split into proposal ``mx2532`` and visit ``1`` when no
investigation carries the whole string as its name. Everything goes through the Catalogue protocol
(ICAT entities + JPQL), so it works the same on the embedded catalogue and on a real ICAT.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mxicat.catalogue.base import Catalogue
from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    NoSuchObjectFoundError,
    ObjectAlreadyExistsError,
)
from mxicat.mx import jpql

logger = logging.getLogger(__name__)

#: Dataset types the MX layer uses (ICAT DatasetType names)
RAW_TYPE = "raw"
PROCESSED_TYPE = "processed"
#: InvestigationType for investigations the MX layer creates
DEFAULT_INVESTIGATION_TYPE = "experiment"
#: facility created on an empty catalogue
DEFAULT_FACILITY = "mxicat"
#: units of ParameterTypes whose values have no unit (ICAT requires a units string)
NO_UNITS = "N/A"
#: seconds a reference that matched exactly one investigation is remembered
UNIQUE_TTL = 60.0

_PROPOSAL_RE = re.compile(r"^([A-Za-z]+)[-_ ]?(\d+)$")
_VISIT_RE = re.compile(r"^([A-Za-z]+[-_ ]?\d+)-(\d+)$")


def proposal_variants(proposal: str) -> list[str]:
    """Spellings of one proposal as sites write it: ``mx2532``, ``MX2532``, ``MX-2532`` (input first)."""
    text = proposal.strip()
    variants = [text]
    match = _PROPOSAL_RE.match(text)
    if match:
        letters, digits = match.groups()
        for candidate in (
            f"{letters.lower()}{digits}",
            f"{letters.upper()}{digits}",
            f"{letters.upper()}-{digits}",
            f"{letters.lower()}-{digits}",
        ):
            if candidate not in variants:
                variants.append(candidate)
    return variants


def split_visit(reference: str) -> tuple[str, str] | None:
    """``mx2532-1`` → (``mx2532``, ``1``); None when the text is not a Diamond-style visit reference."""
    match = _VISIT_RE.match(reference.strip())
    return (match.group(1), match.group(2)) if match else None


def beamline_name(beamline: str) -> str:
    """Canonical instrument name of a beamline: trimmed, lower case (``ID23EH2`` → ``id23eh2``)."""
    name = beamline.strip().lower()
    if not name:
        raise BadParameterError("beamline name is empty")
    return name


def entity(obj: dict[str, Any]) -> dict[str, Any]:
    """The field dict of one ICAT object in REST shape (``{"Dataset": {...}}`` → ``{...}``)."""
    if len(obj) == 1:
        (value,) = obj.values()
        if isinstance(value, dict):
            return value
    return obj


@dataclass
class Registry:
    """Find-or-create access to a facility's static objects, with an id cache per session.

    Objects that the session cannot create (a real ICAT usually restricts this to managers) raise the
    catalogue's InsufficientPrivilegesError unchanged.
    """

    session: Catalogue
    facility_name: str | None = None
    _facility: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _cache: dict[tuple[str, ...], int] = field(default_factory=dict, init=False, repr=False)
    _unique: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict, init=False, repr=False)
    #: (investigation id, sample name) -> Sample id, filled by registrations
    samples: dict[tuple[int, str], int] = field(default_factory=dict, init=False, repr=False)

    # -- facility ---------------------------------------------------------------------------------
    @property
    def facility(self) -> dict[str, Any]:
        """The facility all MX objects belong to (the named one, the only one, or a new ``mxicat``)."""
        if self._facility is None:
            if self.facility_name:
                rows = self.session.search(
                    f"SELECT f FROM Facility f WHERE f.name = {jpql.string(self.facility_name)}"
                )
                if not rows:
                    fid = self.session.create({"Facility": {"name": self.facility_name}})
                    rows = [{"Facility": {"id": fid, "name": self.facility_name}}]
            else:
                rows = self.session.search("SELECT f FROM Facility f ORDER BY f.id")
                if not rows:
                    try:
                        fid = self.session.create({"Facility": {"name": DEFAULT_FACILITY}})
                    except (ObjectAlreadyExistsError, InsufficientPrivilegesError) as err:
                        raise InsufficientPrivilegesError(
                            f"user {self.session.user_name} sees no Facility and may not create one: "
                            "the catalogue's reference tables are not readable for this user"
                        ) from err
                    rows = [{"Facility": {"id": fid, "name": DEFAULT_FACILITY}}]
                elif len(rows) > 1:
                    names = ", ".join(entity(r)["name"] for r in rows)
                    raise BadParameterError(
                        f"the catalogue holds several facilities ({names}): name one with facility="
                    )
            self._facility = entity(rows[0])
        return self._facility

    @property
    def facility_id(self) -> int:
        return int(self.facility["id"])

    def _find_or_create(self, key: tuple[str, ...], query: str, new: dict[str, Any]) -> int:
        if key in self._cache:
            return self._cache[key]
        rows = self.session.search(query)
        if rows:
            oid = int(entity(rows[0])["id"])
        else:
            oid = self.session.create(new)
            logger.info("created %s %s", next(iter(new)), key[1:])
        self._cache[key] = oid
        return oid

    # -- types ------------------------------------------------------------------------------------
    def dataset_type(self, name: str) -> int:
        """Id of the DatasetType ``name`` of this facility (created when missing)."""
        return self._find_or_create(
            ("DatasetType", name),
            f"SELECT t FROM DatasetType t WHERE t.name = {jpql.string(name)} "
            f"AND t.facility.id = {self.facility_id}",
            {"DatasetType": {"name": name, "facility": {"id": self.facility_id}}},
        )

    def investigation_type(self, name: str = DEFAULT_INVESTIGATION_TYPE) -> int:
        """Id of the InvestigationType ``name`` (created when missing)."""
        return self._find_or_create(
            ("InvestigationType", name),
            f"SELECT t FROM InvestigationType t WHERE t.name = {jpql.string(name)} "
            f"AND t.facility.id = {self.facility_id}",
            {"InvestigationType": {"name": name, "facility": {"id": self.facility_id}}},
        )

    def technique(self, name: str, pid: str | None = None, description: str | None = None) -> int:
        """Id of the (global) Technique ``name`` (created when missing)."""
        new: dict[str, Any] = {"name": name}
        if pid:
            new["pid"] = pid
        if description:
            new["description"] = description
        return self._find_or_create(
            ("Technique", name),
            f"SELECT t FROM Technique t WHERE t.name = {jpql.string(name)}",
            {"Technique": new},
        )

    def application(self, name: str, version: str) -> int:
        """Id of the Application (program, version) of this facility (created when missing)."""
        return self._find_or_create(
            ("Application", name, version),
            f"SELECT a FROM Application a WHERE a.name = {jpql.string(name)} "
            f"AND a.version = {jpql.string(version)} AND a.facility.id = {self.facility_id}",
            {"Application": {"name": name, "version": version, "facility": {"id": self.facility_id}}},
        )

    # -- instruments ------------------------------------------------------------------------------
    def instruments(self) -> list[dict[str, Any]]:
        """All instruments of the facility."""
        rows = self.session.search(
            f"SELECT i FROM Instrument i WHERE i.facility.id = {self.facility_id} ORDER BY i.id"
        )
        return [entity(r) for r in rows]

    def find_instrument(self, beamline: str) -> int | None:
        """Id of the instrument named ``beamline`` (case-insensitive), or None."""
        wanted = beamline_name(beamline)
        key = ("Instrument", wanted)
        if key in self._cache:
            return self._cache[key]
        for inst in self.instruments():
            if str(inst.get("name", "")).lower() == wanted:
                self._cache[key] = int(inst["id"])
                return self._cache[key]
        return None

    def instrument(self, beamline: str, *, full_name: str | None = None) -> int:
        """Id of the instrument for ``beamline`` (lower-case name), created when missing."""
        found = self.find_instrument(beamline)
        if found is not None:
            return found
        name = beamline_name(beamline)
        new: dict[str, Any] = {"name": name, "facility": {"id": self.facility_id}}
        if full_name:
            new["fullName"] = full_name
        oid = self.session.create({"Instrument": new})
        self._cache[("Instrument", name)] = oid
        logger.info("created Instrument %s", name)
        return oid

    # -- investigations ---------------------------------------------------------------------------
    def find_investigations(self, reference: str | int) -> list[dict[str, Any]]:
        """Investigations matching an id, a ``name``, ``name/visitId``, a proposal spelling or a visit."""
        base = "SELECT i FROM Investigation i"
        include = " INCLUDE i.investigationInstruments ii, ii.instrument"
        if isinstance(reference, int) or (isinstance(reference, str) and reference.strip().isdecimal()):
            rows = self.session.search(f"{base} WHERE i.id = {int(reference)}{include}")
            if rows:
                return [entity(r) for r in rows]
        text = str(reference).strip()
        if not text:
            raise BadParameterError("empty investigation reference")
        if "/" in text:
            name, visit = text.split("/", 1)
            rows = self.session.search(
                f"{base} WHERE i.name = {jpql.string(name)} AND i.visitId = {jpql.string(visit)} "
                f"AND i.facility.id = {self.facility_id}{include}"
            )
            return [entity(r) for r in rows]
        rows = self.session.search(
            f"{base} WHERE i.name IN {jpql.strings(proposal_variants(text))} "
            f"AND i.facility.id = {self.facility_id} ORDER BY i.id{include}"
        )
        if not rows and (parts := split_visit(text)):
            proposal, number = parts
            rows = self.session.search(
                f"{base} WHERE i.name IN {jpql.strings(proposal_variants(proposal))} "
                f"AND i.visitId IN {jpql.strings([number, text])} "
                f"AND i.facility.id = {self.facility_id}{include}"
            )
        return [entity(r) for r in rows]

    def investigation(
        self, reference: str | int, *, beamline: str | None = None, when: datetime | None = None
    ) -> dict[str, Any]:
        """The one investigation a reference means (by beamline and date when several visits match).

        Raises:
            NoSuchObjectFoundError: nothing visible matches.
            BadParameterError: several match and beamline/date do not decide.
        """
        key = str(reference).strip()
        remembered = self._unique.get(key)
        if remembered is not None and time.monotonic() - remembered[0] < UNIQUE_TTL:
            return remembered[1]
        found = self.find_investigations(reference)
        if not found:
            raise NoSuchObjectFoundError(f"investigation {reference!r} not found (or not visible)")
        if len(found) == 1:
            # a reference naming exactly one investigation is remembered briefly (a burst of
            # registrations costs one lookup); a new visit of the proposal is seen after UNIQUE_TTL
            self._unique[key] = (time.monotonic(), found[0])
            return found[0]
        candidates = found
        if beamline:
            wanted = beamline_name(beamline)
            on_beamline = [
                inv
                for inv in found
                if any(
                    str(entity(ii.get("instrument", {})).get("name", "")).lower() == wanted
                    for ii in inv.get("investigationInstruments", [])
                )
            ]
            candidates = on_beamline or found
        if len(candidates) > 1 and when is not None:
            candidates = [_closest_visit(candidates, when)]
        if len(candidates) > 1:
            visits = ", ".join(f"{i['name']}/{i['visitId']}" for i in candidates)
            raise BadParameterError(
                f"investigation {reference!r} is ambiguous ({visits}): give name/visitId or an id"
            )
        return candidates[0]

    def create_investigation(
        self,
        name: str,
        *,
        visit_id: str = "1",
        title: str | None = None,
        beamline: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        investigation_type: str = DEFAULT_INVESTIGATION_TYPE,
        user_name: str | None = None,
        role: str = "principal_experimenter",
    ) -> dict[str, Any]:
        """Create an investigation (with its instrument link, and the user as member when known)."""
        new: dict[str, Any] = {
            "name": name,
            "visitId": visit_id,
            "title": title or name,
            "facility": {"id": self.facility_id},
            "type": {"id": self.investigation_type(investigation_type)},
        }
        if start:
            new["startDate"] = start
        if end:
            new["endDate"] = end
        if beamline:
            new["investigationInstruments"] = [{"instrument": {"id": self.instrument(beamline)}}]
        if user_name:
            users = self.session.search(f"SELECT u FROM User u WHERE u.name = {jpql.string(user_name)}")
            if users:
                new["investigationUsers"] = [{"user": {"id": entity(users[0])["id"]}, "role": role}]
        iid = self.session.create({"Investigation": new})
        logger.info("created Investigation %s/%s", name, visit_id)
        return entity(self.session.get("Investigation i INCLUDE i.investigationInstruments", iid))


def _closest_visit(investigations: list[dict[str, Any]], when: datetime) -> dict[str, Any]:
    """The investigation whose [startDate, endDate] contains ``when``, else the nearest one in time."""
    moment = jpql.to_utc_naive(when)

    def distance(inv: dict[str, Any]) -> float:
        start, end = inv.get("startDate"), inv.get("endDate")
        if not isinstance(start, datetime):
            return float("inf")
        s = jpql.to_utc_naive(start)
        e = jpql.to_utc_naive(end) if isinstance(end, datetime) else s
        if s <= moment <= e:
            return 0.0
        return min(abs((moment - s).total_seconds()), abs((moment - e).total_seconds()))

    return min(investigations, key=distance)
