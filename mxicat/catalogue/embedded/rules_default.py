"""The MX default authorization policy, expressed as plain ICAT Rules, Groupings and PublicSteps.

The same data is installed by ``mxicat init`` into an embedded catalogue and exported by ``mxicat rules
export`` for a real ICAT (:func:`policy_entities`: REST JSON; :func:`policy_dump_yaml`: python-icat dump).
Nothing here is mxicat-specific: every rule is ICAT JPQL that icat.server's ``RuleWhat`` accepts, so a
real ICAT loaded with the export gives the same answers. The policy in prose is in ``docs/authorisation.md``.

Who may do what (``:user`` is the session user name):

* **investigation members** -- users listed in ``InvestigationUser`` of an investigation, and members of a
  Grouping linked to it by ``InvestigationGroup`` (roles ``owner``, ``writer``, ``reader``, or any other role)
  -- read the investigation and everything in it; InvestigationUsers and owner/writer groupings also create,
  update and delete samples, datasets, datafiles and their parameters while the dataset is not ``complete``;
* **instrument scientists** (``InstrumentScientist``) read every investigation on their instruments;
* **beamline groups**: :func:`beamline_group_rules` grants a Grouping read of all sessions (investigations)
  of one beamline (Instrument), present and future;
* **ingest** (beamline control / pipeline accounts): create, read, update samples, datasets, datafiles,
  their parameters, instrument/technique links, data collections, jobs and applications; read
  investigations (investigations themselves come from the proposal system, i.e. the ``useroffice`` grouping);
* **useroffice**: creates investigations, their membership and the users and groupings behind them;
* **everyone logged in**: reads reference tables (Facility, Instrument, types, ParameterType, Technique, ...)
  and released raw data (investigation ``releaseDate`` passed, dataset type ``raw``);
* data collections (groups), their parameters and the jobs that produced an investigation's datasets are
  read by its members (links only to the member's own datasets); besides, data collections, jobs and
  related datafiles are private to their creator (``createId = :user``), and the ingest grouping has CRU.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

INGEST = "ingest"
USEROFFICE = "useroffice"

#: everyone authenticated may read these (unrestricted, grouping null: ICAT "public tables")
PUBLIC_TABLES: tuple[str, ...] = (
    "Application",
    "DataPublicationType",
    "DatafileFormat",
    "DatasetType",
    "Facility",
    "FacilityCycle",
    "Instrument",
    "InvestigationType",
    "ParameterType",
    "PermissibleStringValue",
    "SampleType",
    "Technique",
    "User",
)

#: (origin, field): following these relations from a readable object is always allowed
PUBLIC_STEPS: tuple[tuple[str, str], ...] = (
    ("DataCollection", "dataCollectionDatafiles"),
    ("DataCollection", "dataCollectionDatasets"),
    ("DataCollection", "dataCollectionInvestigations"),
    ("DataCollection", "parameters"),
    ("Datafile", "dataset"),
    ("Datafile", "parameters"),
    ("Dataset", "datafiles"),
    ("Dataset", "datasetInstruments"),
    ("Dataset", "datasetTechniques"),
    ("Dataset", "investigation"),
    ("Dataset", "parameters"),
    ("Dataset", "sample"),
    ("Grouping", "userGroups"),
    ("Instrument", "instrumentScientists"),
    ("Investigation", "investigationGroups"),
    ("Investigation", "investigationInstruments"),
    ("Investigation", "investigationUsers"),
    ("Investigation", "keywords"),
    ("Investigation", "parameters"),
    ("Investigation", "publications"),
    ("Investigation", "samples"),
    ("Investigation", "shifts"),
    ("InvestigationGroup", "grouping"),
    ("Job", "inputDataCollection"),
    ("Job", "outputDataCollection"),
    ("Sample", "parameters"),
)


@dataclass(frozen=True)
class RuleSpec:
    """One ICAT Rule: flags, ``what`` text, grouping name (None = every authenticated user)."""

    crud_flags: str
    what: str
    grouping: str | None = None

    def as_icat(self) -> dict[str, object]:
        """REST JSON shape without the grouping reference (resolved by the installer)."""
        return {"crudFlags": self.crud_flags, "what": self.what}


# Paths from an entity (alias ``o``) to its Investigation (alias ``i``) and to its Dataset (for `complete`).
# Value: (JOIN text, investigation alias, dataset alias or None).
_INVESTIGATION_PATHS: dict[str, tuple[str, str, str | None]] = {
    "Investigation": ("", "o", None),
    "InvestigationParameter": ("JOIN o.investigation AS i", "i", None),
    "InvestigationInstrument": ("JOIN o.investigation AS i", "i", None),
    "InvestigationUser": ("JOIN o.investigation AS i", "i", None),
    "Keyword": ("JOIN o.investigation AS i", "i", None),
    "Shift": ("JOIN o.investigation AS i", "i", None),
    "Publication": ("JOIN o.investigation AS i", "i", None),
    "Sample": ("JOIN o.investigation AS i", "i", None),
    "SampleParameter": ("JOIN o.sample AS s JOIN s.investigation AS i", "i", None),
    "Dataset": ("JOIN o.investigation AS i", "i", "o"),
    "DatasetParameter": ("JOIN o.dataset AS ds JOIN ds.investigation AS i", "i", "ds"),
    "DatasetInstrument": ("JOIN o.dataset AS ds JOIN ds.investigation AS i", "i", "ds"),
    "DatasetTechnique": ("JOIN o.dataset AS ds JOIN ds.investigation AS i", "i", "ds"),
    "Datafile": ("JOIN o.dataset AS ds JOIN ds.investigation AS i", "i", "ds"),
    "DatafileParameter": (
        "JOIN o.datafile AS df JOIN df.dataset AS ds JOIN ds.investigation AS i",
        "i",
        "ds",
    ),
    # groups and provenance: a member sees the groups holding a dataset of theirs, the links to their own
    # datasets (not to other investigations' members of the group), and the jobs that produced their data
    "DataCollection": (
        "JOIN o.dataCollectionDatasets AS dcd JOIN dcd.dataset AS ds JOIN ds.investigation AS i", "i", None),
    "DataCollectionDataset": ("JOIN o.dataset AS ds JOIN ds.investigation AS i", "i", None),
    "DataCollectionInvestigation": ("JOIN o.investigation AS i", "i", None),
    "DataCollectionParameter": (
        "JOIN o.dataCollection AS dc JOIN dc.dataCollectionDatasets AS dcd JOIN dcd.dataset AS ds "
        "JOIN ds.investigation AS i", "i", None),
    "Job": (
        "JOIN o.outputDataCollection AS dc JOIN dc.dataCollectionDatasets AS dcd JOIN dcd.dataset AS ds "
        "JOIN ds.investigation AS i", "i", None),
}

#: what investigation members may write (while the dataset, where there is one, is not complete)
MEMBER_WRITABLE: tuple[str, ...] = (
    "Sample",
    "SampleParameter",
    "Dataset",
    "DatasetParameter",
    "DatasetInstrument",
    "DatasetTechnique",
    "Datafile",
    "DatafileParameter",
)

#: released (embargo over) raw data: readable by everyone logged in
RELEASED_READABLE: tuple[str, ...] = (
    "Investigation",
    "InvestigationParameter",
    "InvestigationInstrument",
    "Keyword",
    "Sample",
    "SampleParameter",
    "Dataset",
    "DatasetParameter",
    "DatasetInstrument",
    "DatasetTechnique",
    "Datafile",
    "DatafileParameter",
)

INGEST_CRU: tuple[str, ...] = (
    "Sample",
    "SampleParameter",
    "Dataset",
    "DatasetParameter",
    "DatasetInstrument",
    "DatasetTechnique",
    "Datafile",
    "DatafileParameter",
    "DataCollection",
    "DataCollectionDataset",
    "DataCollectionDatafile",
    "DataCollectionInvestigation",
    "DataCollectionParameter",
    "Job",
    "Application",
    "RelatedDatafile",
    "SampleType",
    "DatafileFormat",
)
INGEST_R: tuple[str, ...] = ("Investigation", "InvestigationInstrument", "InvestigationUser", "Shift")

USEROFFICE_CRUD: tuple[str, ...] = (
    "Investigation",
    "InvestigationUser",
    "InvestigationGroup",
    "InvestigationInstrument",
    "InvestigationParameter",
    "InvestigationFacilityCycle",
    "Keyword",
    "Shift",
    "Publication",
    "User",
    "Grouping",
    "UserGroup",
    "InstrumentScientist",
    "FacilityCycle",
    "Study",
    "StudyInvestigation",
)

#: private to their creator (as python-icat's example set) -- DataCollection and friends, Job, RelatedDatafile
CREATOR_OWNED: dict[str, str] = {
    "DataCollection": "",
    "DataCollectionDatafile": "JOIN o.dataCollection AS dc ",
    "DataCollectionDataset": "JOIN o.dataCollection AS dc ",
    "DataCollectionInvestigation": "JOIN o.dataCollection AS dc ",
    "DataCollectionParameter": "JOIN o.dataCollection AS dc ",
    "Job": "",
    "RelatedDatafile": "",
}


def _member_what(entity: str, via: str, *, write: bool) -> str:
    """JPQL for 'o belongs to an investigation the user is a member of' (``via``: how)."""
    joins, inv, ds = _INVESTIGATION_PATHS[entity]
    if via == "user":
        member = f"JOIN {inv}.investigationUsers AS iu JOIN iu.user AS u"
        cond = ["u.name = :user"]
    elif via == "grouping":
        member = (
            f"JOIN {inv}.investigationGroups AS ig JOIN ig.grouping AS g "
            "JOIN g.userGroups AS ug JOIN ug.user AS u"
        )
        cond = ["u.name = :user"]
        if write:
            cond.append("ig.role IN ('owner', 'writer')")
    elif via == "scientist":
        member = (
            f"JOIN {inv}.investigationInstruments AS ii JOIN ii.instrument AS ins "
            "JOIN ins.instrumentScientists AS isc JOIN isc.user AS u"
        )
        cond = ["u.name = :user"]
    else:  # pragma: no cover - internal misuse
        raise ValueError(via)
    if write and ds is not None:
        cond.insert(0, f"{ds}.complete = FALSE")
    head = f"SELECT o FROM {entity} o"
    return " ".join(part for part in (head, joins, member, "WHERE " + " AND ".join(cond)) if part)


def _released_what(entity: str) -> str:
    joins, inv, ds = _INVESTIGATION_PATHS[entity]
    cond = [f"{inv}.releaseDate < CURRENT_TIMESTAMP"]
    if ds is not None:
        joins = f"{joins} JOIN {ds}.type AS dst"
        cond.append("dst.name = 'raw'")
    return " ".join(p for p in (f"SELECT o FROM {entity} o", joins, "WHERE " + " AND ".join(cond)) if p)


def jpql_string(value: str) -> str:
    """A JPQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def beamline_group_rules(grouping: str, instrument: str) -> list[RuleSpec]:
    """Rules giving members of ``grouping`` read of every session (investigation) on beamline ``instrument``."""
    rules = []
    for entity in _INVESTIGATION_PATHS:
        joins, inv, _ = _INVESTIGATION_PATHS[entity]
        what = " ".join(
            p
            for p in (
                f"SELECT o FROM {entity} o",
                joins,
                f"JOIN {inv}.investigationInstruments AS ii JOIN ii.instrument AS ins",
                f"WHERE ins.name = {jpql_string(instrument)}",
            )
            if p
        )
        rules.append(RuleSpec("R", what, grouping))
    return rules


