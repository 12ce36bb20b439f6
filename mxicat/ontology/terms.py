"""Frozen ontology records: :class:`Term` (one metadata quantity) and :class:`Resolved` (a name looked up).

A term is data read from the YAML in ``ontology/``; nothing here knows about files or units libraries.
Per-shell merging statistics (``shells`` non-empty) are one term with three keys: ``r_merge`` (overall),
``r_merge_inner`` and ``r_merge_outer``; their ICAT names come from a ``{shell}`` template such as
``MXAutoprocIntegrationScaling_{shell}_r_merge``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

ValueType: TypeAlias = Literal["float", "int", "str", "datetime", "bool", "enum"]
Shell: TypeAlias = Literal["overall", "inner", "outer"]

#: the value types a term may declare
VALUE_TYPES: tuple[str, ...] = ("float", "int", "str", "datetime", "bool", "enum")
#: merging-statistics shells, in ICAT/ESRF spelling (ISPyB ``scalingStatisticsType`` without "Shell")
SHELLS: tuple[str, ...] = ("overall", "inner", "outer")
#: ICAT parent entities a parameter can hang on (``ParameterType.applicableTo*``)
APPLIES_TO: tuple[str, ...] = ("investigation", "dataset", "datafile", "sample", "datacollection")
#: raw (collection) or processed (results) record; "both" for terms every dataset carries (sample name,
#: start/end dates, technique, software)
RECORDS: tuple[str, ...] = ("raw", "processed", "both")
#: placeholder in per-shell ICAT names and aliases
SHELL_PLACEHOLDER = "{shell}"


@dataclass(frozen=True, slots=True)
class Term:
    """One ontology term: a named quantity with its unit and its names in PDBx, NXmx and ICAT.

    ``unit`` is the canonical (stored) unit as a pint-parsable string, ``""`` for dimensionless or unitless
    values. ``minimum``/``maximum`` are inclusive and in the canonical unit. ``fraction`` marks
    dimensionless ratios stored as fractions (R factors) whose producers sometimes write percent.
    For per-shell terms ``icat_name`` is the overall-shell name; :meth:`icat_name_for` gives the others.
    """

    name: str
    description: str
    type: ValueType
    unit: str = ""
    mmcif: tuple[str, ...] = ()
    nxmx: tuple[str, ...] = ()
    icat_name: str = ""
    aliases: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ("dataset",)
    techniques: tuple[str, ...] = ("MX",)
    record: Literal["raw", "processed", "both"] = "raw"
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] = ()
    iri: str = ""
    shells: tuple[str, ...] = ()
    fraction: bool = False
    theme: str = ""
    icat_template: str = field(default="", repr=False)
    source: str = field(default="", compare=False, repr=False)

    @property
    def numeric(self) -> bool:
        """True for float and int terms (ICAT ``NUMERIC`` parameters)."""
        return self.type in ("float", "int")

    def in_record(self, record: str) -> bool:
        """True when the term belongs to ``record`` ("raw" or "processed"; "both" terms belong to each)."""
        return self.record in (record, "both")

    @property
    def per_shell(self) -> bool:
        """True when the term has overall/inner/outer values."""
        return bool(self.shells)

    @property
    def icat_label(self) -> str:
        """ICAT name for display: ``MXAutoprocIntegrationScaling_{overall,inner,outer}_r_merge`` per shell."""
        if not self.shells:
            return self.icat_name
        return self.icat_template.replace(SHELL_PLACEHOLDER, "{" + ",".join(self.shells) + "}")

    def icat_name_for(self, shell: str | None = None) -> str:
        """ICAT ParameterType name of this term for ``shell`` (None or ``"overall"`` → the overall name).

        Raises:
            ValueError: ``shell`` is given for a term that is not per-shell, or is not one of its shells.
        """
        if not self.shells:
            if shell not in (None, "overall"):
                raise ValueError(f"term {self.name!r} has no shells (asked for {shell!r})")
            return self.icat_name
        shell = shell or "overall"
        if shell not in self.shells:
            raise ValueError(f"term {self.name!r} has no shell {shell!r} (shells: {', '.join(self.shells)})")
        return self.icat_template.replace(SHELL_PLACEHOLDER, shell)

    def key_for(self, shell: str | None = None) -> str:
        """Canonical metadata key: ``name`` for overall/no shell, ``name_inner`` / ``name_outer`` otherwise."""
        if shell in (None, "overall"):
            if shell == "overall" and not self.shells:
                raise ValueError(f"term {self.name!r} has no shells")
            return self.name
        if shell not in self.shells:
            raise ValueError(f"term {self.name!r} has no shell {shell!r}")
        return f"{self.name}_{shell}"

    def names(self) -> list[tuple[str, str | None]]:
        """Every (name, shell) the term is found under: keys, ICAT names and aliases (templates expanded).

        A per-shell term's plain name and plain aliases mean the overall shell; ``<name>_overall`` too.
        """
        if not self.shells:
            return [(self.name, None), (self.icat_name, None), *((a, None) for a in self.aliases)]
        pairs: list[tuple[str, str | None]] = []
        for shell in self.shells:
            pairs.append((self.key_for(shell), shell))
            pairs.append((self.icat_name_for(shell), shell))
            pairs.extend((a.replace(SHELL_PLACEHOLDER, shell), shell)
                         for a in self.aliases if SHELL_PLACEHOLDER in a)
        pairs.append((f"{self.name}_overall", "overall"))
        pairs.extend((a, "overall") for a in self.aliases if SHELL_PLACEHOLDER not in a)
        return pairs

    def expanded_aliases(self) -> tuple[str, ...]:
        """The aliases with ``{shell}`` templates expanded for each shell."""
        out: list[str] = []
        for alias in self.aliases:
            if SHELL_PLACEHOLDER in alias:
                out.extend(alias.replace(SHELL_PLACEHOLDER, s) for s in self.shells)
            else:
                out.append(alias)
        return tuple(out)

    def keys(self) -> tuple[str, ...]:
        """Every canonical key of the term (one, or one per shell)."""
        if not self.shells:
            return (self.name,)
        return tuple(self.key_for(s) for s in self.shells)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A name looked up in the ontology: the term, the shell (per-shell terms) and the canonical key."""

    term: Term
    shell: str | None
    key: str

    @property
    def icat_name(self) -> str:
        """ICAT ParameterType name for this term and shell."""
        return self.term.icat_name_for(self.shell)
