"""Exports of the ontology: JSON records, ICAT ParameterTypes and the generated ``docs/ontology.md``.

Regenerate the documentation with either of::

    mxicat ontology export --format markdown > docs/ontology.md
    python -m mxicat.ontology.export markdown > docs/ontology.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from mxicat.ontology.icat import parameter_types
from mxicat.ontology.terms import Term
from mxicat.ontology.vocabulary import Ontology

#: keys of one element of ``export --format json``, in this order
JSON_KEYS: tuple[str, ...] = ("name", "description", "type", "unit", "mmcif", "nxmx", "icat_name",
                              "aliases", "applies_to", "techniques", "record")
FORMATS: tuple[str, ...] = ("json", "icat", "markdown")


def term_record(term: Term) -> dict[str, Any]:
    """One term as a JSON-able dict with exactly :data:`JSON_KEYS` (aliases with shells expanded)."""
    return {
        "name": term.name,
        "description": term.description,
        "type": term.type,
        "unit": term.unit,
        "mmcif": list(term.mmcif),
        "nxmx": list(term.nxmx),
        "icat_name": term.icat_name,
        "aliases": list(term.expanded_aliases()),
        "applies_to": list(term.applies_to),
        "techniques": list(term.techniques),
        "record": term.record,
    }


def as_json(ontology: Ontology, terms: Iterable[Term] | None = None) -> str:
    """The terms as one JSON array of :func:`term_record` objects."""
    chosen = ontology.terms.values() if terms is None else terms
    return json.dumps([term_record(t) for t in chosen], indent=2, ensure_ascii=False)


def as_icat(ontology: Ontology) -> str:
    """ICAT ParameterType definitions as one JSON array."""
    return json.dumps(parameter_types(ontology), indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code_list(items: Iterable[str]) -> str:
    return "<br>".join(f"`{_cell(i)}`" for i in items)


def _range(term: Term) -> str:
    if term.allowed:
        return " \\| ".join(term.allowed)
    if term.type == "bool":
        return "true/false"
    low = "" if term.minimum is None else f"{term.minimum:g}"
    high = "" if term.maximum is None else f"{term.maximum:g}"
    if not low and not high:
        return ""
    if low and high:
        return f"{low} – {high}"
    return f"≥ {low}" if low else f"≤ {high}"


def as_markdown(ontology: Ontology) -> str:
    """``docs/ontology.md``: every term by theme, generated from the YAML (a test checks it is fresh)."""
    themes: dict[str, list[Term]] = {}
    for term in ontology.terms.values():
        themes.setdefault(term.theme, []).append(term)
    n_keys = sum(len(t.keys()) for t in ontology.terms.values())
    lines = [
        "<!-- Generated from ontology/*.yaml by `mxicat ontology export --format markdown`. "
        "Do not edit: a test fails when this file is stale. -->",
        "",
        "# mxicat ontology",
        "",
        f"{len(ontology.terms)} terms ({n_keys} metadata keys counting merging-statistics shells) in "
        f"{len(themes)} themes. Each term maps one quantity between PDBx/mmCIF items, NXmx paths "
        "(relative to the NXentry; `<module>`, `<axis>` stand for any group or axis name; lookups also "
        "accept NX class paths such as `NXinstrument/NXdetector/count_time`) and ICAT "
        "ParameterType names (ESRF `CamelCaseGroup_leaf` convention), with its type and canonical unit.",
        "",
        "Rules:",
        "",
        "- Lookups accept the canonical name, the ICAT name or any alias; an exact match wins, else a "
        "unique case-insensitive one.",
        "- Per-shell terms have three keys: `r_merge` (overall), `r_merge_inner`, `r_merge_outer` "
        "(`r_merge_overall` also means overall); their ICAT names are "
        "`MXAutoprocIntegrationScaling_{overall,inner,outer}_<stat>`.",
        "- Values are converted to the canonical unit with pint when they carry a unit "
        "(`\"12650 eV\"`, a pint quantity, `{\"value\": 0.21, \"unit\": \"m\"}`); a bare number "
        "(ESRF sends strings such as `\"0.98\"`) is taken to be in the canonical unit.",
        "- R factors and correlation coefficients are fractions. A bare number is always a fraction; "
        "a bare value above 1 is kept and raises a `UnitConversionWarning` (no silent rescaling). "
        "Percent values must say so: `\"7.1%\"`, `unit=\"percent\"` or `units={\"r_merge\": \"percent\"}`.",
        "- Wavelength and photon energy are separate terms: E = hc/λ is physics, not a unit conversion.",
        "- Dates are ISO 8601; a UTC offset is kept, a value without one stays naive.",
        "- Record `both` marks terms every dataset carries (raw and processed).",
        "",
    ]
    for theme, terms in themes.items():
        lines += [f"## {theme} ({len(terms)} terms)", ""]
        description = ontology.theme_descriptions.get(theme, "")
        if description:
            lines += [description, ""]
        lines += [
            "| Term | Type | Unit | Range / values | ICAT name | mmCIF | NXmx | Aliases | Record | "
            "Techniques | Applies to | Description |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for t in terms:
            lines.append(" | ".join([
                f"| `{t.name}`", t.type, f"`{t.unit}`" if t.unit else "", _cell(_range(t)),
                f"`{t.icat_label}`", _code_list(t.mmcif), _code_list(t.nxmx), _code_list(t.aliases),
                t.record, ", ".join(t.techniques), ", ".join(t.applies_to),
                _cell(t.description) + (f" IRI: <{t.iri}>" if t.iri else "") + " |",
            ]))
        lines.append("")
    return "\n".join(lines)


def export(ontology: Ontology, fmt: str) -> str:
    """The ontology in ``fmt`` (json, icat or markdown).

    Raises:
        ValueError: unknown format.
    """
    if fmt == "json":
        return as_json(ontology)
    if fmt == "icat":
        return as_icat(ontology)
    if fmt == "markdown":
        return as_markdown(ontology)
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")


def main(argv: list[str] | None = None) -> int:
    """``python -m mxicat.ontology.export [json|icat|markdown]`` (default markdown) to stdout."""
    from mxicat.ontology.loader import load_ontology

    args = sys.argv[1:] if argv is None else argv
    fmt = args[0] if args else "markdown"
    sys.stdout.write(export(load_ontology(), fmt) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