def default_rules() -> list[RuleSpec]:
    """The MX default policy (see the module docstring), in a stable order."""
    rules: list[RuleSpec] = [RuleSpec("R", name) for name in PUBLIC_TABLES]
    rules.append(RuleSpec("R", "Grouping <-> UserGroup <-> User [name=:user]"))
    for entity in _INVESTIGATION_PATHS:
        for via in ("user", "grouping", "scientist"):
            rules.append(RuleSpec("R", _member_what(entity, via, write=False)))
    for entity in MEMBER_WRITABLE:
        for via in ("user", "grouping"):
            rules.append(RuleSpec("CUD", _member_what(entity, via, write=True)))
    for entity in RELEASED_READABLE:
        rules.append(RuleSpec("R", _released_what(entity)))
    for entity, joins in CREATOR_OWNED.items():
        owner = "dc" if joins else "o"
        what = f"SELECT o FROM {entity} o {joins}WHERE {owner}.createId = :user"
        rules.append(RuleSpec("CRUD", what))
    # owners manage the membership of their investigation's reader/writer groupings
    rules.append(
        RuleSpec(
            "CRUD",
            "SELECT o FROM UserGroup o JOIN o.grouping AS g JOIN g.investigationGroups AS ig1 "
            "JOIN ig1.investigation AS i JOIN i.investigationGroups AS ig2 JOIN ig2.grouping AS g2 "
            "JOIN g2.userGroups AS ug2 JOIN ug2.user AS u "
            "WHERE u.name = :user AND ig2.role = 'owner' AND ig1.role IN ('reader', 'writer')",
        )
    )
    rules += [RuleSpec("CRU", entity, INGEST) for entity in INGEST_CRU]
    rules += [RuleSpec("R", entity, INGEST) for entity in INGEST_R]
    rules += [RuleSpec("CRUD", entity, USEROFFICE) for entity in USEROFFICE_CRUD]
    return rules


