"""Read and check the ontology YAML (``ontology/*.yaml``) into frozen :class:`~mxicat.ontology.terms.Term`.

Each file holds one theme::

    theme: detector
    order: 20                      # position of the theme in Ontology.terms and the docs
    description: What the file covers.
    defaults: {applies_to: [dataset], techniques: [MX, SSX], record: raw}  # also shells, iri
    terms:
      - name: detector_distance
        description: Sample to detector distance along the beam.
        type: float
        unit: mm
        ...

Every problem in every file is collected and reported at once as ``file:line: reason`` (line numbers
from the YAML node marks); a malformed ontology raises :class:`OntologyFileError`. The default
ontology is the packaged copy (``mxicat/ontology/yaml`` in an installed wheel), falling back to the
repository's ``ontology/`` folder in a source checkout; it is loaded once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mxicat.errors import ConfigurationError
from mxicat.ontology.terms import APPLIES_TO, RECORDS, SHELL_PLACEHOLDER, SHELLS, VALUE_TYPES, Term
from mxicat.ontology.vocabulary import Ontology

TERM_FIELDS: frozenset[str] = frozenset({
    "name", "description", "type", "unit", "mmcif", "nxmx", "icat_name", "aliases", "applies_to",
    "techniques", "record", "minimum", "maximum", "allowed", "iri", "shells", "fraction",
})
DEFAULT_FIELDS: frozenset[str] = frozenset({"applies_to", "techniques", "record", "shells", "iri"})
FILE_FIELDS: frozenset[str] = frozenset({"theme", "description", "order", "defaults", "terms"})
REQUIRED_FIELDS: tuple[str, ...] = ("name", "description", "type", "icat_name")
#: used when neither the term nor the file's ``defaults`` say otherwise
BUILTIN_DEFAULTS: dict[str, Any] = {"applies_to": ["dataset"], "techniques": ["MX"], "record": "raw"}
LIST_FIELDS: frozenset[str] = frozenset({
    "mmcif", "nxmx", "aliases", "applies_to", "techniques", "allowed", "shells",
})

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ICAT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\{shell\}[A-Za-z0-9_]*)?$")
_MMCIF = re.compile(r"^_[A-Za-z0-9_]+\.[A-Za-z0-9_\-\[\]/]+$")
_TECHNIQUE = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*$")


class OntologyFileError(ConfigurationError):
    """The ontology YAML is malformed; ``problems`` lists every ``file:line: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"{len(problems)} problem(s) in the ontology: " if len(problems) > 1 else "ontology: "
        super().__init__(head + "; ".join(problems))


