"""Check mmCIF text against PDBx DDL2 dictionaries (or extension dictionaries) with gemmi.

gemmi's :class:`gemmi.cif.Ddl` checks enumerations, ranges and numbers. Extension dictionaries
(``xfel-extensions-v3.dic``, ``xfel2-extension.dic``, ``diffrn-data-set-extension-v2.dic``) define only their
own items and lack the ``_item_type_list`` of the base dictionary, so two checks are added here: every item
written in a category the dictionaries define must be defined (a misspelt item would otherwise pass), and
``int`` items must hold integers. Problems in categories the dictionaries do not cover are not reported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mxicat.errors import BadParameterError

__all__ = ["PdbxDictionary", "check_mmcif", "load_dictionaries"]

#: gemmi messages that are about the dictionaries' scope, not the document: extensions do not carry the
#: base type list, and categories they do not define are outside what they can check
_DICTIONARY_NOISE = re.compile(r"^(Bad DDL2: .* has undefined type|\[[^]]*\] category not in the dictionary)")
_INT = re.compile(r"^[+-]?[0-9]+$")


@dataclass
class PdbxDictionary:
    """Items, categories and types of one or more DDL2 dictionaries, plus gemmi's validator."""

    items: dict[str, str] = field(default_factory=dict)  # lower-cased item → _item_type.code
    categories: set[str] = field(default_factory=set)  # lower-cased category names ("_reflns")
    enumerations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ddl: Any = None
    names: list[str] = field(default_factory=list)

    def item_type(self, item: str) -> str | None:
        return self.items.get(item.lower())


def load_dictionaries(paths: Iterable[str | os.PathLike[str]]) -> PdbxDictionary:
    """Read DDL2 dictionaries (``.dic``) into one :class:`PdbxDictionary`.

    Raises:
        BadParameterError: a file cannot be read or is not a DDL2 dictionary.
    """
    import gemmi

    result = PdbxDictionary()
    messages: list[str] = []
    result.ddl = gemmi.cif.Ddl(logger=messages.append, print_unknown_tags=False)
    for path in paths:
        try:
            doc = gemmi.cif.read(str(path))
        except (OSError, RuntimeError, ValueError) as err:
            raise BadParameterError(f"{path}: cannot read dictionary: {err}") from err
        block = doc.sole_block()
        frames = [item.frame for item in block if item.frame is not None]
        if not frames:
            raise BadParameterError(f"{path}: not a DDL2 dictionary (no save frames)")
        result.ddl.read_ddl(doc)
        result.names.append(block.name)
        for frame in frames:
            category = frame.find_value("_category.id")
            if category is not None:
                result.categories.add("_" + gemmi.cif.as_string(category).lower())
            names = [gemmi.cif.as_string(n) for n in frame.find_values("_item.name")]
            kind = frame.find_value("_item_type.code")
            enum = tuple(gemmi.cif.as_string(v) for v in frame.find_values("_item_enumeration.value"))
            for name in names:
                result.items[name.lower()] = gemmi.cif.as_string(kind) if kind else ""
                if enum:
                    result.enumerations[name.lower()] = enum
    return result


def check_mmcif(text_or_doc: Any, dictionary: PdbxDictionary) -> list[str]:
    """Problems of an mmCIF document against ``dictionary`` (empty list = valid where it applies).

    Each problem names the block, item and value. Items outside the dictionaries' categories are ignored.
    """
    import gemmi

    doc = gemmi.cif.read_string(text_or_doc) if isinstance(text_or_doc, str) else text_or_doc
    problems: list[str] = []
    for block in doc:
        for item in block:
            tags: list[tuple[str, list[str]]] = []
            pair: Any = item.pair
            if pair is not None:
                tags.append((pair[0], [pair[1]]))
            elif item.loop is not None:
                loop, width = item.loop, item.loop.width()
                values = list(loop.values)
                tags.extend((tag, values[c::width]) for c, tag in enumerate(loop.tags))
            for tag, values in tags:
                problems.extend(_check_tag(block.name, tag, values, dictionary))
    messages: list[str] = []
    dictionary.ddl.set_logger(messages.append)
    dictionary.ddl.validate_cif(doc)
    problems.extend(m for m in messages if not _DICTIONARY_NOISE.match(m))
    return problems


def _check_tag(block: str, tag: str, values: list[str], dictionary: PdbxDictionary) -> list[str]:
    category = tag.split(".", 1)[0].lower()
    if category not in dictionary.categories:
        return []
    kind = dictionary.item_type(tag)
    if kind is None:
        return [f"[{block}] {tag} is not defined in {', '.join(dictionary.names)}"]
    if kind != "int":
        return []
    return [f"[{block}] {tag} = {v!r} is not an integer" for v in values
            if v not in ("?", ".") and not _INT.match(v)]