def default_groupings() -> list[str]:
    """Groupings the default policy refers to (created empty)."""
    return sorted({r.grouping for r in default_rules() if r.grouping})


def default_public_steps() -> list[tuple[str, str]]:
    return list(PUBLIC_STEPS)


def policy_entities(
    rules: Iterable[RuleSpec] | None = None, steps: Iterable[tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The policy as ICAT REST JSON entities, postable as they are to ``POST /icat/entityManager``.

    Rules of a grouping are nested in their Grouping (``{"Grouping": {"name", "rules": [...]}}``, a 1:N
    cascade create), rules for everyone are top-level ``{"Rule": ...}``, then the PublicSteps.
    """
    rules = default_rules() if rules is None else list(rules)
    steps = default_public_steps() if steps is None else list(steps)
    grouped: dict[str, list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for rule in rules:
        if rule.grouping:
            grouped.setdefault(rule.grouping, []).append(rule.as_icat())
        else:
            out.append({"Rule": rule.as_icat()})
    out = [{"Grouping": {"name": g, "rules": r}} for g, r in sorted(grouped.items())] + out
    out += [{"PublicStep": {"origin": o, "field": f}} for o, f in steps]
    return out


def _qp(value: str) -> str:
    """python-icat's ``simpleqp_quote``: UTF-8 bytes outside ``[0-9A-Za-z]`` as ``=XX``."""
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"={b:02X}" for b in value.encode())


def policy_dump_yaml(
    rules: Iterable[RuleSpec] | None = None,
    steps: Iterable[tuple[str, str]] | None = None,
    *,
    date: str = "",
) -> str:
    """The policy as one chunk of a python-icat dump file (YAML), for ``icatingest`` on a real ICAT."""
    import yaml

    rules = default_rules() if rules is None else list(rules)
    steps = default_public_steps() if steps is None else list(steps)
    groupings = sorted({r.grouping for r in rules if r.grouping})
    chunk: dict[str, Any] = {
        "grouping": {f"Grouping_name-{_qp(g)}": {"name": g} for g in groupings},
        "rule": {},
        "publicStep": {
            f"PublicStep_origin-{_qp(o)}_field-{_qp(f)}": {"field": f, "origin": o} for o, f in steps
        },
    }
    for n, rule in enumerate(rules, start=1):
        body: dict[str, Any] = rule.as_icat()
        if rule.grouping:
            body["grouping"] = f"Grouping_name-{_qp(rule.grouping)}"
        chunk["rule"][f"Rule_{n:08d}"] = body
    head = "%YAML 1.1\n"
    if date:
        head += f"# Date: {date}\n"
    head += "# ICAT-API: 5.0.1\n# Generator: mxicat rules export\n"
    return head + "---\n" + yaml.safe_dump(chunk, sort_keys=True, default_flow_style=False, width=4096)


def install_policy(
    catalogue: Any,
    rules: Iterable[RuleSpec] | None = None,
    steps: Iterable[tuple[str, str]] | None = None,
) -> dict[str, int]:
    """Install rules, their groupings and public steps through a :class:`~mxicat.catalogue.base.Catalogue`
    session (embedded or a real ICAT; needs root or useroffice-like rights). Idempotent: existing groupings
    are reused, identical rules and existing public steps are skipped. Returns counts of what was created.
    """
    rules = default_rules() if rules is None else list(rules)
    steps = default_public_steps() if steps is None else list(steps)

    def unwrap(objs: list[Any], name: str) -> list[dict[str, Any]]:
        return [o[name] if isinstance(o, dict) and name in o else o for o in objs]

    groups = {g["name"]: g["id"] for g in unwrap(catalogue.search("SELECT g FROM Grouping g"), "Grouping")}
    existing = {
        (r["crudFlags"], r["what"], (r.get("grouping") or {}).get("name"))
        for r in unwrap(catalogue.search("SELECT r FROM Rule r INCLUDE r.grouping"), "Rule")
    }
    have_steps = {
        (p["origin"], p["field"]) for p in unwrap(catalogue.search("SELECT p FROM PublicStep p"), "PublicStep")
    }
    created = {"Grouping": 0, "Rule": 0, "PublicStep": 0}
    todo: list[dict[str, Any]] = []
    new_groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        if (rule.crud_flags, rule.what, rule.grouping) in existing:
            continue
        body = rule.as_icat()
        if rule.grouping and rule.grouping not in groups:
            new_groups.setdefault(rule.grouping, []).append(body)
            continue
        if rule.grouping:
            body["grouping"] = {"id": groups[rule.grouping]}
        todo.append({"Rule": body})
    for name, nested in sorted(new_groups.items()):
        todo.insert(0, {"Grouping": {"name": name, "rules": nested}})
        created["Grouping"] += 1
    created["Rule"] = sum(len(v) for v in new_groups.values()) + sum("Rule" in o for o in todo)
    for origin, fld in steps:
        if (origin, fld) not in have_steps:
            todo.append({"PublicStep": {"origin": origin, "field": fld}})
            created["PublicStep"] += 1
    if todo:
        catalogue.create_many(todo)
    return created
