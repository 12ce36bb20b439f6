"""The MX/SSX ontology: YAML terms aligned to PDBx/mmCIF items, NXmx paths and ICAT parameter names.

Example::

    from mxicat.ontology import load_ontology, validate, to_icat
    ont = load_ontology()
    ont.term("MX_oscillationStart").name          # 'oscillation_start'
    result = validate({"MX_wavelength": "0.98", "MXAutoprocIntegrationScaling_outer_r_merge": "7.1%"})
    result.values                                  # {'wavelength': 0.98, 'r_merge_outer': 0.071}
    to_icat(result.values)

``ureg`` (the shared pint registry) is built on first access.
"""

from __future__ import annotations

from typing import Any

from mxicat.ontology.icat import from_icat, parameter_types, to_icat
from mxicat.ontology.loader import OntologyFileError, load_ontology
from mxicat.ontology.terms import SHELLS, Resolved, Term
from mxicat.ontology.validate import Problem, ValidationResult, validate
from mxicat.ontology.vocabulary import Ontology

__all__ = [
    "SHELLS",
    "Ontology",
    "OntologyFileError",
    "Problem",
    "Resolved",
    "Term",
    "ValidationResult",
    "from_icat",
    "load_ontology",
    "parameter_types",
    "to_icat",
    "ureg",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name == "ureg":
        from mxicat.ontology.units import get_registry

        return get_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
