"""Strict checking of registration metadata: every value the ontology refuses, before anything is written.

The registration functions keep a refused value as an unverified parameter and report it
(``Registration.problems``); a strict caller (``?strict=true`` on the HTTP API) wants the whole request
refused instead, with every bad field named at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mxicat.errors import InvalidRequestError

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue


def metadata_problems(mx: MxCatalogue, metadata: Mapping[str, Any], *, record: str | None,
                      units: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """``[{"key", "value", "reason"}]`` for every value of ``metadata`` the ontology refuses."""
    from mxicat.ontology import validate

    result = validate(dict(metadata), record=record, ontology=mx.ontology, units=units, warn=False)
    return [{"key": p.key, "value": p.value, "reason": p.reason} for p in result.problems]


def require_valid(mx: MxCatalogue, metadata: Mapping[str, Any], *, record: str | None,
                  units: Mapping[str, str] | None = None, location: tuple[str, ...] = ("metadata",)) -> None:
    """Raise :class:`InvalidRequestError` listing every refused value (nothing is written).

    Raises:
        InvalidRequestError: one ``errors`` entry per bad field, ``loc`` = ``location + (key,)``.
    """
    problems = metadata_problems(mx, metadata, record=record, units=units)
    if problems:
        errors = [{"loc": [*location, p["key"]], "msg": p["reason"], "type": "value_error",
                   "input": p["value"]} for p in problems]
        names = ", ".join(p["key"] for p in problems)
        raise InvalidRequestError(f"{len(problems)} invalid metadata value(s): {names}", errors)
