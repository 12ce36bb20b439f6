"""The loaded ontology: terms indexed by every name they are known under.

Lookups accept canonical keys (``r_merge``, ``r_merge_outer``), ICAT names
(``MXAutoprocIntegrationScaling_outer_r_merge``) and aliases (``MX_oscillationStart``). An exact match
wins; otherwise a case-insensitive match is used when it is unambiguous (producers vary ``ccAno`` /
``ccano``). mmCIF items are matched case-insensitively (CIF tags are); NXmx paths are relative to the
NXentry (a leading ``/entry/``, ``/entry1/`` or ``NXentry`` is ignored, NX class names stand for the
conventional group names, ``<module>`` in the YAML matches any group).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from mxicat.errors import BadParameterError, UnitConversionWarning
from mxicat.ontology.terms import Resolved, Term


class Ontology:
    """Immutable set of terms with name, mmCIF and NXmx indexes."""

    def __init__(self, terms: Iterable[Term], *, source: str = "",
                 themes: Mapping[str, str] | None = None) -> None:
        ordered = {t.name: t for t in terms}
        self.terms: Mapping[str, Term] = MappingProxyType(ordered)
        self.source = source
        #: theme name → description (one theme per YAML file)
        self.theme_descriptions: Mapping[str, str] = MappingProxyType(dict(themes or {}))
        self._names: dict[str, Resolved] = {}
        folded: dict[str, list[Resolved]] = {}
        self._mmcif: dict[str, Term] = {}
        nxmx: list[tuple[re.Pattern[str], Term]] = []
        for term in ordered.values():
            for name, shell in term.names():
                resolved = Resolved(term, shell, term.key_for(shell) if term.shells else term.name)
                self._names.setdefault(name, resolved)
                folded.setdefault(name.casefold(), []).append(resolved)
            for item in term.mmcif:
                self._mmcif.setdefault(item.casefold(), term)
            for path in term.nxmx:
                nxmx.append((_nxmx_pattern(path), term))
        self._folded = {k: v[0] for k, v in folded.items() if len({(r.term.name, r.shell) for r in v}) == 1}
        # most specific first: 'sample/transformations/kappa' before 'sample/transformations/<axis>'
        nxmx.sort(key=lambda item: -len(item[0].pattern.replace("[^/]+", "")))
        self._nxmx = nxmx

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def __repr__(self) -> str:
        return f"Ontology({len(self.terms)} terms from {self.source or 'memory'})"

    def resolve(self, name: str) -> Resolved | None:
        """Term, shell and canonical key meant by ``name``, or None when it is no known name."""
        name = name.strip()
        found = self._names.get(name)
        if found is None:
            found = self._folded.get(name.casefold())
        return found

    def term(self, name: str) -> Term:
        """The term called ``name`` (canonical key, ICAT name or alias).

        Raises:
            BadParameterError: the name is unknown.
        """
        found = self.resolve(name)
        if found is None:
            raise BadParameterError(f"unknown ontology term {name!r}")
        return found.term

    def key(self, term_name: str, shell: str | None = None) -> str:
        """Canonical metadata key of a term and shell (``r_merge`` + ``outer`` → ``r_merge_outer``).

        Raises:
            BadParameterError: unknown term, or a shell the term does not have.
        """
        term = self.term(term_name)
        try:
            return term.key_for(shell)
        except ValueError as err:
            raise BadParameterError(str(err)) from err

    def by_mmcif(self, item: str) -> Term | None:
        """Term of a PDBx/mmCIF item such as ``_reflns.d_resolution_high`` (case-insensitive)."""
        return self._mmcif.get(item.strip().casefold())

    def by_nxmx(self, path: str) -> Term | None:
        """Term of an NXmx path relative to the NXentry (``instrument/beam/incident_wavelength``).

        Groups may be given by name or by NX class (``/NXentry/NXinstrument/NXdetector/count_time``):
        real files name them freely (``entry1``, ``pil100k``), so callers that locate groups by
        ``@NX_class`` pass the class path.
        """
        relative = _relative_nxmx(path)
        for pattern, term in self._nxmx:
            if pattern.match(relative):
                return term
        return None

    def convert(self, name_or_term: str | Term, value: Any, unit: str | None = None) -> Any:
        """``value`` in the canonical unit/type of the term (pint for units; strings are parsed).

        Raises:
            BadParameterError: unknown term, or a value that cannot be converted (with the reason).
        """
        from mxicat.ontology.values import coerce

        term = name_or_term if isinstance(name_or_term, Term) else self.term(name_or_term)
        try:
            result, notes = coerce(term, value, unit)
        except ValueError as err:
            raise BadParameterError(f"{term.name}: {err}") from err
        for note in notes:
            warnings.warn(note, UnitConversionWarning, stacklevel=2)
        return result

    def for_technique(self, technique: str | None) -> list[Term]:
        """Terms used by ``technique`` (case-insensitive), or every term for None."""
        if not technique:
            return list(self.terms.values())
        wanted = technique.casefold()
        return [t for t in self.terms.values() if wanted in (x.casefold() for x in t.techniques)]


def _relative_nxmx(path: str) -> str:
    """Path relative to the NXentry, NX class names as group names (``NXdetector`` → ``detector``)."""
    parts = [p[2:] if p.startswith("NX") else p for p in path.strip().split("/") if p]
    while parts and re.fullmatch(r"(sub)?entry\d*", parts[0]):
        parts = parts[1:]
    return "/".join(parts)


def _nxmx_pattern(path: str) -> re.Pattern[str]:
    relative = _relative_nxmx(path)
    pieces = re.split(r"(<[^>]+>)", relative)
    regex = "".join("[^/]+" if p.startswith("<") else re.escape(p) for p in pieces)
    return re.compile(rf"^{regex}$")