class _LineMap(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader whose mappings are :class:`_LineMap`."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _LineMap:
    loader.flatten_mapping(node)
    result = _LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def default_ontology_path() -> Path:
    """Folder of the default ontology: the packaged copy, else the source checkout's ``ontology/``.

    Raises:
        ConfigurationError: neither exists (a broken installation).
    """
    packaged = resources.files("mxicat.ontology") / "yaml"
    if packaged.is_dir() and any(p.name.endswith(".yaml") for p in packaged.iterdir()):
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "ontology"
    if checkout.is_dir():
        return checkout
    raise ConfigurationError(f"no ontology YAML found (looked in {packaged} and {checkout})")


def ontology_files(path: Path) -> list[Path]:
    """The YAML files of an ontology folder (sorted), or ``[path]`` for a single file.

    Raises:
        ConfigurationError: the path does not exist or holds no YAML file.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigurationError(f"ontology path not found: {path}")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ConfigurationError(f"no *.yaml ontology files in {path}")
    return files


@cache
def _default_ontology() -> Ontology:
    return read_ontology(default_ontology_path())


def load_ontology(path: str | Path | None = None) -> Ontology:
    """The ontology: the cached default (packaged YAML) or the one at ``path`` (folder or file).

    Raises:
        OntologyFileError: a YAML file is malformed (every problem with file and line).
        ConfigurationError: the path holds no ontology.
    """
    if path is None:
        return _default_ontology()
    return read_ontology(Path(path))


def read_ontology(path: Path) -> Ontology:
    """Read, check and index the ontology at ``path`` (no caching).

    Raises:
        OntologyFileError: every problem found, each as ``file:line: reason``.
    """
    problems: list[str] = []
    themes: dict[str, str] = {}
    parts: list[tuple[float, str, list[Term]]] = []
    for file in ontology_files(path):
        order, terms_of_file = _read_file(file, problems, themes)
        parts.append((order, file.name, terms_of_file))
    # themes in their declared 'order' (then by file name): the order of Ontology.terms and the docs
    terms = [t for _, _, chunk in sorted(parts, key=lambda p: (p[0], p[1])) for t in chunk]
    _check_names_unique(terms, problems)
    if problems:
        raise OntologyFileError(problems)
    themes = {t.theme: themes[t.theme] for t in terms if t.theme in themes}
    return Ontology(terms, source=str(path), themes=themes)


def _read_file(file: Path, problems: list[str], themes: dict[str, str]) -> tuple[float, list[Term]]:
    """(order, terms) of one YAML file; problems are appended, never raised."""
    last = float("inf")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        problems.append(f"{file}: cannot read: {err}")
        return last, []
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        reason = " ".join(x for x in (err.context, err.problem) if x)
        problems.append(f"{file}:{line}: invalid YAML: {reason}")
        return last, []
    except yaml.YAMLError as err:
        problems.append(f"{file}: invalid YAML: {err}")
        return last, []
    if not isinstance(document, _LineMap):
        problems.append(f"{file}:1: expected a mapping with 'theme' and 'terms'")
        return last, []
    where = f"{file}:{document.line}"
    for key in document:
        if key not in FILE_FIELDS:
            problems.append(f"{file}:{document.key_lines[key]}: unknown top-level key {key!r} "
                            f"(allowed: {', '.join(sorted(FILE_FIELDS))})")
    theme = document.get("theme", file.stem)
    if not isinstance(theme, str) or not theme.strip():
        problems.append(f"{file}:{document.key_lines.get('theme', document.line)}: 'theme' must be text")
        theme = file.stem
    if theme in themes:
        problems.append(f"{file}:{document.key_lines.get('theme', document.line)}: theme {theme!r} is "
                        "already used by another file")
    themes[theme] = " ".join(str(document.get("description") or "").split())
    order = document.get("order", last)
    if isinstance(order, bool) or not isinstance(order, int | float):
        problems.append(f"{file}:{document.key_lines.get('order', document.line)}: 'order' must be a number")
        order = last
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        problems.append(f"{where}: 'defaults' must be a mapping")
        defaults = {}
    for key in defaults:
        if key not in DEFAULT_FIELDS:
            line = getattr(defaults, "key_lines", {}).get(key, document.line)
            problems.append(f"{file}:{line}: 'defaults' may only set {', '.join(sorted(DEFAULT_FIELDS))}, "
                            f"not {key!r}")
    entries = document.get("terms")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{where}: 'terms' must be a non-empty list")
        return float(order), []
    terms: list[Term] = []
    for entry in entries:
        if not isinstance(entry, _LineMap):
            problems.append(f"{where}: each term must be a mapping, got {entry!r}")
            continue
        term = _build_term(entry, dict(defaults), str(theme), file, problems)
        if term is not None:
            terms.append(term)
    return float(order), terms


def _build_term(entry: _LineMap, defaults: dict[str, Any], theme: str, file: Path,
                problems: list[str]) -> Term | None:
    """One term from its YAML mapping; appends a problem per bad field and returns None if any."""
    name = entry.get("name", "?")
    before = len(problems)

    def bad(field: str, reason: str) -> None:
        line = entry.key_lines.get(field, entry.line)
        problems.append(f"{file}:{line}: term {name!r}: {reason}")

    for key in entry:
        if key not in TERM_FIELDS:
            bad(key, f"unknown field {key!r}")
    missing = [key for key in REQUIRED_FIELDS if key not in entry or entry[key] in (None, "")]
    for key in missing:
        bad(key, f"missing required field {key!r}")
    if missing:
        return None
    data: dict[str, Any] = {**BUILTIN_DEFAULTS, **defaults, **entry}
    for key in LIST_FIELDS:
        value = data.get(key)
        if value is None:
            data[key] = []
        elif isinstance(value, str | int | float):
            data[key] = [value]
        elif not isinstance(value, list):
            bad(key, f"{key} must be a list")
            data[key] = []
    for key in ("aliases", "mmcif", "nxmx", "techniques", "applies_to", "shells", "allowed"):
        items = data[key]
        if any(not isinstance(x, str) or not x.strip() for x in items):
            bad(key, f"{key} entries must be non-empty strings")
        data[key] = [str(x).strip() for x in items]
    if not isinstance(name, str) or not _NAME.match(name):
        bad("name", f"name must be snake_case ([a-z][a-z0-9_]*), got {name!r}")
    if not isinstance(data["description"], str):
        bad("description", "description must be text")
    value_type = data["type"]
    if value_type not in VALUE_TYPES:
        bad("type", f"type must be one of {', '.join(VALUE_TYPES)}, got {value_type!r}")
    unit = data.get("unit")
    unit = "" if unit is None else str(unit).strip()
    _check_unit(unit, value_type, bad)
    if value_type == "enum" and not data["allowed"]:
        bad("allowed", "an enum term needs a non-empty 'allowed' list")
    if data["allowed"] and value_type not in ("enum",):
        bad("allowed", "'allowed' values are only for enum terms")
    icat_name = str(data["icat_name"]).strip()
    shells = data["shells"]
    for shell in shells:
        if shell not in SHELLS:
            bad("shells", f"unknown shell {shell!r} (allowed: {', '.join(SHELLS)})")
    if not _ICAT_NAME.match(icat_name):
        bad("icat_name", f"ICAT name must be letters, digits and '_' (optionally one {{shell}}): "
                         f"{icat_name!r}")
    if shells and SHELL_PLACEHOLDER not in icat_name:
        bad("icat_name", f"a per-shell term needs {SHELL_PLACEHOLDER} in its ICAT name, got {icat_name!r}")
    if not shells and SHELL_PLACEHOLDER in icat_name:
        bad("icat_name", f"{SHELL_PLACEHOLDER} in the ICAT name of a term without 'shells'")
    for alias in data["aliases"]:
        if SHELL_PLACEHOLDER in alias and not shells:
            bad("aliases", f"alias {alias!r} uses {SHELL_PLACEHOLDER} but the term has no shells")
    for item in data["mmcif"]:
        if not _MMCIF.match(item):
            bad("mmcif", f"mmCIF item must look like _category.item, got {item!r}")
    for where in data["applies_to"]:
        if where not in APPLIES_TO:
            bad("applies_to", f"unknown entity {where!r} (allowed: {', '.join(APPLIES_TO)})")
    if not data["applies_to"]:
        bad("applies_to", "applies_to must name at least one entity")
    if not data["techniques"]:
        bad("techniques", "techniques must name at least one technique")
    for technique in data["techniques"]:
        if not _TECHNIQUE.match(technique):
            bad("techniques", f"bad technique name {technique!r}")
    if data.get("record") not in RECORDS:
        bad("record", f"record must be one of {', '.join(RECORDS)}, got {data.get('record')!r}")
    bounds: dict[str, float | None] = {}
    for key in ("minimum", "maximum"):
        value = data.get(key)
        if value is None:
            bounds[key] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            bad(key, f"{key} must be a number, got {value!r}")
            bounds[key] = None
        elif value_type not in ("float", "int"):
            bad(key, f"{key} only applies to numeric terms")
            bounds[key] = None
        else:
            bounds[key] = float(value)
    low, high = bounds["minimum"], bounds["maximum"]
    if low is not None and high is not None and low > high:
        bad("minimum", f"minimum {low} is greater than maximum {high}")
    fraction = data.get("fraction", False)
    if not isinstance(fraction, bool):
        bad("fraction", "fraction must be true or false")
    elif fraction and (unit or value_type != "float"):
        bad("fraction", "fraction: true is for dimensionless float terms (unit '')")
    iri = data.get("iri") or ""
    if iri and not re.match(r"^https?://\S+$", str(iri)):
        bad("iri", f"iri must be an http(s) IRI, got {iri!r}")
    if len(problems) > before:
        return None
    template = icat_name if shells else ""
    return Term(
        name=name,
        description=" ".join(str(data["description"]).split()),
        type=value_type,
        unit=unit,
        mmcif=tuple(data["mmcif"]),
        nxmx=tuple(data["nxmx"]),
        icat_name=icat_name.replace(SHELL_PLACEHOLDER, "overall") if shells else icat_name,
        aliases=tuple(data["aliases"]),
        applies_to=tuple(data["applies_to"]),
        techniques=tuple(data["techniques"]),
        record=data["record"],
        minimum=low,
        maximum=high,
        allowed=tuple(data["allowed"]),
        iri=str(iri),
        shells=tuple(shells),
        fraction=bool(fraction),
        theme=theme,
        icat_template=template,
        source=f"{file}:{entry.line}",
    )


def _check_unit(unit: str, value_type: str, bad: Any) -> None:
    if unit and value_type not in ("float", "int"):
        bad("unit", f"only numeric terms have a unit (type {value_type}, unit {unit!r})")
        return
    if not unit:
        return
    from mxicat.ontology.units import parse_unit

    try:
        parse_unit(unit)
    except ValueError as err:
        bad("unit", str(err))


def _check_names_unique(terms: Iterable[Term], problems: list[str]) -> None:
    """Every name (canonical key, ICAT name, alias) must mean exactly one term and shell."""
    seen: dict[str, tuple[str, str | None, str]] = {}
    sources: dict[str, str] = {}
    for term in terms:
        if term.name in sources:
            problems.append(f"{term.source}: term {term.name!r} is already defined at {sources[term.name]}")
            continue
        sources[term.name] = term.source
        for name, shell in term.names():
            owner = seen.get(name)
            if owner is None:
                seen[name] = (term.name, shell, term.source)
            elif owner[:2] != (term.name, shell):
                problems.append(f"{term.source}: term {term.name!r}: name {name!r} already means "
                                f"{owner[0]!r} ({owner[2]})")
        for item in term.mmcif:
            key = "mmcif " + item.lower()
            owner = seen.get(key)
            if owner is None:
                seen[key] = (term.name, None, term.source)
            elif owner[0] != term.name:
                problems.append(f"{term.source}: term {term.name!r}: mmCIF item {item!r} already "
                                f"belongs to {owner[0]!r} ({owner[2]})")

